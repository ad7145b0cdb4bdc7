/**
 * The two cookies of a CRM "Connect", both HttpOnly, SameSite=Lax (the vendor's redirect back is
 * a top-level GET from its site: Strict cookies would not come along) and limited to the
 * Integration pages' path:
 * - the browser binding: a random nonce set when Connect starts. Its hash, with the host's login
 *   session id when the host gives one, is stored with the state, so a callback in another
 *   browser or session is refused.
 * - the result notice: where the callback sends the browser back (303 to the Integration page),
 *   the outcome travels sealed (AES-256-GCM, bound to tenant and user), so no one can craft a
 *   link that shows a notice, and a reload does not repeat the callback.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CookieOptions, Request, Response } from 'express';
import { z } from 'zod';
import { isCrmKind, type CrmKind } from '../domain/crm-kinds';
import type { HostContext } from '../host';
import { Sealer } from '../store/sealing';

const BINDING_COOKIE = 'crm_routing_connect';
const NOTICE_COOKIE = 'crm_routing_connect_result';
const BINDING_MAX_AGE_MS = 15 * 60_000;
const NOTICE_MAX_AGE_MS = 60_000;

export interface ConnectNotice {
  crm: CrmKind;
  ok: boolean;
  message: string;
}

const noticeSchema = z.object({ crm: z.string().refine(isCrmKind), ok: z.boolean(), message: z.string().max(2000) });

export class ConnectCookies {
  private readonly sealer: Sealer;
  private readonly options: CookieOptions;

  constructor(private readonly host: HostContext, secure: boolean) {
    this.sealer = new Sealer(host.secretKey);
    this.options = { httpOnly: true, sameSite: 'lax', secure, path: `${host.basePath.replace(/\/+$/, '')}/integration` };
  }

  /** The binding of this browser and login session, set up (cookie) if the browser has none yet. */
  bind(req: Request, res: Response): string {
    let nonce = this.nonce(req);
    if (nonce === undefined) nonce = randomBytes(32).toString('base64url');
    res.cookie(BINDING_COOKIE, nonce, { ...this.options, maxAge: BINDING_MAX_AGE_MS });
    return this.hash(req, nonce);
  }

  /** The binding a callback arrives with; a browser without the cookie gets one no Connect has. */
  bindingOf(req: Request): string {
    return this.hash(req, this.nonce(req) ?? '');
  }

  setNotice(req: Request, res: Response, notice: ConnectNotice): void {
    res.cookie(NOTICE_COOKIE, this.sealer.seal(JSON.stringify(notice), this.noticeContext(req)), { ...this.options, maxAge: NOTICE_MAX_AGE_MS });
  }

  /** The notice left for this user by a callback, read once. */
  takeNotice(req: Request, res: Response): ConnectNotice | undefined {
    const sealed = (req.cookies as Record<string, unknown> | undefined)?.[NOTICE_COOKIE];
    if (typeof sealed !== 'string') return undefined;
    res.clearCookie(NOTICE_COOKIE, this.options);
    try {
      const parsed = noticeSchema.safeParse(JSON.parse(this.sealer.open(sealed, this.noticeContext(req))));
      return parsed.success ? (parsed.data as ConnectNotice) : undefined;
    } catch {
      return undefined; // another user's, altered, or sealed under an old key: nothing to show
    }
  }

  private nonce(req: Request): string | undefined {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[BINDING_COOKIE];
    return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
  }

  private hash(req: Request, nonce: string): string {
    const session = this.host.auth.sessionId?.(req) ?? '';
    return createHash('sha256').update(JSON.stringify([nonce, session])).digest('hex');
  }

  private noticeContext(req: Request) {
    const user = this.host.auth.currentUser(req);
    return { tenantId: user.tenantId, purpose: `connect-notice:${user.id}` };
  }
}
