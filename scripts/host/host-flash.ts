/**
 * The reference host's one-time notices ("DID 5551234 now goes to ..."): kept in a signed,
 * httpOnly cookie for the page the redirect lands on, then forgotten. (The session itself is
 * kept on the server; a notice needs no database round trip.)
 */
import type { Request } from 'express';

const FLASH_COOKIE = 'pbx_flash';

export function setFlash(req: Request, message: string): void {
  req.res?.cookie(FLASH_COOKIE, message.slice(0, 500), { signed: true, httpOnly: true, sameSite: 'lax', path: '/' });
}

export function takeFlash(req: Request): string {
  const message = (req.signedCookies as Record<string, unknown> | undefined)?.[FLASH_COOKIE];
  if (message === undefined) return '';
  req.res?.clearCookie(FLASH_COOKIE, { path: '/' });
  return typeof message === 'string' ? message : '';
}
