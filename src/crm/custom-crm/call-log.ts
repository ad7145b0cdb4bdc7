/**
 * The Custom CRM call log: one JSON POST per finished call to the tenant's "Call log URL"
 * (CRM > Integration, Custom CRM call log), for middleware that writes calls into a CRM of its own.
 *
 * The contract, for an administrator writing that middleware:
 *
 * Request: `POST {Call log URL}` (https only, the URL's query kept), headers
 * `Content-Type: application/json`, `Accept: application/json`, `Idempotency-Key: {external_id}`,
 * then each custom header line (`Name: value`; Host, Content-Length, Content-Type,
 * Idempotency-Key and the connection headers cannot be set). Body (UTF-8 JSON):
 *   {
 *     "event": "call.completed",
 *     "external_id": "cl-Qm9...",        same for every retry of this call: deduplicate on it
 *     "direction": "inbound",            inbound | outbound (seen from the PBX)
 *     "disposition": "answered",         answered | missed | abandoned | busy | failed
 *     "external_number": "+15550001111", the caller (inbound) or the dialled number (outbound)
 *     "pbx_number": "5551234",           the DID (inbound) or the agent's extension (outbound), or null
 *     "owner_email": "ana@example.com",  the answering agent's e-mail (host directory), or null
 *     "started_at": "2026-12-07T19:00:00.000Z",
 *     "duration_seconds": 125,           talk time; 0 when nobody answered
 *     "subject": "Inbound call +15550001111 (Answered, 2m 05s)",
 *     "notes": "Inbound call from ...\nRouted by CRM Routing rule ...",
 *     "unknown_caller": "skip",          skip | contact | lead: the log option for unknown numbers
 *     "recording_url": null              an https link when the host offers one
 *   }
 * Answer: any 2xx is "written"; a JSON body may say {"id": "...", "url": "https://..."} (the record,
 * linked from the Call log page) or {"skipped": true, "reason": "..."}. 409 means "already
 * written" (the Idempotency-Key was seen). 429 and 503 (Retry-After honoured), 408 and 5xx are retried,
 * as are timeouts (15 s) and lost connections; other answers fail the call's row with the status.
 */
import { z } from 'zod';
import type { CallActivity, CallLogResult, CallLogWriter } from '../call-log-writer';
import type { Credentials } from '../integration';
import { CrmError, errorForStatus } from '../shared/crm-error';
import type { HttpClient } from '../shared/http-client';
import { parseHeaderLines, TemplateError, type HeaderLine } from '../shared/request-template';
import { asCrmError, retryAfterMs } from '../shared/vendor-call';

const WHAT = 'The Custom CRM call log URL';
export const CALL_LOG_TIMEOUT_MS = 15_000;
/** Set by the writer itself, besides what parseHeaderLines already refuses. */
const OUR_HEADERS = new Set(['content-type', 'idempotency-key']);

/** Checks the Call log URL: https, no user or password in it. */
export function callLogUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'Enter the Call log URL, starting with https://';
  }
  if (parsed.protocol !== 'https:') return `The Call log URL must start with https:// (got ${parsed.protocol}//).`;
  if (parsed.username !== '' || parsed.password !== '') return 'The Call log URL must not contain a user name or password: send them in a header line (e.g. Authorization: Bearer ...).';
  return undefined;
}

/** Parses the header lines (`Name: value`), or says what is wrong without echoing a value. */
export function parseCallLogHeaders(text: string): HeaderLine[] | { error: string } {
  try {
    const lines = parseHeaderLines(text);
    const ours = lines.find((h) => OUR_HEADERS.has(h.name.toLowerCase()));
    if (ours) return { error: `The ${ours.name} header is set by the call log itself and cannot be given.` };
    // eslint-disable-next-line no-control-regex
    const bad = lines.find((h) => /[\x00-\x08\x0a-\x1f\x7f]/.test(h.value));
    if (bad) return { error: `Header ${bad.name}: the value contains a control character; remove it.` };
    return lines;
  } catch (err) {
    if (err instanceof TemplateError) return { error: err.message.replace(/"[^"]*"/, 'a line') };
    throw err;
  }
}

/** The JSON body of one call, exactly as the contract above says. */
export function customCallLogBody(activity: CallActivity): Record<string, unknown> {
  return {
    event: 'call.completed',
    external_id: activity.externalId,
    direction: activity.direction,
    disposition: activity.disposition,
    external_number: activity.externalNumber,
    pbx_number: activity.pbxNumber ?? null,
    owner_email: activity.ownerEmail ?? null,
    started_at: activity.startedAt.toISOString(),
    duration_seconds: activity.durationSeconds,
    subject: activity.subject,
    notes: activity.notes,
    unknown_caller: activity.unknownCaller,
    recording_url: activity.recordingUrl ?? null,
  };
}

const answerSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  url: z.string().optional(),
  skipped: z.boolean().optional(),
  reason: z.string().optional(),
}).passthrough();

export class CustomCrmCallLogWriter implements CallLogWriter {
  constructor(private readonly url: string, private readonly headers: HeaderLine[], private readonly http: HttpClient) {}

  async logCall(activity: CallActivity, _credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    try {
      const problem = callLogUrlProblem(this.url);
      if (problem) throw new CrmError('CONFIG', problem);
      const res = await this.http.request({
        method: 'POST', url: this.url, signal, timeoutMs: CALL_LOG_TIMEOUT_MS, what: WHAT,
        headers: {
          accept: 'application/json',
          ...Object.fromEntries(this.headers.map((h) => [h.name, h.value])),
          'content-type': 'application/json',
          'idempotency-key': activity.externalId,
        },
        body: JSON.stringify(customCallLogBody(activity)),
      });
      if (res.status === 409) return { kind: 'written', activityId: activity.externalId };
      if (res.status < 200 || res.status >= 300) {
        const error = errorForStatus(res.status, WHAT, retryAfterMs(res));
        const retryable = res.status === 429 || res.status === 408 || res.status >= 500;
        // Retry-After is honoured on 429 and on 503 (RFC 9110: how long the service expects to be unavailable).
        const wait = res.status === 429 || res.status === 503 ? retryAfterMs(res) : undefined;
        return { kind: 'error', code: error.code, message: error.message, retryable, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
      }
      const answer = readAnswer(res.body);
      if (answer?.skipped === true) return { kind: 'skipped', reason: (answer.reason ?? 'The Custom CRM skipped the call.').slice(0, 200) };
      const recordUrl = answer?.url && /^https:\/\//i.test(answer.url) ? answer.url : undefined;
      return { kind: 'written', activityId: answer?.id !== undefined ? String(answer.id).slice(0, 191) : activity.externalId, ...(recordUrl ? { recordUrl } : {}) };
    } catch (err) {
      const error = asCrmError(err, WHAT, signal);
      const retryable = !['CONFIG', 'EGRESS'].includes(error.code);
      return { kind: 'error', code: error.code, message: error.message, retryable };
    }
  }
}

function readAnswer(body: string): z.infer<typeof answerSchema> | undefined {
  if (body.trim() === '') return undefined;
  try {
    const parsed = answerSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
