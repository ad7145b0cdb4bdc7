/**
 * How a Proprietary CRM connector authenticates: nothing, HTTP Basic, a bearer token, an API key
 * header, or an OAuth2 access token (client credentials or password grant) fetched from the
 * token URL and cached until it expires. Static schemes give their header at once; OAuth2 goes
 * through the token cache like every vendor login.
 */
import { z } from 'zod';
import { CrmError, errorForStatus, possessive } from '../shared/crm-error';
import type { HttpClient } from '../shared/http-client';
import type { Credentials } from '../integration';
import type { CachedToken } from '../shared/token-cache';
import { parseJsonBody, retryAfterMs } from '../shared/vendor-call';

export const AUTH_TYPES = ['none', 'basic', 'bearer', 'api_key', 'oauth2_client_credentials', 'oauth2_password'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

export interface AuthSettings {
  authType: AuthType;
  apiKeyHeader: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  /** Where the OAuth2 client id/secret go: the form body, or an HTTP Basic header (RFC 6749 2.3.1). */
  clientAuth: 'body' | 'basic';
}

export interface AuthToken extends CachedToken {
  headers: Record<string, string>;
}

const DEFAULT_TOKEN_LIFETIME_S = 3600;
const tokenSchema = z.object({ access_token: z.string().min(1), token_type: z.string().optional(), expires_in: z.coerce.number().positive().optional() });

export function isOAuth(type: AuthType): boolean {
  return type === 'oauth2_client_credentials' || type === 'oauth2_password';
}

/**
 * The credentials a scheme uses: Basic and the password grant take the user's login; a bearer
 * token or API key is the password; client credentials are the client ID (username) and secret
 * (password). A rule's values come first, the integration's fill the gaps.
 */
export function schemeCredentials(settings: AuthSettings & { username: string; password: string }, rule: Credentials): Credentials {
  const pick = (ruleValue: string, fallback: string) => (ruleValue.trim() !== '' ? ruleValue : fallback);
  if (settings.authType === 'oauth2_client_credentials') return { username: pick(rule.username, settings.clientId), password: pick(rule.password, settings.clientSecret) };
  return { username: pick(rule.username, settings.username).trim(), password: pick(rule.password, settings.password) };
}

export function staticAuthHeaders(settings: AuthSettings, credentials: Credentials): Record<string, string> {
  switch (settings.authType) {
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}` };
    case 'bearer':
      return { authorization: `Bearer ${credentials.password}` };
    case 'api_key':
      return { [settings.apiKeyHeader]: credentials.password };
    default:
      return {};
  }
}

/** What a scheme needs that is missing, as a sentence; undefined when complete. */
export function missingCredentials(settings: AuthSettings, credentials: Credentials): string | undefined {
  switch (settings.authType) {
    case 'basic':
    case 'oauth2_password':
      return credentials.username === '' || credentials.password === '' ? 'a username and password' : undefined;
    case 'bearer':
      return credentials.password === '' ? 'the bearer token (as the password)' : undefined;
    case 'api_key':
      return credentials.password === '' ? 'the API key (as the password)' : undefined;
    case 'oauth2_client_credentials':
      return credentials.username === '' || credentials.password === '' ? 'the OAuth2 client ID and secret' : undefined;
    default:
      return undefined;
  }
}

export async function fetchOAuthToken(http: HttpClient, settings: AuthSettings, credentials: Credentials, signal: AbortSignal, what: string): Promise<AuthToken> {
  const form = new URLSearchParams();
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const [clientId, clientSecret] = settings.authType === 'oauth2_client_credentials' ? [credentials.username, credentials.password] : [settings.clientId, settings.clientSecret];
  if (settings.authType === 'oauth2_password') {
    form.set('grant_type', 'password');
    form.set('username', credentials.username);
    form.set('password', credentials.password);
  } else {
    form.set('grant_type', 'client_credentials');
  }
  if (settings.scope !== '') form.set('scope', settings.scope);
  if (settings.clientAuth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  } else {
    form.set('client_id', clientId);
    if (clientSecret !== '') form.set('client_secret', clientSecret);
  }
  const tokenWhat = `${possessive(what)} token URL`;
  const res = await http.request({ method: 'POST', url: settings.tokenUrl, signal, what: tokenWhat, headers, body: form.toString() });
  if (res.status === 400 || res.status === 401) {
    let code = '';
    try {
      code = String((JSON.parse(res.body) as { error?: unknown }).error ?? '');
    } catch {
      // not JSON
    }
    throw new CrmError('AUTH', `${tokenWhat} refused the ${settings.authType === 'oauth2_password' ? 'username, password or client' : 'client ID or secret'} (${res.status}${code ? ` ${code.slice(0, 60)}` : ''}).`, { status: res.status });
  }
  if (res.status < 200 || res.status >= 300) throw errorForStatus(res.status, tokenWhat, retryAfterMs(res));
  const body = parseJsonBody(res, tokenWhat, tokenSchema);
  if (!body) throw new CrmError('BAD_RESPONSE', `${tokenWhat} answered with an empty body.`);
  return { headers: { authorization: `Bearer ${body.access_token}` }, expiresAt: Date.now() + (body.expires_in ?? DEFAULT_TOKEN_LIFETIME_S) * 1000 };
}
