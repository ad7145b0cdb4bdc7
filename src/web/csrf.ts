/**
 * CSRF on every form post: the double-submit cookie pattern (csrf-csrf), with the token bound
 * to the login session (HostAuth.sessionId; user and tenant when the host gives none) and HMAC'd
 * under a key derived from the host's secret. Forms carry the
 * token in `_csrf`; the page's fetch() calls send it in the `x-csrf-token` header.
 */
import { hkdfSync } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { doubleCsrf } from 'csrf-csrf';

export interface CsrfOptions {
  secretKey: string | Buffer;
  /** Who the token belongs to (the login session, user and tenant). */
  sessionOf: (req: Request) => string;
  /** Mark the cookie Secure (set false only for a host served over plain http, e.g. the demo). */
  secureCookie: boolean;
  /** Default crm_routing_csrf. */
  cookieName?: string;
  /** Derivation label, so two users of this module never share a key. Default "csrf v1". */
  purpose?: string;
}

export interface Csrf {
  protect: RequestHandler;
  /** A token for a page's forms (sets the cookie when needed). */
  token: (req: Request, res: import('express').Response) => string;
}

export const CSRF_FAILED_MESSAGE = 'This form has expired or did not come from this site. Reload the page and try again; nothing was saved.';

export function createCsrf(options: CsrfOptions): Csrf {
  const secret = Buffer.from(hkdfSync('sha256', options.secretKey, 'crm-routing', options.purpose ?? 'csrf v1', 32)).toString('hex');
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: options.sessionOf,
    cookieName: options.cookieName ?? 'crm_routing_csrf',
    cookieOptions: { sameSite: 'strict', path: '/', secure: options.secureCookie, httpOnly: true },
    getCsrfTokenFromRequest: (req) => {
      const token = req.is('application/x-www-form-urlencoded') ? (req.body as Record<string, unknown> | undefined)?._csrf : req.headers['x-csrf-token'];
      return typeof token === 'string' ? token : undefined;
    },
    errorConfig: { statusCode: 403, message: CSRF_FAILED_MESSAGE, code: 'EBADCSRFTOKEN' },
  });
  // One token per response: a page that asks twice (its forms, the host's logout form) while the
  // request still carries a cookie of an earlier session would otherwise get two new tokens, and
  // only the cookie of the second would be kept, so the first page after signing in failed.
  const issued = new WeakMap<import('express').Response, string>();
  return {
    protect: doubleCsrfProtection,
    token: (req, res) => {
      let token = issued.get(res);
      if (token === undefined) {
        token = generateCsrfToken(req, res, { overwrite: false, validateOnReuse: false });
        issued.set(res, token);
      }
      return token;
    },
  };
}
