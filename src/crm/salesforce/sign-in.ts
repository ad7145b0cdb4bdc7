/**
 * Salesforce's token endpoint, `POST {My Domain}/services/oauth2/token` (form body), for every
 * grant the connector uses: client_credentials, refresh_token, password (legacy) and Connect's
 * authorization_code (with the PKCE code_verifier). The answer's `instance_url` is where the API
 * calls go. A refusal is named as a sign-in problem, with what to check for the flow in use.
 */
import { z } from 'zod';
import type { ConnectorServices } from '../integration';
import { CrmError, errorForStatus } from '../shared/crm-error';
import type { HttpResponse } from '../shared/http-client';
import { parseJsonBody, retryAfterMs } from '../shared/vendor-call';
import type { SalesforceFlow } from './settings';

export const LOGIN_WHAT = 'Salesforce sign-in';

export type SalesforceGrant = SalesforceFlow | 'authorization_code';

export interface SalesforceTokenAnswer {
  accessToken: string;
  /** Origin of the org's instance (https). */
  instanceUrl: string;
  /** Issued by the web server flow, and by a refresh when the app rotates refresh tokens. */
  refreshToken?: string;
}

const tokenAnswer = z.looseObject({ access_token: z.string().min(1), instance_url: z.string(), refresh_token: z.string().min(1).optional() });

export async function salesforceTokenRequest(services: ConnectorServices, loginUrl: string, form: Record<string, string>, signal: AbortSignal): Promise<SalesforceTokenAnswer> {
  const grant = form.grant_type as SalesforceGrant;
  const res = await services.http.request({
    method: 'POST', url: `${loginUrl}/services/oauth2/token`, body: new URLSearchParams(form).toString(), signal, what: LOGIN_WHAT,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  });
  if (res.status < 200 || res.status >= 300) throw loginError(res, grant);
  const answer = parseJsonBody(res, LOGIN_WHAT, tokenAnswer)!;
  let instance: URL | undefined;
  try { instance = new URL(answer.instance_url); } catch { instance = undefined; }
  if (instance?.protocol !== 'https:') throw new CrmError('BAD_RESPONSE', `${LOGIN_WHAT} answered with an instance URL that is not https://.`);
  return { accessToken: answer.access_token, instanceUrl: instance.origin, ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}) };
}

/** What to check when Salesforce refuses the grant (invalid_grant), per grant. */
const INVALID_GRANT_ADVICE: Record<SalesforceGrant, string> = {
  client_credentials: 'enable the client credentials flow on the External Client App, choose its Run As user, and use your My Domain URL',
  refresh_token: 'the refresh token was revoked, expired or rotated (leave refresh token rotation off on the app): press Connect again',
  authorization_code: 'the authorization code was refused (it works once, for a few minutes, with the PKCE verifier of its consent): press Connect again',
  password: 'check the username, and the password followed by the security token. Orgs created since Summer \'23 block the username-password flow by default and answer the same way (Login History shows "Username-Password Flow Disabled"): switch to client credentials',
};

/** Token endpoint errors: {"error": "invalid_grant", "error_description": "authentication failure"}. */
export function loginError(res: HttpResponse, grant: SalesforceGrant): CrmError {
  let error = '';
  let description = '';
  try {
    const body = JSON.parse(res.body) as { error?: unknown; error_description?: unknown };
    error = typeof body.error === 'string' ? body.error : '';
    description = typeof body.error_description === 'string' ? body.error_description.slice(0, 160) : '';
  } catch { /* not JSON */ }
  const said = error ? ` (${error}${description ? `: ${description}` : ''})` : '';
  const failed = `${LOGIN_WHAT} failed${said}`;
  if (res.status === 400 || res.status === 401) {
    if (error === 'unsupported_grant_type') {
      const hint = grant === 'password' ? ': External Client Apps never offer the username-password flow; switch to client credentials' : '';
      return new CrmError('CONFIG', `${failed}: the app or org does not allow this sign-in flow${hint}.`, { status: res.status });
    }
    if (error.startsWith('invalid_client')) return new CrmError('AUTH', `${failed}: check the Consumer Key and Consumer Secret.`, { status: res.status });
    if (error === 'redirect_uri_mismatch') return new CrmError('CONFIG', `${failed}: add the redirect URL shown on this page to the app's Callback URL.`, { status: res.status });
    return new CrmError('AUTH', `${failed}: ${INVALID_GRANT_ADVICE[grant]}.`, { status: res.status });
  }
  const base = errorForStatus(res.status, LOGIN_WHAT, retryAfterMs(res));
  return new CrmError(base.code, `${base.message}${said}`, base.details);
}
