/**
 * The second read of "Owner's extension" rows whose CRM value is a user id: the CRM's user (or
 * owner) record of that id, for its e-mail. Each CRM that needs it declares it in
 * src/crm/<crm>/owners.ts; answers are cached like other metadata (shared/metadata-cache.ts),
 * so a busy owner costs one read per OWNER_CACHE_TTL_MS, and every read has its own timeout
 * besides the call's deadline.
 */
import type { Credentials } from './integration';
import { CrmError, type CrmErrorCode } from './shared/crm-error';
import { MetadataCache } from './shared/metadata-cache';
import { asCrmError } from './shared/vendor-call';

export type OwnerEmailResult =
  | { kind: 'email'; email: string }
  /** The CRM has no such user, or the user has no e-mail address. */
  | { kind: 'not_found' }
  | { kind: 'error'; code: CrmErrorCode; message: string };

export interface OwnerLookup {
  /** The e-mail of the CRM user `ownerId`; never throws for the CRM's failure. */
  ownerEmail(ownerId: string, credentials: Credentials, signal: AbortSignal): Promise<OwnerEmailResult>;
}

/** How long a user's e-mail is trusted: owners change rarely, and a stale one only misroutes to the default. */
export const OWNER_CACHE_TTL_MS = 10 * 60_000;
export const OWNER_CACHE_ENTRIES = 5_000;
/** A user read's own limits (the call's deadline usually ends it sooner). */
export const OWNER_READ = { timeoutMs: 3_000, maxBodyBytes: 256 * 1024 };

const EMAIL = /^[^\s@<>()",;:]{1,64}@[^\s@<>()",;:]{1,190}$/;

/** An answer's e-mail when it is one; undefined for blanks and anything that is not an address. */
export function emailOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.trim();
  return EMAIL.test(email) ? email : undefined;
}

/**
 * A connector's cache of user id -> e-mail (or null: no such user / no e-mail). A failed read
 * is not cached, so the next call asks again.
 */
export class OwnerEmailCache {
  private readonly cache = new MetadataCache<string | null>(OWNER_CACHE_ENTRIES, OWNER_CACHE_TTL_MS);

  constructor(private readonly what: string) {}

  async get(ownerId: string, idPattern: RegExp, signal: AbortSignal, read: (id: string) => Promise<string | null>): Promise<OwnerEmailResult> {
    const id = ownerId.trim();
    try {
      if (!idPattern.test(id)) throw new CrmError('CONFIG', `"${id.slice(0, 40)}" is not a ${this.what} user id; check that the rule's field holds the owner's id.`);
      const email = await this.cache.get(id, () => read(id));
      return email === null ? { kind: 'not_found' } : { kind: 'email', email };
    } catch (err) {
      const error = asCrmError(err, this.what, signal);
      return { kind: 'error', code: error.code, message: error.message };
    }
  }
}
