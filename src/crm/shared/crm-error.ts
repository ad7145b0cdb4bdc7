/**
 * What went wrong talking to a CRM, as a code the call flow records and a message an
 * administrator can act on ("Test connection" shows it as it is).
 */
export const CRM_ERROR_CODES = [
  'TIMEOUT', // the call's deadline or the request's own timeout passed
  'ABORTED', // the caller hung up (or the server is stopping)
  'DNS', // host name not resolved
  'TLS', // certificate not trusted, expired, wrong name, handshake failed
  'CONNECTION', // refused, reset, closed early
  'EGRESS', // the address is one CRM traffic may not go to (the host's egress policy)
  'AUTH', // 401: wrong credentials or expired token (after one re-login)
  'FORBIDDEN', // 403: missing scope or permission
  'NOT_FOUND_URL', // 404: wrong base URL, module or field
  'RATE_LIMITED', // 429: see retryAfterMs
  'HTTP_ERROR', // another non-success status (5xx, 400...)
  'BAD_RESPONSE', // an answer we cannot read (not JSON, wrong shape, redirect)
  'TOO_LARGE', // the answer passed the body cap
  'CONFIG', // the integration or rule lacks a setting
] as const;
export type CrmErrorCode = (typeof CRM_ERROR_CODES)[number];

export class CrmError extends Error {
  override readonly name = 'CrmError';
  constructor(
    readonly code: CrmErrorCode,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message);
  }
}

/** "Zoho CRM's", but "Zoho Accounts'": the possessive of a CRM or endpoint name in a message. */
export function possessive(what: string): string {
  return /s$/i.test(what) ? `${what}'` : `${what}'s`;
}

/** Maps an HTTP status that is not a success to a CrmError with a message a person can act on. */
export function errorForStatus(status: number, what: string, retryAfterMs?: number): CrmError {
  switch (status) {
    case 401:
      return new CrmError('AUTH', `${what} rejected the credentials (401): check the username, password or token.`, { status });
    case 403:
      return new CrmError('FORBIDDEN', `${what} refused access (403): the user or token lacks a scope or permission.`, { status });
    case 404:
      return new CrmError('NOT_FOUND_URL', `${what} answered 404: check the base URL, module and field name.`, { status });
    case 429: {
      const when = retryAfterMs === undefined ? 'later' : `in ${Math.ceil(retryAfterMs / 1000)} s`;
      return new CrmError('RATE_LIMITED', `${what} is rate limiting requests (429): retry ${when}.`, { status, retryAfterMs });
    }
    default:
      return new CrmError('HTTP_ERROR', `${what} answered HTTP ${status}.`, { status });
  }
}

/** The error for a request cut short by the call's signal: its deadline passed, or the caller left. */
export function abortedError(what: string, signal: AbortSignal, cause?: unknown): CrmError {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === 'TimeoutError'
    ? new CrmError('TIMEOUT', `${what} did not answer before the rule's deadline.`, { cause })
    : new CrmError('ABORTED', `The request to ${what} was cancelled (caller hung up).`, { cause });
}
