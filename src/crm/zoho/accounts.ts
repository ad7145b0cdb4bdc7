/**
 * Zoho Accounts' token endpoint, for the refresh behind every lookup and for Connect's code
 * exchange: `POST {accounts}/oauth/v2/token` with a form body. Zoho's Accounts pages list the
 * parameters in the query string, but Zoho's SDKs (zohocrm-nodejs-sdk-8.0, OAuthToken) send them
 * in the body, which keeps the client secret out of URLs and access logs. A refusal is answered
 * 200 {"error": "..."}; a success carries `api_domain`, the only host the access token goes to.
 */
import { z } from 'zod';
import type { ConnectorServices } from '../integration';
import { parseJsonBody } from '../shared/vendor-call';
import { checkApiDomain, ZOHO_DATA_CENTRES, type ZohoDataCentreId } from './data-centres';
import { accountsRefusal, zohoError } from './errors';

export const ACCOUNTS_WHAT = 'Zoho Accounts';

export interface ZohoTokenAnswer {
  accessToken: string;
  /** Only in the answer to a code exchange (access_type=offline). */
  refreshToken?: string;
  /** Origin of the API host of this account (from api_domain, checked to be zohoapis.*). */
  apiOrigin: string;
  expiresInS: number;
}

const tokenAnswer = z.looseObject({
  access_token: z.string().min(1).optional(),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
  api_domain: z.string().optional(),
  error: z.string().optional(),
});

export async function zohoTokenRequest(
  services: ConnectorServices,
  dc: ZohoDataCentreId,
  form: Record<string, string>,
  signal: AbortSignal,
): Promise<ZohoTokenAnswer> {
  const accounts = ZOHO_DATA_CENTRES[dc].accounts;
  const res = await services.http.request({
    method: 'POST',
    url: new URL('/oauth/v2/token', services.resolveOrigin ? services.resolveOrigin(accounts) : accounts),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
    signal,
    what: ACCOUNTS_WHAT,
  });
  if (res.status < 200 || res.status >= 300) throw zohoError(res, ACCOUNTS_WHAT, []);
  const answer = parseJsonBody(res, ACCOUNTS_WHAT, tokenAnswer);
  if (!answer?.access_token) throw accountsRefusal(answer?.error, dc, form.grant_type === 'authorization_code' ? 'code' : 'refresh');
  return {
    accessToken: answer.access_token,
    ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
    apiOrigin: checkApiDomain(answer.api_domain),
    expiresInS: answer.expires_in ?? 3600,
  };
}
