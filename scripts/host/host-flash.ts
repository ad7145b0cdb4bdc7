/**
 * The reference host's one-time notices ("DID 5551234 now goes to ..."): kept in the signed
 * session cookie for the page the redirect lands on, then forgotten.
 */
import type { Request } from 'express';

interface FlashSession { flash?: string }

export function setFlash(req: Request, message: string): void {
  (req.session as FlashSession).flash = message.slice(0, 500);
}

export function takeFlash(req: Request): string {
  const session = req.session as FlashSession | null | undefined;
  const message = session?.flash ?? '';
  if (session?.flash !== undefined) delete session.flash;
  return message;
}
