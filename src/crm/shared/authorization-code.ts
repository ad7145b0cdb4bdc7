/**
 * The two requests of the OAuth 2.0 authorization code grant (RFC 6749 §4.1, PKCE RFC 7636) as
 * the "Connect" declarations build them: the URL of the vendor's consent page, and the form that
 * exchanges the code at the vendor's token endpoint.
 */
import { encodeStrict } from './request-template';

/**
 * The consent page with its parameters percent-encoded the strict way (a space as %20, not +),
 * as the vendors' own SDKs build it, so a scope list such as "api refresh_token" arrives as
 * written. Parameters left undefined are not sent.
 */
export function consentUrl(endpoint: string | URL, params: Record<string, string | undefined>): string {
  const url = new URL(endpoint);
  url.search = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${encodeStrict(name)}=${encodeStrict(value)}`)
    .join('&');
  return url.toString();
}

/** The token request's form: grant_type=authorization_code, the client, the code, its redirect URI and PKCE verifier (when there is one). */
export function codeGrantForm(client: { clientId: string; clientSecret: string }, params: { code: string; redirectUri: string; codeVerifier?: string }): Record<string, string> {
  return {
    grant_type: 'authorization_code',
    code: params.code,
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uri: params.redirectUri,
    ...(params.codeVerifier ? { code_verifier: params.codeVerifier } : {}),
  };
}
