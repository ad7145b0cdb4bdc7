import assert from 'node:assert/strict';
import { SEEDED_CATALOG } from '../../scripts/host/catalog';
import { applyFormEdit, emptyRuleForm, readFormEdit, readRuleForm, type RuleFormValues } from '../../src/web/rule-form';
import { validateRuleForm, type RuleFormContext } from '../../src/web/rule-validation';

const context: RuleFormContext = {
  catalog: SEEDED_CATALOG,
  integrations: [{ crm: 'zoho', hasDefaultCredentials: false, usesUsername: true }],
};

function validForm(overrides: Partial<RuleFormValues> = {}): RuleFormValues {
  return {
    ...emptyRuleForm(),
    name: 'Gold customers', fieldName: 'Account_Name', location: 'did', source: 'integration', crm: 'zoho',
    crmModule: 'Accounts', crmUsername: 'ops@example.com', crmPassword: 's3cret', defaultDestination: 'extension:100',
    rows: [{ operator: 'eq', value: 'Gold', destType: 'queue', destTarget: '103' }],
    ...overrides,
  };
}

describe('validateRuleForm', () => {
  it('turns a complete form into a draft', () => {
    const { draft, errors } = validateRuleForm(validForm(), context);
    assert.deepEqual(errors, {});
    assert.equal(draft?.name, 'Gold customers');
    assert.deepEqual(draft?.source, { kind: 'integration', crm: 'zoho', module: 'Accounts', username: 'ops@example.com', password: 's3cret' });
    assert.deepEqual(draft?.defaultDestination, { type: 'extension', target: '100' });
    assert.deepEqual(draft?.rows, [{ operator: 'eq', value: 'Gold', destination: { type: 'queue', target: '103' } }]);
  });

  // Each required field, emptied, gets its own message next to it.
  const required: Array<[string, Partial<RuleFormValues>, string, RegExp]> = [
    ['rule name', { name: '  ' }, 'name', /Enter a rule name/],
    ['field name', { fieldName: '' }, 'fieldName', /API name/],
    ['location', { location: 'x' }, 'location', /DID or IVR/],
    ['CRM', { crm: '' }, 'crm', /CRM > Integration/],
    ['module', { crmModule: '' }, 'crmModule', /module/],
    ['username', { crmUsername: '' }, 'crmUsername', /username/],
    ['password', { crmPassword: '' }, 'crmPassword', /password/],
    ['default destination', { defaultDestination: '' }, 'defaultDestination', /no row matches/],
    ['deadline', { deadlineSeconds: '11' }, 'deadlineSeconds', /1 to 10/],
    ['rows', { rows: [] }, 'rows', /at least one row/],
    ['row value', { rows: [{ operator: 'eq', value: '', destType: 'queue', destTarget: '103' }] }, 'rows.0.value', /value to compare/],
    ['row destination', { rows: [{ operator: 'eq', value: 'x', destType: 'queue', destTarget: '' }] }, 'rows.0.destTarget', /Choose the queue/],
  ];
  for (const [what, change, field, message] of required) {
    it(`asks for the ${what}`, () => {
      const { draft, errors } = validateRuleForm(validForm(change), context);
      assert.equal(draft, undefined);
      assert.match(errors[field] ?? '', message);
    });
  }

  it('rejects field names that are not API names', () => {
    for (const bad of ['Account Name', '1abc', 'a;DROP', 'x..y']) {
      assert.match(validateRuleForm(validForm({ fieldName: bad }), context).errors.fieldName ?? '', /letters, digits and underscores/, bad);
    }
    assert.deepEqual(validateRuleForm(validForm({ fieldName: 'Account.Name' }), context).errors, {});
  });

  it("accepts a Pipedrive custom field key, which may begin with a digit (as Fetch fields offers it)", () => {
    assert.deepEqual(validateRuleForm(validForm({ fieldName: '0123456789abcdef0123456789abcdef01234567' }), context).errors, {});
  });

  it('requires https for the Custom CRM URL', () => {
    const custom = { source: 'custom', customUrl: 'http://crm.example.com/x', customPost: 'no' };
    assert.match(validateRuleForm(validForm(custom), context).errors.customUrl ?? '', /must start with https:\/\//);
    const ok = validateRuleForm(validForm({ ...custom, customUrl: 'https://crm.example.com/x?k=1' }), context);
    assert.deepEqual(ok.errors, {});
    assert.deepEqual(ok.draft?.source, { kind: 'custom', url: 'https://crm.example.com/x?k=1', post: false, headers: [] });
  });

  it('checks custom headers and keeps a stored secret left blank', () => {
    const base = { source: 'custom', customUrl: 'https://crm.example.com/x', customPost: 'yes' };
    const bad = validateRuleForm(validForm({ ...base, headers: [{ name: 'Bad Name', value: 'v', secret: 'no' }, { name: 'Host', value: 'x', secret: 'no' }] }), context);
    assert.match(bad.errors['headers.0.name'] ?? '', /may only use letters, digits/);
    assert.match(bad.errors['headers.1.name'] ?? '', /Host cannot be set/);
    const kept = validateRuleForm(validForm({ ...base, headers: [{ name: 'X-Api-Key', value: '', secret: 'yes' }] }), { ...context, stored: { hasPassword: false, secretHeaders: ['X-Api-Key'] } });
    assert.deepEqual(kept.errors, {});
    assert.deepEqual(kept.draft?.source, { kind: 'custom', url: 'https://crm.example.com/x', post: true, headers: [{ name: 'X-Api-Key', value: null, secret: true }] });
  });

  it('keeps the stored password when the field is left empty on edit', () => {
    const { draft, errors } = validateRuleForm(validForm({ crmPassword: '' }), { ...context, stored: { hasPassword: true, secretHeaders: [] } });
    assert.deepEqual(errors, {});
    assert.equal(draft?.source.kind === 'integration' && draft.source.password, null);
  });

  it('warns, without blocking, when an ordering operator gets text', () => {
    const { draft, warnings } = validateRuleForm(validForm({ rows: [{ operator: 'gt', value: 'Gold', destType: 'queue', destTarget: '103' }] }), context);
    assert.ok(draft);
    assert.match(warnings['rows.0.value'] ?? '', /compares numbers/);
  });

  it('rejects a destination that is not in the catalog and a catastrophic regex', () => {
    const { errors } = validateRuleForm(validForm({ rows: [
      { operator: 'eq', value: 'x', destType: 'queue', destTarget: '999' },
      { operator: 'regex', value: '(a+)+$', destType: 'queue', destTarget: '103' },
      { operator: 'regex', value: '([', destType: 'queue', destTarget: '103' },
    ] }), context);
    assert.match(errors['rows.0.destTarget'] ?? '', /Queue "999" does not exist/);
    assert.match(errors['rows.1.value'] ?? '', /too long/);
    assert.match(errors['rows.2.value'] ?? '', /Not a valid regular expression/);
  });

  it('validates the greeting only for IVR rules', () => {
    const ivr = { location: 'ivr', greetingRecording: 'enter-account', dtmfMaxDigits: '0', dtmfTimeout: '5', dtmfRetries: '9', dtmfPattern: '\\d{4}' };
    const { errors } = validateRuleForm(validForm(ivr), context);
    assert.match(errors.dtmfMaxDigits ?? '', /1 to 20/);
    assert.match(errors.dtmfRetries ?? '', /0 to 5/);
    const did = validateRuleForm(validForm({ ...ivr, location: 'did' }), context);
    assert.equal(did.draft?.greeting, null);
    const ok = validateRuleForm(validForm({ ...ivr, dtmfMaxDigits: '4', dtmfRetries: '2' }), context);
    assert.deepEqual(ok.draft?.greeting, { recording: 'enter-account', maxDigits: 4, timeoutSeconds: 5, retries: 2, pattern: '\\d{4}' });
  });
});

describe('readRuleForm and form edits', () => {
  it('reads repeated row fields in the order posted', () => {
    const values = readRuleForm({
      name: 'x', row_operator: ['gt', 'eq'], row_value: ['100', 'VIP'], row_dest_type: ['queue', 'ivr'], row_dest_target: ['103', '200'],
    });
    assert.deepEqual(values.rows.map((r) => r.value), ['100', 'VIP']);
    assert.equal(values.rows[1]?.destTarget, '200');
  });

  it('survives a hostile body', () => {
    const values = readRuleForm({ name: { $gt: '' }, row_operator: 'eq', row_value: [['nested']], extra: 'x' });
    assert.equal(values.name, '');
    assert.equal(values.rows.length, 1);
    assert.equal(values.rows[0]?.value, '');
  });

  it('moves, adds and removes rows without losing what was typed', () => {
    const values = validForm({ rows: [
      { operator: 'eq', value: 'A', destType: 'queue', destTarget: '103' },
      { operator: 'eq', value: 'B', destType: 'queue', destTarget: '104' },
    ] });
    const moved = applyFormEdit(values, readFormEdit('up:1')!);
    assert.deepEqual(moved.rows.map((r) => r.value), ['B', 'A']);
    assert.equal(moved.name, 'Gold customers');
    assert.equal(applyFormEdit(values, readFormEdit('add_row')!).rows.length, 3);
    assert.deepEqual(applyFormEdit(values, readFormEdit('remove_row:0')!).rows.map((r) => r.value), ['B']);
    assert.equal(readFormEdit('up:abc'), undefined);
  });
});
