/**
 * Pipedrive's OAuth (pipedrive.readme.io "OAuth authorization", developers.pipedrive.com Oauth):
 * "Connect" sends the administrator to `https://oauth.pipedrive.com/oauth/authorize`
 * (client_id, redirect_uri, state; Pipedrive documents no PKCE), and the code is exchanged at
 * `https://oauth.pipedrive.com/oauth/token` (form body, the client authenticated with HTTP
 * Basic). The answer's `api_domain` (https://{company}.pipedrive.com) becomes the company domain.
 * Access tokens live about an hour; a refresh answers a refresh token too, which is stored in
 * place of the old one (the key is durable: every process of the host uses the current one).
 * Calls then carry `Authorization: Bearer`. The OAuth host is fixed; the host's
 * resolveCrmOrigin may send it elsewhere (an egress proxy, tests).
 */
import { z } from 'zod';
import { consentUrl } from '../shared/authorization-code';
import { CrmError } from '../shared/crm-error';
import type { ConnectorServices, OAuthConnect } from '../integration';
import { expiresAt, requestToken, type TokenAnswer } from '../shared/oauth-token';
import type { CachedToken } from '../shared/token-cache';
import { requestJson } from '../shared/vendor-call';

export const PIPEDRIVE_OAUTH_ORIGIN = 'https://oauth.pipedrive.com';
/** Pipedrive's access token lifetime when the answer does not say (about an hour). */
const ACCESS_TOKEN_SECONDS = 3599;

export interface PipedriveOAuthSettings extends Record<string, unknown> {
  authMode: 'api_token' | 'oauth';
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  companyDomain: string;
}

export interface PipedriveOAuthToken extends CachedToken {
  accessToken: string;
  refreshToken: string;
}

const meSchema = z.object({ data: z.looseObject({ email: z.string().nullable().optional(), name: z.string().nullable().optional() }).nullable() });

function oauthUrl(services: ConnectorServices, path: string): string {
  return `${services.resolveOrigin?.(PIPEDRIVE_OAUTH_ORIGIN) ?? PIPEDRIVE_OAUTH_ORIGIN}${path}`;
}

function tokenRequest(services: ConnectorServices, settings: PipedriveOAuthSettings, params: Record<string, string>, presented: string, signal: AbortSignal): Promise<TokenAnswer> {
  return requestToken(services.http, {
    url: oauthUrl(services, '/oauth/token'), params, basicAuth: { clientId: settings.clientId, clientSecret: settings.clientSecret },
    what: "Pipedrive's token endpoint", presented, signal,
  });
}

/** A new access token from the current refresh token (the stored one, or the one the last refresh answered). */
export async function refreshPipedriveToken(services: ConnectorServices, settings: PipedriveOAuthSettings, previous: PipedriveOAuthToken | undefined, signal: AbortSignal): Promise<PipedriveOAuthToken> {
  const refreshToken = previous?.refreshToken ?? settings.refreshToken;
  const answer = await tokenRequest(services, settings, { grant_type: 'refresh_token', refresh_token: refreshToken },
    'the stored refresh token (press Connect again under CRM > Integration > Pipedrive)', signal);
  return { accessToken: answer.accessToken, refreshToken: answer.refreshToken ?? refreshToken, expiresAt: expiresAt(answer, ACCESS_TOKEN_SECONDS) };
}

export const pipedriveConnect: OAuthConnect<PipedriveOAuthSettings> = {
  pkce: false,

  requires(settings) {
    if (!settings.clientId || !settings.clientSecret) {
      return 'Save the OAuth app\'s client ID and client secret first (Pipedrive Developer Hub > your app > OAuth & access scopes; its callback URL is the redirect URL shown here).';
    }
    return undefined;
  },

  authorizeUrl(settings, { redirectUri, state }, services) {
    return consentUrl(oauthUrl(services, '/oauth/authorize'), { client_id: settings.clientId, redirect_uri: redirectUri, state });
  },

  async exchangeCode(settings, { code, redirectUri }, services, signal) {
    const answer = await tokenRequest(services, settings, { grant_type: 'authorization_code', code, redirect_uri: redirectUri }, 'the authorization code', signal);
    if (!answer.refreshToken) throw new CrmError('AUTH', 'Pipedrive answered without a refresh token.');
    const apiDomain = typeof answer.body.api_domain === 'string' ? answer.body.api_domain.replace(/\/+$/, '') : '';
    if (!/^https:\/\/[^/?#\s]+$/.test(apiDomain)) throw new CrmError('BAD_RESPONSE', 'Pipedrive answered without the company\'s api_domain.');
    let account: string | undefined;
    try {
      const me = await requestJson(services.http, { method: 'GET', url: `${apiDomain}/api/v1/users/me`, headers: { authorization: `Bearer ${answer.accessToken}` }, signal, what: 'Pipedrive' }, { schema: meSchema });
      account = me.body?.data?.email ?? me.body?.data?.name ?? undefined;
    } catch {
      // Only shown on the page; the sign-in itself worked.
    }
    return { secrets: { refreshToken: answer.refreshToken }, settings: { authMode: 'oauth', companyDomain: apiDomain }, ...(account ? { account } : {}) };
  },
};
