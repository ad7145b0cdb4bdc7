/**
 * The reference host's sign-in: users with a password each, server-side sessions (host-sessions.ts)
 * behind an httpOnly cookie, a CSRF token bound to the session (before sign-in, to a random
 * pre-session cookie), local-only redirects after sign-in, and what the plugin needs of it
 * (HostAuth: the login check, the user and tenant, the session id its CSRF tokens are bound to).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { HostAuth } from '../../src/host';
import { bodyTypeGate, formFields, formText } from '../../src/web/body-types';
import { createCsrf, type Csrf } from '../../src/web/csrf';
import type { HostSession, HostSessions } from './host-sessions';

export interface HostUserAccount {
  name: string;
  password: string;
  tenantId: string;
}

const SESSION_COOKIE = 'pbx_sid';
const PRE_SESSION_COOKIE = 'pbx_pre';

export interface HostSignIn {
  auth: HostAuth;
  csrf: Csrf;
  /** Form posts of the host's own pages: form bodies only, then the CSRF check. */
  formPost: RequestHandler[];
  /** Loads the session of a request that carries a session cookie (before any page). */
  loadSession: RequestHandler;
  /** GET/POST /login, POST /logout. */
  routes(render: (req: Request, res: Response, locals: { error: string; username: string; next: string }, status?: number) => Promise<void>): Router;
  userName(req: Request): string | undefined;
}

export function hostSignIn(options: { sessions: HostSessions; users: HostUserAccount[]; secretKey: string; secureCookies: boolean }): HostSignIn {
  const { sessions, users } = options;
  const loaded = new WeakMap<Request, HostSession>();
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: options.secureCookies, path: '/' };
  const csrf = createCsrf({
    secretKey: options.secretKey,
    sessionOf: (req) => loaded.get(req)?.key ?? preSession(req),
    secureCookie: options.secureCookies,
    cookieName: 'pbx_csrf',
    purpose: 'host csrf',
  });
  const formPost = [bodyTypeGate([]), express.urlencoded({ extended: false, limit: '20kb' }), csrf.protect];

  /** The id the login form's token is bound to, before there is a session: a random cookie of its own. */
  function preSession(req: Request): string {
    let id = (req.cookies as Record<string, unknown> | undefined)?.[PRE_SESSION_COOKIE];
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(id)) {
      id = randomBytes(16).toString('base64url');
      req.res?.cookie(PRE_SESSION_COOKIE, id, cookieOptions);
      (req.cookies as Record<string, unknown>)[PRE_SESSION_COOKIE] = id;
    }
    return id as string;
  }

  const loadSession: RequestHandler = async (req, _res, next) => {
    const id = (req.cookies as Record<string, unknown> | undefined)?.[SESSION_COOKIE];
    if (typeof id !== 'string') return next();
    const session = await sessions.find(id);
    if (session) loaded.set(req, session);
    next();
  };

  const requireLogin: RequestHandler = (req, res, next) => {
    if (loaded.has(req)) return next();
    if (req.method === 'GET' && req.accepts(['html', 'json']) === 'html') return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    res.status(401).type('text').send('Sign in first.');
  };

  const auth: HostAuth = {
    middleware: requireLogin,
    currentUser: (req) => {
      const session = loaded.get(req);
      return { id: session?.user ?? '', name: session?.user ?? '', tenantId: session?.tenantId ?? '' };
    },
    sessionId: (req) => loaded.get(req)?.key ?? '',
  };

  function routes(render: Parameters<HostSignIn['routes']>[0]): Router {
    const router = express.Router();
    router.get('/login', (req, res) => render(req, res, { error: '', username: '', next: localPath(req.query.next) }));
    router.post('/login', ...formPost, async (req, res) => {
      const body = formFields(req);
      const username = formText(body, 'username', 200);
      const user = users.find((u) => u.name === username && sameSecret(u.password, formText(body, 'password', 1000)));
      if (!user) return render(req, res, { error: 'Wrong username or password.', username, next: localPath(formText(body, 'next')) }, 401);
      const old = (req.cookies as Record<string, unknown>)[SESSION_COOKIE];
      if (typeof old === 'string') await sessions.end(old);
      const id = await sessions.create(user.name, user.tenantId);
      res.cookie(SESSION_COOKIE, id, { ...cookieOptions, maxAge: sessions.maxAgeMs });
      res.redirect(303, localPath(formText(body, 'next')));
    });
    router.post('/logout', ...formPost, async (req, res) => {
      const id = (req.cookies as Record<string, unknown>)[SESSION_COOKIE];
      if (typeof id === 'string') await sessions.end(id);
      res.clearCookie(SESSION_COOKIE, cookieOptions);
      res.redirect(303, '/login');
    });
    return router;
  }

  return { auth, csrf, formPost, loadSession, routes, userName: (req) => loaded.get(req)?.user };
}

/**
 * Where to go after sign-in: a path on this site only. Browsers read `/\host` and `/<tab>/host`
 * as `//host` (another site), so backslashes, control characters and spaces are refused too.
 */
export function localPath(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000 || !next.startsWith('/') || next.startsWith('//')) return '/';
  if (/[\\\u0000-\u0020\u007f]/.test(next)) return '/';
  const base = 'http://host.invalid';
  const url = new URL(next, base);
  return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : '/';
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
