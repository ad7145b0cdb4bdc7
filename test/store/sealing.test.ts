import assert from 'node:assert/strict';
import { Sealer } from '../../src/store/sealing';
import { SealedValueError, StoreError } from '../../src/store/store-errors';

const KEY = 'k'.repeat(16) + '0123456789abcdef0123456789abcdef';
const here = { tenantId: 'tenant-a', purpose: 'rules.crm_password' };

describe('Sealer', () => {
  it('opens what it sealed, and seals the same text differently each time', () => {
    const sealer = new Sealer(KEY);
    const first = sealer.seal('s3cret ✓', here);
    const second = sealer.seal('s3cret ✓', here);
    assert.match(first, /^v1\.[A-Za-z0-9_-]+$/);
    assert.notEqual(first, second);
    assert.equal(sealer.open(first, here), 's3cret ✓');
    assert.equal(sealer.open(sealer.seal('', here), here), '');
  });

  it('does not reveal the plain text in the sealed form', () => {
    const sealed = new Sealer(KEY).seal('hunter2-password', here);
    assert.ok(!sealed.includes('hunter2'));
    assert.ok(!Buffer.from(sealed.slice(3), 'base64url').toString('latin1').includes('hunter2'));
  });

  it('refuses a value sealed for another tenant or another column', () => {
    const sealer = new Sealer(KEY);
    const sealed = sealer.seal('token', here);
    assert.throws(() => sealer.open(sealed, { ...here, tenantId: 'tenant-b' }), SealedValueError);
    assert.throws(() => sealer.open(sealed, { ...here, purpose: 'rules.custom_headers:x-api-key' }), SealedValueError);
  });

  it('keeps tenant and purpose apart in the authenticated data', () => {
    const sealer = new Sealer(KEY);
    const sealed = sealer.seal('token', { tenantId: 'ab', purpose: 'c' });
    assert.throws(() => sealer.open(sealed, { tenantId: 'a', purpose: 'bc' }), SealedValueError);
  });

  it('refuses an altered value and another key, with the specific error', () => {
    const sealed = new Sealer(KEY).seal('token', here);
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[bytes.length - 1] ^= 0x01;
    const tampered = `v1.${bytes.toString('base64url')}`;
    assert.throws(() => new Sealer(KEY).open(tampered, here), (e: unknown) => e instanceof SealedValueError && e.code === 'SEALED_VALUE_INVALID');
    assert.throws(() => new Sealer(KEY.replace('k', 'j')).open(sealed, here), SealedValueError);
  });

  it('refuses malformed values', () => {
    const sealer = new Sealer(KEY);
    assert.throws(() => sealer.open('plain text', here), SealedValueError);
    assert.throws(() => sealer.open('v1.AAAA', here), SealedValueError);
    assert.throws(() => sealer.open('v2.' + 'A'.repeat(60), here), SealedValueError);
  });

  it('accepts a Buffer key and rejects key material under 32 bytes', () => {
    const fromBuffer = new Sealer(Buffer.from(KEY, 'utf8'));
    assert.equal(new Sealer(KEY).open(fromBuffer.seal('same key', here), here), 'same key');
    assert.throws(() => new Sealer('short-key'), (e: unknown) => e instanceof StoreError && e.code === 'SEALING_KEY_TOO_SHORT' && /at least 32/.test(e.message));
    assert.throws(() => new Sealer(Buffer.alloc(31, 1)), /at least 32/);
  });
});
