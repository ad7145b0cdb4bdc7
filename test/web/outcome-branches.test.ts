import assert from 'node:assert/strict';
import { PluginStore } from '../../src/store/plugin-store';
import { FakeHttpsServer } from '../support/fake-https';
import { testCa } from '../support/test-ca';
import { startTestHost, TEST_SECRET_KEY, type SignedInAgent, type TestHost } from '../support/test-host';

/** A Custom CRM rule as the form posts it, with "When the lookup fails" left at the defaults. */
function ruleForm(overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    name: 'Branching', fieldName: 'Account_Tier', location: 'did', source: 'custom',
    customUrl: 'https://crm.example.com/lookup', customPost: 'no', deadlineSeconds: '1',
    defaultDestination: 'extension:100', defaultVoicemail: 'yes',
    notFoundDestination: '', crmErrorDestination: '', invalidDigitsDestination: '',
    row_operator: ['eq'], row_value: ['gold'], row_dest_type: ['queue'], row_dest_target: ['105'],
    action: 'save', ...overrides,
  };
}

/** The option selected in the select named `name`, or '' for none. */
function selected(html: string, name: string): string {
  const select = new RegExp(`<select id="${name}" name="${name}"[\\s\\S]*?</select>`).exec(html)?.[0];
  assert.ok(select, `the form has a ${name} select`);
  return /<option value="([^"]*)" selected>/.exec(select)?.[1] ?? '';
}

