import assert from 'node:assert/strict';
import { isSamePhone, lastDigits, phoneVariants, withoutExtension } from '../../src/domain/phone';

describe('phoneVariants', () => {
  it('derives E.164, national, international and typed forms of a NANP caller', () => {
    const p = phoneVariants('+15551234567', 'US');
    assert.equal(p.e164, '+15551234567');
    assert.equal(p.national, '5551234567');
    assert.equal(p.international, '15551234567');
    assert.equal(p.nationalWithTrunk, '5551234567');
    for (const form of ['(555) 123-4567', '555-123-4567', '555.123.4567', '+1 555 123 4567']) assert.ok(p.exactForms.includes(form), form);
    assert.equal(lastDigits(p, 7), '1234567');
  });

  it('reads a national number in the tenant region and strips the international prefix', () => {
    assert.equal(phoneVariants('5551234567', 'US').e164, '+15551234567');
    assert.equal(phoneVariants('00442071234567', 'DE').e164, '+442071234567');
    assert.equal(phoneVariants('011442071234567', 'US').e164, '+442071234567');
    const gb = phoneVariants('02071234567', 'GB');
    assert.equal(gb.e164, '+442071234567');
    assert.equal(gb.national, '2071234567');
    assert.equal(gb.nationalWithTrunk, '02071234567');
  });

  it('keeps an internal extension as digits without inventing an E.164', () => {
    const p = phoneVariants('100', 'US');
    assert.equal(p.e164, '');
    assert.equal(p.national, '100');
  });
});

describe('isSamePhone', () => {
  const caller = phoneVariants('+15551234567', 'US');
  const uk = phoneVariants('+442071234567', 'US');
  const same: Array<[string, typeof caller]> = [
    ['(555) 123-4567', caller], ['+1 555.123.4567', caller], ['001 555 123 4567', caller], ['15551234567', caller],
    ['020 7123 4567', uk], ['+44 (0)20 7123 4567', uk], ['0044 20 7123 4567', uk],
  ];
  for (const [stored, who] of same) it(`accepts ${stored}`, () => assert.ok(isSamePhone(stored, who)));
  const other: Array<[string, typeof caller]> = [['555-123-4568', caller], ['1234567', caller], ['', caller], ['020 7123 4568', uk]];
  for (const [stored, who] of other) it(`rejects ${JSON.stringify(stored)}`, () => assert.ok(!isSamePhone(stored, who)));
});

describe('extensions', () => {
  const caller = phoneVariants('+15550005555', 'US');
  const table: Array<[string, string]> = [
    ['555-000-5555 x123', '555-000-5555'],
    ['555-000-5555x123', '555-000-5555'],
    ['555-000-5555 x.123', '555-000-5555'],
    ['(555) 000-5555 ext. 123', '(555) 000-5555'],
    ['(555) 000-5555 ext 123', '(555) 000-5555'],
    ['+1 555 000 5555 Extension 42', '+1 555 000 5555'],
    ['tel:+1-555-000-5555;ext=123', 'tel:+1-555-000-5555'],
    ['555-000-5555#123', '555-000-5555'],
    ['555-000-5555 # 9', '555-000-5555'],
    ['555-000-5555', '555-000-5555'],
    ['x123', 'x123'],
    ['Fax 5550005555', 'Fax 5550005555'],
  ];
  for (const [stored, bare] of table) it(`reads ${JSON.stringify(stored)} as ${JSON.stringify(bare)}`, () => assert.equal(withoutExtension(stored), bare));

  for (const [stored] of table.slice(0, 9)) it(`matches the caller to ${JSON.stringify(stored)}`, () => assert.ok(isSamePhone(stored, caller)));
  it('does not match another number that only shares the digits of an extension', () => {
    assert.ok(!isSamePhone('555-000-5554 x5', caller));
    assert.ok(!isSamePhone('555-000 x5555', caller));
  });
});
