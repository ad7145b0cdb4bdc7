/**
 * One-time notices after a redirect ("Rule 'Gold' was created."): the message travels in a
 * short-lived cookie, HMAC'd under a key derived from the host's secret and bound to the signed-in
 * user, and is cleared by the page that shows it. The URL never carries it, so nobody can make
 * the green box say something by sending a link, and a reload does not show it again.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

export interface FlashOptions {
  secretKey: string | Buffer;
  /** Who the notice is for (tenant and user): another user's notice is never shown. */
  sessionOf: (req: Request) => string;
  /** Cookie path: the plugin's mount path. */
  path: string;
  secureCookie: boolean;
  /** Default crm_routing_flash. */
  cookieName?: string;
  /**
   * Default strict. Lax for a notice set at the end of a redirect chain that began on another
   * site (a CRM's consent page sends the browser back): a Strict cookie would not come along.
   */
  sameSite?: 'strict' | 'lax';
}

export interface Flash {
  /** Sets the notice the next page shows. */
  set(req: Request, res: Response, message: string): void;
  /** The notice waiting for this user, cleared as it is read; '' when there is none. */
  take(req: Request, res: Response): string;
}

/** A notice is read on the page the redirect lands on; a minute is plenty. */
const FLASH_MAX_AGE_MS = 60_000;
/** Cookies are limited to about 4 KB; notices are a sentence or two. */
const MAX_MESSAGE_CHARS = 1_500;

export function createFlash(options: FlashOptions): Flash {
  const key = Buffer.from(hkdfSync('sha256', options.secretKey, 'crm-routing', 'flash v1', 32));
  const name = options.cookieName ?? 'crm_routing_flash';
  const cookie = { path: options.path, httpOnly: true, sameSite: options.sameSite ?? ('strict' as const), secure: options.secureCookie };
  const mac = (session: string, payload: string) => createHmac('sha256', key).update(`${session}\u0000${payload}`).digest('base64url');

  return {
    set(req, res, message) {
      const payload = Buffer.from(JSON.stringify({ m: message.slice(0, MAX_MESSAGE_CHARS), exp: Date.now() + FLASH_MAX_AGE_MS })).toString('base64url');
      res.cookie(name, `${payload}.${mac(options.sessionOf(req), payload)}`, { ...cookie, maxAge: FLASH_MAX_AGE_MS });
    },
    take(req, res) {
      const value = (req.cookies as Record<string, unknown> | undefined)?.[name];
      if (typeof value !== 'string') return '';
      res.clearCookie(name, cookie);
      const [payload = '', tag = ''] = value.split('.');
      const expected = Buffer.from(mac(options.sessionOf(req), payload));
      const given = Buffer.from(tag);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return '';
      try {
        const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { m?: unknown; exp?: unknown };
        return typeof body.m === 'string' && typeof body.exp === 'number' && body.exp >= Date.now() ? body.m : '';
      } catch {
        return '';
      }
    },
  };
}
