/**
 * The request discipline every vendor connector shares, written once: JSON answers read and
 * checked, statuses mapped to error codes, one re-login on 401, a 429 waited out only when its
 * Retry-After fits before the call's deadline, and thrown CrmErrors turned into lookup results.
 */
import type { z } from 'zod';
import type { LookupResult } from '../connector';
import { abortedError, CrmError, errorForStatus } from './crm-error';
import type { HttpClient, HttpRequest, HttpResponse } from './http-client';
import type { CachedToken, TokenCache, TokenFetcher } from './token-cache';

export interface JsonResponse<T> {
  status: number;
  headers: Record<string, string>;
  /** null for 204 No Content or an empty body. */
  body: T | null;
}

/**
 * Sends a request and reads a JSON answer. Statuses outside 2xx become CrmErrors (unless listed
 * in `accept`); a body that is not JSON or fails `schema` is BAD_RESPONSE.
 */
export async function requestJson<T = unknown>(
  http: HttpClient,
  req: HttpRequest,
  options: { schema?: z.ZodType<T>; accept?: number[] } = {},
): Promise<JsonResponse<T>> {
  const what = req.what ?? 'The CRM';
  const res = await http.request({ ...req, headers: { accept: 'application/json', ...req.headers } });
  const ok = (res.status >= 200 && res.status < 300) || options.accept?.includes(res.status);
  if (!ok) throw errorForStatus(res.status, what, retryAfterMs(res));
  return { status: res.status, headers: res.headers, body: parseJsonBody(res, what, options.schema) };
}

export function parseJsonBody<T>(res: HttpResponse, what: string, schema?: z.ZodType<T>): T | null {
  if (res.status === 204 || res.body.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    throw new CrmError('BAD_RESPONSE', `${what} answered HTTP ${res.status} with something that is not JSON: ${snippet(res.body)}`);
  }
  if (!schema) return parsed as T;
  const checked = schema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new CrmError('BAD_RESPONSE', `${what} answered in an unexpected shape (${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}).`);
  }
  return checked.data;
}

/** Retry-After in ms, from seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(res: Pick<HttpResponse, 'headers'>, now = Date.now()): number | undefined {
  const header = res.headers['retry-after'];
  if (header === undefined) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface SessionOptions<T extends CachedToken> {
  tokens: TokenCache;
  /** Cache key: CRM, integration, base URL and a hash of the credentials. */
  key: string;
  login: TokenFetcher<T>;
  signal: AbortSignal;
  /** Epoch ms the call must be done by; a 429 wait never passes it. */
  deadlineAt: number;
  /**
   * The token carries a refresh token that works once or rotates: keep it in the shared store so
   * every process spends it once (TokenCache, "durable keys").
   */
  durable?: boolean;
}

/**
 * Runs `attempt` with a cached token. On AUTH (401) the token is dropped and one fresh login is
 * tried; a second 401 is the answer. On RATE_LIMITED the attempt is repeated once, after
 * Retry-After, only if that wait ends before the deadline.
 */
export async function withSession<T extends CachedToken, R>(options: SessionOptions<T>, attempt: (token: T) => Promise<R>): Promise<R> {
  const { tokens, key, login, signal, deadlineAt, durable } = options;
  let relogged = false;
  let waited = false;
  for (;;) {
    const token = await tokens.get(key, login, signal, { durable });
    try {
      return await attempt(token);
    } catch (err) {
      if (err instanceof CrmError && err.code === 'AUTH' && !relogged) {
        relogged = true;
        tokens.invalidate(key, token);
        continue;
      }
      if (err instanceof CrmError && err.code === 'RATE_LIMITED' && !waited && fitsBefore(err.details.retryAfterMs, deadlineAt)) {
        waited = true;
        await sleep(err.details.retryAfterMs ?? 0, signal);
        continue;
      }
      throw err;
    }
  }
}

function fitsBefore(waitMs: number | undefined, deadlineAt: number): boolean {
  // Leave room for the retried request itself.
  return waitMs !== undefined && Date.now() + waitMs + 100 < deadlineAt;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs a connector's lookup body; a CrmError (or an abort) becomes an error result, never a throw. */
export async function lookupResult(what: string, signal: AbortSignal, run: () => Promise<LookupResult>): Promise<LookupResult> {
  try {
    return await run();
  } catch (err) {
    const error = asCrmError(err, what, signal);
    return { kind: 'error', code: error.code, message: error.message, ...(error.details.retryAfterMs !== undefined ? { retryAfterMs: error.details.retryAfterMs } : {}) };
  }
}

export function asCrmError(err: unknown, what: string, signal: AbortSignal): CrmError {
  if (err instanceof CrmError) return err;
  if (signal.aborted) return abortedError(what, signal, err);
  return new CrmError('BAD_RESPONSE', `${what}: ${(err as Error)?.message ?? String(err)}`);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 80)}...` : flat);
}
