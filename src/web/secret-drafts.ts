/**
 * Secrets typed into a form survive the form's round trips (a failed Save, Add row, the row
 * buttons, Test connection, Test rule) without ever being written into the page: the server seals
 * them into a short-lived draft (AES-256-GCM under a key of its own, derived from the host's
 * secret), bound to the tenant, the user and the form, and the page carries only that sealed
 * text in a hidden field. A draft copied to another user, tenant or form does not open; an
 * expired one opens as empty and says so, so the form can ask for the secret again.
 */
import { hkdfSync } from 'node:crypto';
import { z } from 'zod';
import { Sealer } from '../store/sealing';

/** Who a draft belongs to. */
export interface DraftOwner {
  tenantId: string;
  userId: string;
}

export interface OpenedDraft {
  /** Secret name -> the value typed earlier. */
  secrets: Record<string, string>;
  /** True when a draft was posted but is too old (or not this user's, tenant's or form's). */
  expired: boolean;
}

export interface SecretDraftsOptions {
  /** How long a typed secret is kept for the form. Default 30 minutes. */
  ttlMs?: number;
  now?: () => number;
}

export const DRAFT_TTL_MS = 30 * 60_000;
/** Enough for a form's handful of secrets; a larger field is not a draft of ours. */
const MAX_DRAFT_CHARS = 24_000;
const MAX_SECRETS = 32;

const draftBody = z.object({
  exp: z.number(),
  secrets: z.record(z.string().max(200), z.string().max(4000)),
});

export class SecretDrafts {
  readonly ttlMs: number;
  readonly #sealer: Sealer;
  readonly #now: () => number;

  constructor(secretKey: string | Buffer, options: SecretDraftsOptions = {}) {
    // A key of its own: a draft never opens as a stored secret, nor the other way round.
    this.#sealer = new Sealer(Buffer.from(hkdfSync('sha256', secretKey, 'crm-routing', 'secret drafts v1', 32)));
    this.ttlMs = options.ttlMs ?? DRAFT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The sealed draft for the page's hidden field; '' when there is nothing to keep. */
  seal(owner: DraftOwner, form: string, secrets: Record<string, string>): string {
    const kept = Object.entries(secrets).filter(([, value]) => value !== '').slice(0, MAX_SECRETS);
    if (kept.length === 0) return '';
    const body = JSON.stringify({ exp: this.#now() + this.ttlMs, secrets: Object.fromEntries(kept) });
    return this.#sealer.seal(body, contextOf(owner, form));
  }

  /** The secrets of a posted draft; anything that is not a live draft of this owner and form opens as none. */
  open(owner: DraftOwner, form: string, posted: unknown): OpenedDraft {
    if (typeof posted !== 'string' || posted === '') return { secrets: {}, expired: false };
    if (posted.length > MAX_DRAFT_CHARS) return { secrets: {}, expired: true };
    try {
      const parsed = draftBody.safeParse(JSON.parse(this.#sealer.open(posted, contextOf(owner, form))));
      if (!parsed.success || parsed.data.exp < this.#now()) return { secrets: {}, expired: true };
      return { secrets: parsed.data.secrets, expired: false };
    } catch {
      return { secrets: {}, expired: true };
    }
  }
}

function contextOf(owner: DraftOwner, form: string) {
  return { tenantId: owner.tenantId, purpose: JSON.stringify(['secret-draft', owner.userId, form]) };
}
