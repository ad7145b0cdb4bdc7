/**
 * Seals stored CRM secrets with AES-256-GCM under a key derived from the host's `secretKey`.
 *
 * Text format: `v1.` + base64url(iv[12] | tag[16] | ciphertext). The version prefix leaves room
 * for another algorithm or key later without guessing what an old value is.
 *
 * Every value is bound to where it lives (additional authenticated data = tenant id + purpose,
 * e.g. the column), so a sealed value copied to another tenant's row or another column does not
 * open: the database alone cannot be used to move a secret around.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { SealedValueError, StoreError } from './store-errors';

export const MIN_SECRET_KEY_BYTES = 32;

/** Where a sealed value belongs; both parts must match to open it. */
export interface SealContext {
  tenantId: string;
  /** The column or field the value is stored in, e.g. "rules.crm_password". */
  purpose: string;
}

const FORMAT_PREFIX = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Fixed: changing it changes the derived key and makes every stored secret unreadable. */
const HKDF_INFO = 'crm-routing/store-sealing/v1/aes-256-gcm';

export class Sealer {
  readonly #key: Buffer;

  constructor(secretKey: string | Buffer) {
    const material = typeof secretKey === 'string' ? Buffer.from(secretKey, 'utf8') : secretKey;
    if (material.length < MIN_SECRET_KEY_BYTES) {
      throw new StoreError(
        'SEALING_KEY_TOO_SHORT',
        `The host's secretKey has ${material.length} bytes; at least ${MIN_SECRET_KEY_BYTES} are needed to seal CRM secrets (e.g. 64 hex characters from a random generator).`,
      );
    }
    this.#key = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), HKDF_INFO, 32));
  }

  seal(plain: string, context: SealContext): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(context));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return FORMAT_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
  }

  /** Throws SealedValueError when the value is malformed, altered, or sealed elsewhere / under another key. */
  open(sealed: string, context: SealContext): string {
    if (!sealed.startsWith(FORMAT_PREFIX)) {
      throw new SealedValueError(`A stored secret (${context.purpose}) is not in a known sealed format.`);
    }
    const bytes = Buffer.from(sealed.slice(FORMAT_PREFIX.length), 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) {
      throw new SealedValueError(`A stored secret (${context.purpose}) is truncated.`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(context));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new SealedValueError(
        `A stored secret (${context.purpose}) cannot be opened: the host's secretKey changed, or the value was altered or copied from another tenant. Enter the secret again.`,
        { cause },
      );
    }
  }
}

/** JSON keeps the two parts apart, so ("a", "bc") and ("ab", "c") never authenticate as each other. */
function additionalData(context: SealContext): Buffer {
  return Buffer.from(JSON.stringify([context.tenantId, context.purpose]), 'utf8');
}
