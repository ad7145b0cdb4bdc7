/**
 * Dynamics 365 "Connect": the Microsoft identity platform's authorization code flow with PKCE
 * (learn.microsoft.com "Microsoft identity platform and OAuth 2.0 authorization code flow") for
 * the `online365` deployment. The consent page is `{loginHost}/{tenant}/oauth2/v2.0/authorize`,
 * the code is redeemed at `.../oauth2/v2.0/token` (form; a web app's client secret travels too)
 * for tokens of the delegated Dataverse permission `{org}/user_impersonation` plus
 * `offline_access` (a refresh token) and `openid profile` (who signed in, from the ID token).
 * Lookups then run as that user: refresh tokens last 90 days and each refresh answers a new one,
 * which replaces the stored one (durable key; Microsoft does not revoke the old one at once).
 */
import { z } from 'zod';
import { codeGrantForm, consentUrl } from '../shared/authorization-code';
import { CrmError } from '../shared/crm-error';
import type { ConnectorServices, OAuthConnect } from '../integration';
import { expiresAt, requestToken, type TokenAnswer } from '../shared/oauth-token';
import type { CachedToken } from '../shared/token-cache';

export interface EntraApp {
  orgUrl: string;
  tenantId: string;
  loginHost: string;
  clientId: string;
  clientSecret: string;
}

export interface DelegatedToken extends CachedToken {
  accessToken: string;
  refreshToken: string;
}

/** Dataverse's delegated permission for the organization, and a refresh token. */
export function delegatedScope(orgUrl: string): string {
  return `${new URL(orgUrl).origin}/user_impersonation offline_access`;
}

function endpoint(app: EntraApp, action: 'authorize' | 'token'): string {
  return `${app.loginHost}/${encodeURIComponent(app.tenantId)}/oauth2/v2.0/${action}`;
}

function tokenRequest(services: ConnectorServices, app: EntraApp, params: Record<string, string>, presented: string, signal: AbortSignal): Promise<TokenAnswer> {
  return requestToken(services.http, { url: endpoint(app, 'token'), params: { client_id: app.clientId, client_secret: app.clientSecret, ...params }, what: 'Microsoft Entra ID', presented, signal });
}

/** A new access token for the signed-in user from the current refresh token. */
export async function refreshDelegatedToken(services: ConnectorServices, app: EntraApp, refreshToken: string, signal: AbortSignal): Promise<DelegatedToken> {
  const answer = await tokenRequest(services, app, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: delegatedScope(app.orgUrl) },
    'the stored refresh token (press Connect again under CRM > Integration > Microsoft Dynamics)', signal);
  return { accessToken: answer.accessToken, refreshToken: answer.refreshToken ?? refreshToken, expiresAt: expiresAt(answer, 3599) };
}

const idTokenClaims = z.looseObject({ preferred_username: z.string().optional(), upn: z.string().optional(), name: z.string().optional() });

/** Who signed in, from the ID token's claims (shown on the page only; its signature is not checked). */
function accountOf(idToken: unknown): string | undefined {
  if (typeof idToken !== 'string') return undefined;
  try {
    const claims = idTokenClaims.parse(JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')));
    return claims.preferred_username ?? claims.upn ?? claims.name;
  } catch {
    return undefined;
  }
}

type Settings = Record<string, unknown> & { deployment: string } & EntraApp;

export const dynamicsConnect: OAuthConnect<Settings> = {
  pkce: true,

  requires(settings) {
    if (settings.deployment !== 'online365') return 'Connect signs in to Dynamics 365 (online): choose that deployment and Save first. CRM 2015 on-premises uses the Windows account.';
    if (!settings.orgUrl || !settings.tenantId || !settings.clientId || !settings.clientSecret) {
      return 'Save the organization URL, tenant ID, application (client) ID and a client secret first (an app registration of the Web platform whose redirect URI is the one shown here, with the delegated permission Dynamics CRM user_impersonation).';
    }
    return undefined;
  },

  authorizeUrl(settings, { redirectUri, state, codeChallenge }) {
    return consentUrl(endpoint(settings, 'authorize'), {
      client_id: settings.clientId, response_type: 'code', redirect_uri: redirectUri, response_mode: 'query',
      scope: `${delegatedScope(settings.orgUrl)} openid profile`, state,
      code_challenge: codeChallenge, code_challenge_method: codeChallenge ? 'S256' : undefined,
    });
  },

  async exchangeCode(settings, params, services, signal) {
    const answer = await tokenRequest(services, settings, { ...codeGrantForm(settings, params), scope: `${delegatedScope(settings.orgUrl)} openid profile` }, 'the authorization code', signal);
    if (!answer.refreshToken) throw new CrmError('AUTH', 'Microsoft Entra ID answered without a refresh token (offline_access was not granted).');
    const account = accountOf(answer.body.id_token);
    return { secrets: { refreshToken: answer.refreshToken }, ...(account ? { account } : {}) };
  },
};
