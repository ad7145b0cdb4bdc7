/**
 * One request to an OAuth 2.0 token endpoint (RFC 6749 §4.1.3, §4.4, §6), written once for the
 * vendors whose sign-in is plain OAuth (Zendesk, Pipedrive, Microsoft Entra ID): the grant's
 * parameters as a form (or JSON where the vendor documents JSON), the client authenticated in the
 * body or with HTTP Basic, the answer checked with zod, and the vendor's `error` /
 * `error_description` turned into a message an administrator can act on. Our own parameters (the
 * code, the secret, the refresh token) never appear in a message.
 */
import { z } from 'zod';
import { CrmError, errorForStatus } from './crm-error';
import type { HttpClient } from './http-client';
import { parseJsonBody, retryAfterMs } from './vendor-call';

export interface TokenEndpointRequest {
  url: string;
  params: Record<string, string | number>;
  /** How the parameters travel. Default form (application/x-www-form-urlencoded). */
  encoding?: 'form' | 'json';
  /** Client authentication with HTTP Basic (client_id:client_secret) instead of in `params`. */
  basicAuth?: { clientId: string; clientSecret: string };
  /** Names the endpoint in messages: "Zendesk's token endpoint". */
  what: string;
  /** What was presented, in words, for a refusal: "the stored refresh token", "the authorization code". */
  presented: string;
  signal: AbortSignal;
}

export interface TokenAnswer {
  accessToken: string;
  refreshToken?: string;
  /** Seconds, when the vendor says. */
  expiresIn?: number;
  /** Everything the vendor answered (api_domain, id_token, scope...). */
  body: Record<string, unknown>;
}

const answerSchema = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.coerce.number().positive().nullable().optional(),
});

const errorSchema = z.looseObject({ error: z.string().optional(), error_description: z.string().optional() });

export async function requestToken(http: HttpClient, req: TokenEndpointRequest): Promise<TokenAnswer> {
  const params = Object.fromEntries(Object.entries(req.params).map(([k, v]) => [k, String(v)]));
  const json = req.encoding === 'json';
  const res = await http.request({
    method: 'POST', url: req.url, signal: req.signal, what: req.what,
    headers: {
      'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...(req.basicAuth ? { authorization: `Basic ${Buffer.from(`${req.basicAuth.clientId}:${req.basicAuth.clientSecret}`).toString('base64')}` } : {}),
    },
    body: json ? JSON.stringify({ ...req.params }) : new URLSearchParams(params).toString(),
  });
  if (res.status < 200 || res.status >= 300) throw tokenError(res.status, res.body, req, retryAfterMs(res));
  const body = parseJsonBody(res, req.what, answerSchema);
  if (!body) throw new CrmError('BAD_RESPONSE', `${req.what} answered with an empty body.`);
  return {
    accessToken: body.access_token,
    ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}),
    ...(typeof body.expires_in === 'number' ? { expiresIn: body.expires_in } : {}),
    body,
  };
}

/** When an access token stops being used: its lifetime from now, or `fallbackSeconds` when the vendor said none. */
export function expiresAt(answer: TokenAnswer, fallbackSeconds: number, now = Date.now()): number {
  return now + (answer.expiresIn ?? fallbackSeconds) * 1000;
}

function tokenError(status: number, text: string, req: TokenEndpointRequest, retryAfter: number | undefined): CrmError {
  if (status === 429) return errorForStatus(429, req.what, retryAfter);
  let detail: z.infer<typeof errorSchema> = {};
  try {
    detail = errorSchema.parse(JSON.parse(text));
  } catch {
    // Not the vendor's JSON (a proxy page): the status speaks.
  }
  const description = detail.error_description?.split(/\r?\n/)[0]?.slice(0, 200);
  const said = detail.error ? ` (${detail.error}${description ? `: ${description}` : ''})` : description ? ` (${description})` : '';
  switch (detail.error) {
    case 'invalid_client':
    case 'unauthorized_client':
      return new CrmError('AUTH', `${req.what} refused the client ID or client secret${said}.`, { status });
    case 'invalid_grant':
      return new CrmError('AUTH', `${req.what} refused ${req.presented}${said}.`, { status });
    case 'invalid_scope':
    case 'invalid_request':
    case 'unsupported_grant_type':
      return new CrmError('CONFIG', `${req.what} refused the request${said}: check the app's settings at the vendor.`, { status });
    default:
      if (status === 400 || status === 401) return new CrmError('AUTH', `${req.what} refused ${req.presented} (HTTP ${status})${said}.`, { status });
      return new CrmError(errorForStatus(status, req.what).code, `${req.what} answered HTTP ${status}${said}.`, { status });
  }
}
