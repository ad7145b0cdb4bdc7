/**
 * How the Zendesk connector signs in (crm-apis.md §9, §13), one way per `authMode`:
 * - `client_credentials` (default): the OAuth client's ID and secret buy an access token
 *   (`POST {account}/oauth/tokens`, grant_type=client_credentials, confidential clients only);
 *   a new one near expiry. Nothing to share between processes: each asks its own.
 * - `authorization_code`: "Connect" stored a refresh token; each refresh answers a new access
 *   token (30 minutes) AND a new refresh token, and Zendesk deletes the old pair. The key is
 *   durable, so every process of the host shares the current pair and spends each refresh token
 *   once. Refreshed before expiry (the TokenCache's skew) and once on a 401.
 * - `api_token` (legacy): Basic `{email}/token:{API token}`; Zendesk issues no new API tokens since
 *   2026-10-27 and every one stops working on 2027-04-30. A rule's CRM Username / CRM Password
 *   (agent email / API token), when both are given, sign in this way whatever the mode.
 * Token requests are JSON, as Zendesk's OAuth docs show them.
 */
import { CrmError } from '../shared/crm-error';
import type { ConnectorServices, Credentials } from '../integration';
import { expiresAt, requestToken, type TokenAnswer } from '../shared/oauth-token';
import { sessionKey } from '../shared/session-key';
import type { CachedToken, TokenFetcher } from '../shared/token-cache';

export const ZENDESK_AUTH_MODES = ['client_credentials', 'authorization_code', 'api_token'] as const;
export type ZendeskAuthMode = (typeof ZENDESK_AUTH_MODES)[number];

/**
 * Read access to users, organizations and search (the lookup), and write access for the call
 * log's tickets and the end users it creates for unknown callers.
 */
export const ZENDESK_SCOPE = 'read write';
/**
 * The access token lifetime asked for: Zendesk's default for new clients (30 minutes). Asked for
 * explicitly: a client created before 2026-04-30 gets non-expiring tokens and no refresh token
 * unless `expires_in` is given.
 */
export const ACCESS_TOKEN_SECONDS = 1800;
/** The refresh token lifetime asked for: Zendesk's maximum (90 days; default 30), so a quiet PBX stays signed in. */
export const REFRESH_TOKEN_SECONDS = 90 * 24 * 3600;

export interface ZendeskSignInSettings {
  authMode: ZendeskAuthMode;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  email: string;
  apiToken: string;
  oauthToken: string;
}

export interface ZendeskAuth extends CachedToken {
  authorization: string;
  /** The refresh token that goes with the access token (authorization_code mode). */
  refreshToken?: string;
}

/** How one lookup signs in: the TokenCache key, how to get a token, and whether the key is shared. */
export interface ZendeskSignIn {
  key: string;
  login: TokenFetcher<ZendeskAuth>;
  durable: boolean;
}

const NEVER = Number.MAX_SAFE_INTEGER;

export function zendeskSignIn(settings: ZendeskSignInSettings, baseUrl: string, credentials: Credentials, services: ConnectorServices): ZendeskSignIn {
  const ruleEmail = credentials.username.trim();
  const ruleToken = credentials.password.trim();
  if (ruleEmail && ruleToken) return fixed(baseUrl, basic(ruleEmail, ruleToken));
  switch (settings.authMode) {
    case 'api_token':
      if (settings.email && settings.apiToken) return fixed(baseUrl, basic(settings.email, settings.apiToken));
      if (settings.oauthToken) return fixed(baseUrl, `Bearer ${settings.oauthToken}`);
      throw new CrmError('CONFIG', 'Zendesk (API token, legacy) needs an agent email and API token on the rule or the integration; API tokens stop working on 2027-04-30: switch to OAuth.');
    case 'client_credentials':
      return {
        key: sessionKey('zendesk', baseUrl, ['client_credentials', settings.clientId], [settings.clientSecret]),
        durable: false,
        login: async (_previous, signal) => {
          const answer = await tokenGrant(services, baseUrl, { grant_type: 'client_credentials', client_id: settings.clientId, client_secret: settings.clientSecret, scope: ZENDESK_SCOPE }, 'the client credentials', signal);
          return bearer(answer);
        },
      };
    case 'authorization_code':
      if (!settings.refreshToken) throw new CrmError('CONFIG', 'Zendesk is not connected: press Connect under CRM > Integration > Zendesk (or paste a refresh token).');
      return {
        key: sessionKey('zendesk', baseUrl, ['authorization_code', settings.clientId], [settings.clientSecret, settings.refreshToken]),
        durable: true,
        login: async (previous, signal) => {
          const refreshToken = previous?.refreshToken ?? settings.refreshToken;
          const answer = await tokenGrant(services, baseUrl, {
            grant_type: 'refresh_token', refresh_token: refreshToken, client_id: settings.clientId, client_secret: settings.clientSecret,
            expires_in: ACCESS_TOKEN_SECONDS, refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
          }, 'the stored refresh token (press Connect again under CRM > Integration > Zendesk)', signal);
          return { ...bearer(answer), refreshToken: answer.refreshToken ?? refreshToken };
        },
      };
  }
}

/** One request to Zendesk's token endpoint (`/oauth/tokens`, JSON). */
export function tokenGrant(services: ConnectorServices, baseUrl: string, params: Record<string, string | number>, presented: string, signal: AbortSignal): Promise<TokenAnswer> {
  return requestToken(services.http, { url: `${baseUrl}/oauth/tokens`, params, encoding: 'json', what: "Zendesk's token endpoint", presented, signal });
}

function bearer(answer: TokenAnswer): ZendeskAuth {
  return { authorization: `Bearer ${answer.accessToken}`, expiresAt: expiresAt(answer, ACCESS_TOKEN_SECONDS) };
}

/** A header that needs no sign-in request; still held in the TokenCache so withSession's 401 discipline applies. */
function fixed(baseUrl: string, authorization: string): ZendeskSignIn {
  return { key: sessionKey('zendesk', baseUrl, [], [authorization]), durable: false, login: async () => ({ authorization, expiresAt: NEVER }) };
}

function basic(email: string, apiToken: string): string {
  return `Basic ${Buffer.from(`${email}/token:${apiToken}`).toString('base64')}`;
}
