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
 * The check runs on every call: one HMAC-SHA256 over a few bytes (a few µs), a second one only
 * for a line signed with the previous key. Lines that verified are remembered (one entry per rule
 * and tenant, so the memory is bounded by the rules there are; a refused line adds nothing), and a
 * call from a known line costs a map lookup and a constant-time compare.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { DialplanSigning } from '../host';

/** 128 bits of HMAC-SHA256, base64url: 22 characters, none special in a dialplan or a URL. */
const SIGNATURE_BYTES = 16;
const SIGNATURE_CHARS = 22;
const HKDF_INFO = 'crm-routing/dialplan-signature/v1';
/** Lines remembered as verified; past it the memory starts over (more rules than this is no PBX). */
const MAX_REMEMBERED = 100_000;

export type SignatureCheck = 'current' | 'previous' | 'invalid';

export class DialplanSigner {
  readonly #current: Buffer;
  readonly #previous: Buffer | undefined;
  readonly #previousUntil: number;
  /** `rule\0tenant` -> the current key's signature, for lines that verified. */
  readonly #verified = new Map<string, Buffer>();

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
    const known = this.#verified.get(`${ruleId}\u0000${tenantId}`);
    if (known && given.length === known.length && timingSafeEqual(given, known)) return 'current';
    const expected = Buffer.from(signatureOf(this.#current, ruleId, tenantId), 'latin1');
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      if (this.#verified.size >= MAX_REMEMBERED) this.#verified.clear();
      this.#verified.set(`${ruleId}\u0000${tenantId}`, expected);
      return 'current';
    }
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
