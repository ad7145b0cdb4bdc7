/**
 * Signed dialplan lines. FastAGI has no authentication and a tenant's name is no secret, so the
 * AGI URL the plugin writes for a rule carries `sig`: an HMAC over the rule id and the tenant,
 * under a key derived from the host's secret. A call is routed only when its line carries a
 * signature the plugin made; anyone who can reach the AGI port can still choose a caller
 * number, but no longer which tenant's CRM is asked.
 *
 * After a key change the host may keep accepting the previous key for a while
 * (HostContext.dialplanSigning), so lines already in the dialplan keep routing while they are
 * regenerated from the DIDs page.
 *
 * The check runs on every call: one HMAC-SHA256 over a few bytes (about 2 µs), a second one
 * only for a line signed with the previous key.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { DialplanSigning } from '../host';

/** 128 bits of HMAC-SHA256, base64url: 22 characters, none special in a dialplan or a URL. */
const SIGNATURE_BYTES = 16;
const SIGNATURE_CHARS = 22;
const HKDF_INFO = 'crm-routing/dialplan-signature/v1';

export type SignatureCheck = 'current' | 'previous' | 'invalid';

export class DialplanSigner {
  readonly #current: Buffer;
  readonly #previous: Buffer | undefined;
  readonly #previousUntil: number;

  /** `secretKey` is the host's; `signing` may name another key and a previous one with its grace period. */
  constructor(secretKey: string | Buffer, signing: DialplanSigning = {}, private readonly now: () => number = Date.now) {
    this.#current = deriveKey(signing.key ?? secretKey);
    this.#previous = signing.previousKey === undefined ? undefined : deriveKey(signing.previousKey);
    this.#previousUntil = signing.acceptPreviousUntil?.getTime() ?? 0;
  }

  /** When the previous key stops being accepted; undefined when there is none (or its time has passed). */
  get previousKeyAcceptedUntil(): Date | undefined {
    return this.#previous && this.now() < this.#previousUntil ? new Date(this.#previousUntil) : undefined;
  }

  sign(ruleId: number | string, tenantId: string): string {
    return signatureOf(this.#current, String(ruleId), tenantId);
  }

  /** Whether `signature` was made for this rule id (as written in the line) and tenant. Constant time. */
  verify(ruleId: string, tenantId: string, signature: string): SignatureCheck {
    if (signature.length !== SIGNATURE_CHARS) return 'invalid';
    const given = Buffer.from(signature, 'latin1');
    if (same(given, signatureOf(this.#current, ruleId, tenantId))) return 'current';
    if (this.#previous && this.now() < this.#previousUntil && same(given, signatureOf(this.#previous, ruleId, tenantId))) return 'previous';
    return 'invalid';
  }
}

function deriveKey(material: string | Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', typeof material === 'string' ? Buffer.from(material, 'utf8') : material, Buffer.alloc(0), HKDF_INFO, 32));
}

/** The rule id is digits only, so the first NUL ends it: ("1", "2\0x") and ("1\02", "x") cannot collide. */
function signatureOf(key: Buffer, ruleId: string, tenantId: string): string {
  return createHmac('sha256', key).update(`${ruleId}\u0000${tenantId}`).digest().subarray(0, SIGNATURE_BYTES).toString('base64url');
}

function same(given: Buffer, expected: string): boolean {
  const wanted = Buffer.from(expected, 'latin1');
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
