/**
 * The authorization code grant as every vendor fake checks it, written once: the consent page
 * (auto-approved) issues a code bound to what the request said (client, redirect URI, PKCE
 * challenge, scopes...), the token endpoint takes it once, and must present the same redirect
 * URI and, where a challenge was sent, the verifier whose S256 hash it is (RFC 7636).
 */
import { createHash, randomBytes } from 'node:crypto';

export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  /** S256 code challenge of the consent request, when the vendor takes PKCE. */
  codeChallenge?: string;
  scopes: string[];
  /** Whatever else the vendor binds to the code (a data centre, say). */
  extra?: Record<string, string>;
}

export class AuthorizationCodes {
  private readonly codes = new Map<string, CodeGrant>();

  issue(grant: CodeGrant): string {
    const code = `code-${randomBytes(9).toString('base64url')}`;
    this.codes.set(code, grant);
    return code;
  }

  /**
   * The grant of `code`, taken (a code works once), or what the vendor would refuse: an unknown
   * or used code, another client, another redirect URI, a missing or wrong PKCE verifier.
   */
  redeem(code: string, form: URLSearchParams): CodeGrant | string {
    const grant = this.codes.get(code);
    this.codes.delete(code);
    if (!grant) return 'unknown or already used code';
    if (form.get('client_id') !== grant.clientId) return 'code issued to another client';
    if (form.get('redirect_uri') !== grant.redirectUri) return 'redirect_uri differs from the consent request';
    if (grant.codeChallenge !== undefined && s256(form.get('code_verifier') ?? '') !== grant.codeChallenge) return 'code_verifier does not match the code_challenge';
    return grant;
  }
}

/** The S256 code challenge of a verifier: base64url(SHA-256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** A verifier and its S256 challenge, as the plugin's Connect route makes them. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier) };
}

/** Where a consent page sends the browser back: the redirect URI with `params` added. */
export function redirectBack(redirectUri: string, params: Record<string, string>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}
