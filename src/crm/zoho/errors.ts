/**
 * Zoho's refusals as codes the call flow records and messages an administrator can act on. A
 * sign-in problem (Accounts refusing the client or the refresh token, an access token refused)
 * is named as a sign-in problem; a missing OAuth scope names the scope; a Zoho user without the
 * profile permission is a permission problem of that user, not of the token.
 */
import { CrmError, errorForStatus } from '../shared/crm-error';
import type { HttpResponse } from '../shared/http-client';
import { retryAfterMs } from '../shared/vendor-call';
import { ZOHO_SCOPE_LIST, scopeAdvice, type ScopeNeed } from './scopes';

/** Zoho Accounts answers 200 with {"error": ...} when it refuses a refresh or a code. */
export function accountsRefusal(error: string | undefined, dc: string, grant: 'refresh' | 'code'): CrmError {
  const signIn = `Sign-in to Zoho Accounts (${dc}) failed`;
  if (error === 'invalid_client' || error === 'invalid_client_secret') {
    return new CrmError('AUTH', `${signIn}: it rejected the Client ID or Client Secret (${error}). Check them, and that the client belongs to this data centre (or has Multi-DC enabled).`);
  }
  if (error === 'invalid_code') {
    return grant === 'code'
      ? new CrmError('AUTH', `${signIn}: the authorization code was refused (invalid_code; codes last 2 minutes and work once). Press Connect again.`)
      : new CrmError('AUTH', `${signIn}: the refresh token was refused (invalid_code): it was revoked or belongs to another data centre or client. Press Connect, or generate a new one with the scopes ${ZOHO_SCOPE_LIST}.`);
  }
  if (error === 'invalid_redirect_uri') return new CrmError('CONFIG', `${signIn}: the redirect URL is not registered for this client (invalid_redirect_uri). Add the one shown on this page to the client in the Zoho API console.`);
  if (error && /access denied|too many/i.test(error)) return new CrmError('RATE_LIMITED', `Zoho Accounts is refusing token refreshes for now (${error.slice(0, 80)}): at most 10 per 10 minutes per refresh token.`);
  return new CrmError('AUTH', `${signIn}${error ? ` (${error.slice(0, 80)})` : ''}.`);
}

/**
 * Maps a Zoho error answer ({"code","details","message","status"}) to a CrmError. `need` names the
 * scopes the refused request needs, for OAUTH_SCOPE_MISMATCH.
 */
export function zohoError(res: HttpResponse, what: string, need: ScopeNeed): CrmError {
  const base = errorForStatus(res.status, what, retryAfterMs(res));
  let code = '';
  let message = '';
  let details: unknown;
  try {
    const parsed = JSON.parse(res.body) as { code?: unknown; message?: unknown; error?: unknown; details?: unknown; data?: unknown };
    // An insert refused record by record answers {"data":[{"code","details","message","status"}]}.
    const body = parsed.code === undefined && Array.isArray(parsed.data) && parsed.data[0] !== null && typeof parsed.data[0] === 'object' ? (parsed.data[0] as typeof parsed) : parsed;
    code = typeof body.code === 'string' ? body.code : typeof body.error === 'string' ? body.error : '';
    message = typeof body.message === 'string' ? body.message.slice(0, 160) : '';
    details = body.details;
  } catch { /* not JSON: the status says enough */ }
  const said = code ? ` Zoho said: ${code}${message ? `: ${message}` : ''}` : '';
  const as = (crmCode: CrmError['code'], text: string) => new CrmError(crmCode, text, { status: res.status });
  if (code === 'OAUTH_SCOPE_MISMATCH') return as('FORBIDDEN', `${what} refused the request (OAUTH_SCOPE_MISMATCH): ${scopeAdvice(details, need)}.`);
  if (code === 'INVALID_TOKEN' || code === 'AUTHENTICATION_FAILURE' || code === 'INVALID_OAUTHTOKEN') {
    return as('AUTH', `Sign-in to ${what} failed: it refused the access token Zoho Accounts had just issued (${code}). Check that the data centre is the one your Zoho account lives in.`);
  }
  if (code === 'NO_PERMISSION') return as('FORBIDDEN', `${what} refused the request (NO_PERMISSION): the Zoho user who granted the token may not read this module or field (profile permissions).${said}`);
  if (code === 'INVALID_MODULE' || code === 'INVALID_URL_PATTERN' || code === 'INVALID_QUERY' || code === 'INVALID_DATA') {
    return as('NOT_FOUND_URL', `${what} does not know the module or field asked for.${said}`);
  }
  return new CrmError(base.code, `${base.message}${said}`, base.details);
}