describe('Rule form: "When the lookup fails" branches', function () {
  let t: TestHost;
  let admin: SignedInAgent;
  let store: PluginStore;
  let crm: FakeHttpsServer;

  before(async function () {
    this.timeout(30_000);
    crm = await FakeHttpsServer.start((req) => {
      const caller = req.query.get('caller_id');
      if (caller === '+15550000006') return { status: 404, body: { found: false } };
      if (caller === '+15550000001') return { body: { value: 'gold' } };
      return { status: 500, body: 'Internal Server Error' };
    });
    t = await startTestHost({ crmCa: testCa().caPem });
    admin = await t.signIn();
    store = await PluginStore.create(t.database.db, { secretKey: TEST_SECRET_KEY });
  });
  after(async () => {
    await t?.close();
    await crm?.close();
  });

  async function ruleId(name: string): Promise<number> {
    const found = (await store.rules.list('default', { search: name, offset: 0, limit: 5 })).rules.find((r) => r.name === name);
    assert.ok(found, `rule ${name} is stored`);
    return found.id;
  }

  it('shows a collapsed "When the lookup fails" section that works without JavaScript', async () => {
    const page = await admin.get('/crm/routing/new');
    assert.match(page.text, /<details class="crm-more crm-branches" id="lookup-fails" >\s*<summary>When the lookup fails/);
    for (const name of ['notFoundDestination', 'crmErrorDestination', 'invalidDigitsDestination']) {
      assert.equal(selected(page.text, name), '', `${name} starts at the default destination`);
      assert.match(page.text, new RegExp(`<select id="${name}" name="${name}" >\\s*<option value="">Default Destination</option>`));
    }
    assert.match(page.text, /id="invalidDigitsDestination-field" data-show-when="location=ivr"/);
  });

  it('saves a rule without branches exactly as before: every failure goes to the default destination', async () => {
    await admin.get('/crm/routing/new');
    assert.equal((await admin.post('/crm/routing/new', ruleForm({ name: 'No branches' }))).status, 303);
    const rule = await store.rules.get('default', await ruleId('No branches'));
    assert.deepEqual(rule?.branches, { notFound: null, crmError: null, invalidDigits: null });
  });

  it('saves each branch, shows it on the edit page (section open), and clears it again', async () => {
    await admin.get('/crm/routing/new');
    const form = ruleForm({
      name: 'All branches', location: 'ivr', greetingRecording: 'enter-account', dtmfMaxDigits: '4', dtmfTimeout: '5', dtmfRetries: '1', dtmfPattern: '',
      notFoundDestination: 'queue:103', crmErrorDestination: 'recording:closed', invalidDigitsDestination: 'ivr:201',
    });
    assert.equal((await admin.post('/crm/routing/new', form)).status, 303);
    const id = await ruleId('All branches');
    assert.deepEqual((await store.rules.get('default', id))?.branches, {
      notFound: { type: 'queue', target: '103' }, crmError: { type: 'recording', target: 'closed' }, invalidDigits: { type: 'ivr', target: '201' },
    });
    const edit = await admin.get(`/crm/routing/${id}/edit`);
    assert.match(edit.text, /id="lookup-fails" open>/);
    assert.deepEqual(['notFoundDestination', 'crmErrorDestination', 'invalidDigitsDestination'].map((n) => selected(edit.text, n)), ['queue:103', 'recording:closed', 'ivr:201']);

    const version = /name="version" value="(\d+)"/.exec(edit.text)![1]!;
    const cleared = await admin.post(`/crm/routing/${id}/edit`, { ...form, version, notFoundDestination: '', crmErrorDestination: '' });
    assert.equal(cleared.status, 303);
    assert.deepEqual((await store.rules.get('default', id))?.branches, { notFound: null, crmError: null, invalidDigits: { type: 'ivr', target: '201' } });
  });

  it('does not save "No or invalid digits" on a DID rule, but keeps the choice in the form', async () => {
    await admin.get('/crm/routing/new');
    const added = await admin.post('/crm/routing/new', ruleForm({ name: 'DID digits', invalidDigitsDestination: 'ivr:200', action: 'add_row' }));
    assert.equal(added.status, 200);
    assert.equal(selected(added.text, 'invalidDigitsDestination'), 'ivr:200', 'kept through Add row');
    assert.equal((await admin.post('/crm/routing/new', ruleForm({ name: 'DID digits', invalidDigitsDestination: 'ivr:200' }))).status, 303);
    assert.equal((await store.rules.get('default', await ruleId('DID digits')))?.branches.invalidDigits, null);
  });

  for (const [field, label] of [['notFoundDestination', 'Caller not found'], ['crmErrorDestination', 'CRM error'], ['invalidDigitsDestination', 'No or invalid digits']] as const) {
    it(`refuses a "${label}" destination the PBX does not have, next to the field, keeping everything typed`, async () => {
      await admin.get('/crm/routing/new');
      const res = await admin.post('/crm/routing/new', ruleForm({
        name: `Bad ${field}`, location: 'ivr', greetingRecording: 'enter-account', dtmfMaxDigits: '4', dtmfTimeout: '5', dtmfRetries: '1', notFoundDestination: 'queue:103', [field]: 'queue:999',
      }));
      assert.equal(res.status, 422);
      assert.match(res.text, new RegExp(`id="${field}-error"[^>]*>This destination is not on this PBX; choose one from the list, or &#34;Default Destination&#34;\\.<`));
      assert.match(res.text, /id="lookup-fails" open>/, 'the section opens on its error');
      assert.equal(selected(res.text, field), 'queue:999', 'the refused choice is shown, marked');
      assert.match(res.text, /queue:999 \(not on this PBX\)/);
      if (field !== 'notFoundDestination') assert.equal(selected(res.text, 'notFoundDestination'), 'queue:103', 'the other choices are kept');
      assert.equal((await store.rules.list('default', { search: `Bad ${field}`, offset: 0, limit: 5 })).total, 0);
    });
  }

  it('refuses a branch that is not a catalog choice at all ("hangup" is one)', async () => {
    await admin.get('/crm/routing/new');
    const res = await admin.post('/crm/routing/new', ruleForm({ name: 'Garbage branch', crmErrorDestination: '<script>x</script>' }));
    assert.equal(res.status, 422);
    assert.match(res.text, /id="crmErrorDestination-error"/);
    assert.ok(!res.text.includes('<script>x</script>'), 'the posted value is escaped');
    const ok = await admin.post('/crm/routing/new', ruleForm({ name: 'Hang-up branch', crmErrorDestination: 'hangup:' }));
    assert.equal(ok.status, 303);
    assert.deepEqual((await store.rules.get('default', await ruleId('Hang-up branch')))?.branches.crmError, { type: 'hangup', target: '' });
  });

  it('keeps the branches through a failed save, Add row, Remove row and Add header', async () => {
    const branches = { notFoundDestination: 'extension:102', crmErrorDestination: 'voicemail:101' };
    await admin.get('/crm/routing/new');
    let form = ruleForm({ name: '', ...branches });
    let res = await admin.post('/crm/routing/new', form);
    assert.equal(res.status, 422, 'no name: not saved');
    for (const action of ['add_row', 'remove_row:1', 'add_header']) {
      assert.deepEqual([selected(res.text, 'notFoundDestination'), selected(res.text, 'crmErrorDestination')], ['extension:102', 'voicemail:101'], `before ${action}`);
      form = { ...form, action };
      res = await admin.post('/crm/routing/new', form);
      assert.equal(res.status, 200, action);
    }
    assert.deepEqual([selected(res.text, 'notFoundDestination'), selected(res.text, 'crmErrorDestination')], ['extension:102', 'voicemail:101']);
  });

  it('warns that "No or invalid digits" is never used on an IVR rule without a greeting, and saves', async () => {
    await admin.get('/crm/routing/new');
    const res = await admin.post('/crm/routing/new', ruleForm({ name: 'IVR no greeting', location: 'ivr', invalidDigitsDestination: 'ivr:201' }));
    assert.equal(res.status, 303);
    const edit = await admin.get(`/crm/routing/${await ruleId('IVR no greeting')}/edit`);
    assert.match(edit.text, /id="invalidDigitsDestination-warning">This rule has no greeting, so it never collects digits/);
  });

  describe('Test rule', () => {
    const url = () => `${crm.url}/lookup`;
    async function test(form: Record<string, string | string[]>, callerId: string, dtmf = ''): Promise<string> {
      await admin.get('/crm/routing/new');
      const res = await admin.post('/crm/routing/new', ruleForm({ customUrl: url(), ...form, action: 'test', testCallerId: callerId, testDtmf: dtmf, testDid: '' }));
      assert.equal(res.status, 200, res.text.slice(0, 500));
      return res.text;
    }
    const field = (html: string, id: string) => /<dd id="[^"]+">([\s\S]*?)<\/dd>/.exec(html.slice(html.indexOf(`id="${id}"`) - 8))?.[1]?.replace(/\s+/g, ' ').trim();

    it('shows the not-found branch and its destination', async () => {
      const html = await test({ name: 'T1', notFoundDestination: 'queue:103' }, '+15550000006');
      assert.equal(field(html, 'test-outcome'), 'NOT_FOUND');
      assert.equal(field(html, 'test-branch'), 'Caller not found in the CRM');
      assert.match(field(html, 'test-destination') ?? '', /^103 - Sales queue \(Caller not found in the CRM\) - dialplan /);
    });

    it('shows the CRM-error branch', async () => {
      const html = await test({ name: 'T2', crmErrorDestination: 'recording:closed' }, '+15550000002');
      assert.equal(field(html, 'test-outcome'), 'CRM_ERROR');
      assert.equal(field(html, 'test-branch'), 'CRM error or deadline passed');
      assert.match(field(html, 'test-destination') ?? '', /^closed - We are closed \(CRM error or deadline passed\)/);
    });

    it('shows the digits branch for digits the pattern refuses', async () => {
      const html = await test({ name: 'T3', location: 'ivr', greetingRecording: 'enter-account', dtmfMaxDigits: '6', dtmfTimeout: '5', dtmfRetries: '0', dtmfPattern: '\\d{6}', invalidDigitsDestination: 'ivr:201' }, '+15550000001', '12');
      assert.equal(field(html, 'test-outcome'), 'INVALID_DTMF');
      assert.equal(field(html, 'test-branch'), 'No or invalid digits');
      assert.match(field(html, 'test-destination') ?? '', /^201 - After hours \(No or invalid digits\)/);
    });

    it('shows the default destination when the failure has no branch, and the row when one matches', async () => {
      const failed = await test({ name: 'T4', notFoundDestination: 'queue:103' }, '+15550000002');
      assert.equal(field(failed, 'test-branch'), 'Default destination');
      assert.match(field(failed, 'test-destination') ?? '', /\(default destination\)/);
      const matched = await test({ name: 'T5', notFoundDestination: 'queue:103' }, '+15550000001');
      assert.equal(field(matched, 'test-branch'), 'Matching row');
    });
  });
});
