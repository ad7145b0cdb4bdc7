/**
 * HubSpot's OAuth token endpoint at the dated path, `POST {base}/oauth/{version}/token`, with
 * every parameter in the form body as the dated OAuth API (since 2026-03) requires
 * (/oauth/v1/token retires on 2027-02-16): the refresh behind every lookup of an OAuth app and
 * Connect's code exchange. The answer's `expires_in` decides when the access token is renewed.
 */
import { z } from 'zod';
import type { ConnectorServices } from '../integration';
import { parseJsonBody } from '../shared/vendor-call';
import { hubspotPaths } from './api-version';
import { tokenError } from './errors';

const WHAT = 'HubSpot sign-in';

export interface HubSpotTokenAnswer {
  accessToken: string;
  refreshToken?: string;
  expiresInS: number;
  /** The HubSpot account (portal) the app is installed in, when the answer says. */
  hubId?: number;
}

const tokenAnswer = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.number().positive(),
  hub_id: z.number().int().optional(),
});

export async function hubspotTokenRequest(services: ConnectorServices, baseUrl: string, form: Record<string, string>, signal: AbortSignal): Promise<HubSpotTokenAnswer> {
  const res = await services.http.request({
    method: 'POST', url: `${baseUrl}${hubspotPaths.token}`, body: new URLSearchParams(form).toString(), signal, what: WHAT,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  });
  if (res.status < 200 || res.status >= 300) throw tokenError(res, form.grant_type === 'authorization_code' ? 'authorization_code' : 'refresh_token');
  const answer = parseJsonBody(res, WHAT, tokenAnswer)!;
  return {
    accessToken: answer.access_token,
    expiresInS: answer.expires_in,
    ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
    ...(answer.hub_id !== undefined ? { hubId: answer.hub_id } : {}),
  };
}
