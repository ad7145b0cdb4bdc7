/**
 * Sends a finished call with a Proprietary CRM's call log template (call-log-template.ts): one
 * request per call, `Idempotency-Key: {external_id}` always sent, and the answer read as the
 * outbox needs it: 2xx written (the id at "Call log id path", a link from "Call log record
 * link"), 409 already written, 429 / 408 / 5xx and lost connections retried, other answers failed.
 */
import type { CallActivity, CallLogResult } from '../call-log-writer';
import { CrmError, errorForStatus } from '../shared/crm-error';
import type { HttpRequest, HttpResponse } from '../shared/http-client';
import { parsePath, readPath, type PathSegment } from '../shared/json-path';
import { parseBodyTemplate, parseHeaderLines, renderBody, renderHeaders, renderUrl, type HeaderLine } from '../shared/request-template';
import { retryAfterMs } from '../shared/vendor-call';
import { DEFAULT_LOG_BODY, logPlaceholderValues } from './call-log-template';
import type { ProprietarySettings } from './settings';

export const LOG_TIMEOUT_MS = 15_000;

export interface CompiledLogRequest {
  method: 'POST' | 'PUT';
  url: string;
  headers: HeaderLine[];
  body: unknown;
  idPath: PathSegment[] | undefined;
  recordUrl: string;
  region: ProprietarySettings['region'];
}

export function compileLogRequest(s: ProprietarySettings): CompiledLogRequest {
  return {
    method: s.logMethod,
    url: s.logUrl,
    headers: parseHeaderLines(s.logHeaders),
    body: parseBodyTemplate(s.logBody.trim() === '' ? DEFAULT_LOG_BODY : s.logBody),
    idPath: s.logIdPath === '' ? undefined : parsePath(s.logIdPath),
    recordUrl: s.logRecordUrl,
    region: s.region,
  };
}

/** The request of one call (no I/O, no authentication): method, URL, headers and body from the template. */
export function logRequestOf(template: CompiledLogRequest, activity: CallActivity): Omit<HttpRequest, 'signal' | 'what'> {
  const values = logPlaceholderValues(activity, template.region);
  return {
    method: template.method,
    url: renderUrl(template.url, [], values),
    headers: { accept: 'application/json', ...renderHeaders(template.headers, values), 'content-type': 'application/json', 'idempotency-key': activity.externalId },
    body: renderBody(template.body, values),
  };
}

export async function writeCall(
  template: CompiledLogRequest,
  activity: CallActivity,
  signal: AbortSignal,
  send: (request: Omit<HttpRequest, 'signal' | 'what'>) => Promise<HttpResponse>,
  label: string,
): Promise<CallLogResult> {
  try {
    const res = await send(logRequestOf(template, activity));
    if (res.status === 409) return { kind: 'written', activityId: activity.externalId };
    if (res.status < 200 || res.status >= 300) {
      const error = errorForStatus(res.status, label, retryAfterMs(res));
      // Retry-After is honoured on 429 and on 503 (RFC 9110: how long the service expects to be unavailable).
      const wait = res.status === 429 || res.status === 503 ? retryAfterMs(res) : undefined;
      return { kind: 'error', code: error.code, message: error.message, retryable: res.status === 429 || res.status === 408 || res.status >= 500, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
    }
    const id = idOf(template, res.body) ?? activity.externalId;
    const link = template.recordUrl === '' ? undefined : template.recordUrl.replace('{id}', encodeURIComponent(id));
    return { kind: 'written', activityId: id, ...(link ? { recordUrl: link } : {}) };
  } catch (err) {
    const error = err instanceof CrmError ? err : new CrmError(signal.aborted ? 'TIMEOUT' : 'BAD_RESPONSE', `${label}: ${(err as Error)?.message ?? String(err)}`);
    return { kind: 'error', code: error.code, message: error.message, retryable: !['CONFIG', 'EGRESS', 'AUTH', 'FORBIDDEN', 'NOT_FOUND_URL'].includes(error.code) };
  }
}

function idOf(template: CompiledLogRequest, body: string): string | undefined {
  if (!template.idPath || body.trim() === '') return undefined;
  try {
    const value = readPath(JSON.parse(body), template.idPath);
    return typeof value === 'string' || typeof value === 'number' ? String(value).slice(0, 191) : undefined;
  } catch {
    return undefined;
  }
}
