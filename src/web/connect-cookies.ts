/**
 * The two cookies of a CRM "Connect", both HttpOnly, SameSite=Lax (the vendor's redirect back is
 * a top-level GET from its site: Strict cookies would not come along) and limited to the
 * Integration pages' path:
 * - the browser binding: a random nonce set when Connect starts. Its hash, with the host's login
 *   session id when the host gives one, is stored with the state, so a callback in another
 *   browser or session is refused.
 * - the result notice: where the callback sends the browser back (303 to the Integration page),
 *   the outcome travels in a one-time flash (flash.ts: HMAC'd, bound to tenant and user), so no
 *   one can craft a link that shows a notice, and a reload does not repeat the callback.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CookieOptions, Request, Response } from 'express';
import { z } from 'zod';
import { isCrmKind, type CrmKind } from '../domain/crm-kinds';
import type { HostContext } from '../host';
import { createFlash, type Flash } from './flash';

const BINDING_COOKIE = 'crm_routing_connect';
const BINDING_MAX_AGE_MS = 15 * 60_000;

export interface ConnectNotice {
  crm: CrmKind;
  ok: boolean;
  message: string;
}

const noticeSchema = z.object({ crm: z.string().refine(isCrmKind), ok: z.boolean(), message: z.string().max(2000) });

export class ConnectCookies {
  private readonly options: CookieOptions;
  private readonly notices: Flash;

  constructor(private readonly host: HostContext, secure: boolean) {
    const path = `${host.basePath.replace(/\/+$/, '')}/integration`;
    this.options = { httpOnly: true, sameSite: 'lax', secure, path };
    this.notices = createFlash({
      secretKey: host.secretKey, path, secureCookie: secure, cookieName: 'crm_routing_connect_result', sameSite: 'lax',
      sessionOf: (req) => {
        const user = host.auth.currentUser(req);
        return JSON.stringify([user.tenantId, user.id]);
      },
    });
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
    this.notices.set(req, res, JSON.stringify(notice));
  }

  /** The notice left for this user by a callback, read once. */
  takeNotice(req: Request, res: Response): ConnectNotice | undefined {
    const text = this.notices.take(req, res);
    if (text === '') return undefined;
    try {
      const parsed = noticeSchema.safeParse(JSON.parse(text));
      return parsed.success ? (parsed.data as ConnectNotice) : undefined;
    } catch {
      return undefined;
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
}
