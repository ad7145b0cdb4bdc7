/**
 * Zendesk's "Connect" (OAuth authorization code grant with PKCE, Zendesk Support): the consent
 * page is `{account}/oauth/authorizations/new`, the code is exchanged at `{account}/oauth/tokens`
 * (JSON, confidential client: the secret travels too) for an access token and a refresh token.
 * Lifetimes are asked for explicitly (sign-in.ts). Who signed in comes from `/api/v2/users/me.json`.
 */
import { z } from 'zod';
import { codeGrantForm, consentUrl } from '../shared/authorization-code';
import { CrmError } from '../shared/crm-error';
import type { OAuthConnect } from '../integration';
import { requestJson } from '../shared/vendor-call';
import { zendeskBaseUrl, type ZendeskSettings } from './settings';
import { ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS, tokenGrant, ZENDESK_SCOPE } from './sign-in';

const meSchema = z.object({ user: z.looseObject({ name: z.string().nullable().optional(), email: z.string().nullable().optional() }) });

export const zendeskConnect: OAuthConnect<ZendeskSettings> = {
  pkce: true,

  requires(settings) {
    if (!settings.subdomain || zendeskBaseUrl(String(settings.subdomain)) === undefined) return 'Save the Zendesk subdomain first.';
    if (!settings.clientId || !settings.clientSecret) return "Save the OAuth client's ID and secret first (Admin Center > Apps and integrations > APIs > OAuth clients; a confidential client whose redirect URL is the one shown here).";
    return undefined;
  },

  authorizeUrl(settings, { redirectUri, state, codeChallenge }) {
    return consentUrl(`${zendeskBaseUrl(settings.subdomain)}/oauth/authorizations/new`, {
      response_type: 'code', client_id: settings.clientId, redirect_uri: redirectUri, scope: ZENDESK_SCOPE, state,
      code_challenge: codeChallenge, code_challenge_method: codeChallenge ? 'S256' : undefined,
    });
  },

  async exchangeCode(settings, params, services, signal) {
    const baseUrl = zendeskBaseUrl(settings.subdomain)!;
    const answer = await tokenGrant(services, baseUrl, {
      ...codeGrantForm(settings, params), scope: ZENDESK_SCOPE, expires_in: ACCESS_TOKEN_SECONDS, refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
    }, 'the authorization code', signal);
    if (!answer.refreshToken) throw new CrmError('AUTH', 'Zendesk answered without a refresh token: check that the OAuth client is confidential and allows refresh tokens.');
    let account: string | undefined;
    try {
      const me = await requestJson(services.http, { method: 'GET', url: `${baseUrl}/api/v2/users/me.json`, headers: { authorization: `Bearer ${answer.accessToken}` }, signal, what: 'Zendesk' }, { schema: meSchema });
      account = me.body?.user.email ?? me.body?.user.name ?? undefined;
    } catch {
      // Who signed in is only shown on the page; the sign-in itself worked.
    }
    return { secrets: { refreshToken: answer.refreshToken }, settings: { authMode: 'authorization_code' }, ...(account ? { account } : {}) };
  },
};
