import assert from 'node:assert/strict';
import { PluginStore } from '../../src/store/plugin-store';
import { DialplanSigner } from '../../src/call/dialplan-signature';
import { OTHER_TENANT_USER, startTestHost, TEST_SECRET_KEY, type SignedInAgent, type TestHost } from '../support/test-host';

/** A complete Custom CRM rule as the form posts it. */
function ruleForm(overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    name: 'Gold customers', fieldName: 'Account_Tier', location: 'did', source: 'custom',
    customUrl: 'https://crm.example.com/lookup', customPost: 'no', deadlineSeconds: '3',
    defaultDestination: 'extension:100', defaultVoicemail: 'unset',
    row_operator: ['eq', 'ge'], row_value: ['gold', '1000'], row_dest_type: ['queue', 'ivr'], row_dest_target: ['103', '200'],
    action: 'save', ...overrides,
  };
}

describe('CRM > Routing pages', function () {
  let t: TestHost;
  let admin: SignedInAgent;

  before(async function () {
    this.timeout(30_000);
    t = await startTestHost();
    admin = await t.signIn();
  });
  after(async () => t?.close());

  async function createRule(overrides: Record<string, string | string[]> = {}): Promise<number> {
    await admin.get('/crm/routing/new');
    const res = await admin.post('/crm/routing/new', ruleForm(overrides));
    assert.equal(res.status, 303, res.text);
    const list = await admin.get(`/crm/routing?q=${encodeURIComponent(String(overrides.name ?? 'Gold customers'))}`);
    const id = /routing\/(\d+)\/edit/.exec(list.text)?.[1];
    assert.ok(id, 'the new rule is listed');
    return Number(id);
  }

  it('creates a rule and lists it with name, field and location', async () => {
    await createRule({ name: 'Listed rule' });
    const list = await admin.get('/crm/routing');
    assert.match(list.text, /Listed rule/);
    assert.match(list.text, /<code>Account_Tier<\/code>/);
    assert.match(list.text, /<td data-label="Location">DID<\/td>/);
    assert.match(list.text, /Are you sure you want to remove &#39;Listed rule&#39;\?/);
  });

  it('shows every error next to its field and keeps what was typed', async () => {
    await admin.get('/crm/routing/new');
    const res = await admin.post('/crm/routing/new', ruleForm({ name: '', fieldName: 'Account Name', customUrl: 'http://x.example', row_value: ['', '1000'] }));
    assert.equal(res.status, 422);
    assert.match(res.text, /id="name-error"[^>]*>Enter a rule name/);
    assert.match(res.text, /id="fieldName-error"[^>]*>Use the API name/);
    assert.match(res.text, /id="customUrl-error"[^>]*>[^<]*must start with https:\/\//);
    assert.match(res.text, /id="rows\.0\.value-error"[^>]*>Enter the value to compare with/);
    assert.match(res.text, /value="Account Name"/);
    assert.match(res.text, /value="http:\/\/x.example"/);
    assert.match(res.text, /value="1000"/);
  });

  it('refuses a second rule with the same name in the tenant', async () => {
    await createRule({ name: 'Unique name' });
    await admin.get('/crm/routing/new');
    const res = await admin.post('/crm/routing/new', ruleForm({ name: 'unique NAME' }));
    assert.equal(res.status, 422);
    assert.match(res.text, /A rule named &#39;unique NAME&#39; already exists/);
  });

  it('warns about an ordering operator with text but saves, and keeps the warning with the rule', async () => {
    await admin.get('/crm/routing/new');
    const res = await admin.post('/crm/routing/new', ruleForm({ name: 'Warned', row_operator: ['gt'], row_value: ['Gold'], row_dest_type: ['queue'], row_dest_target: ['103'] }));
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/crm/routing', 'the notice is not in the URL');
    const list = await admin.get('/crm/routing?q=Warned');
    assert.match(list.text, /role="status">Rule &#39;Warned&#39; was created with 1 warning: open it to review\.</);
    assert.match(list.text, /class="crm-badge crm-badge-warn"[^>]*>1 warning</);
    const id = /routing\/(\d+)\/edit/.exec(list.text)![1];
    const edit = await admin.get(`/crm/routing/${id}/edit`);
    assert.match(edit.text, /This rule was saved with 1 warning\./);
    assert.match(edit.text, /id="rows\.0\.value-warning">&#34;&gt;&#34; compares numbers; with &#34;Gold&#34; this row never matches/);
    assert.doesNotMatch((await admin.get('/crm/routing?q=Warned')).text, /was created/, 'the notice shows once');
  });

  it('shows no notice from the URL: ?notice= is ignored', async () => {
    const list = await admin.get('/crm/routing?notice=Your%20PBX%20was%20hacked');
    assert.doesNotMatch(list.text, /hacked/);
    assert.doesNotMatch(list.text, /role="status"/);
  });

  it('says a page past the end is past the end, with a link to the last page', async () => {
    await createRule({ name: 'Paged rule' });
    const { total } = await t.host.plugin.routingDestinations('default').then((r) => ({ total: r.length }));
    const past = await admin.get('/crm/routing?page=99');
    assert.equal(past.status, 200);
    assert.match(past.text, new RegExp(`There is no page 99: there (is 1 rule|are ${total} rules) on 1 page\\. <a href="/crm/routing\\?page=1">Go to the last page</a>`));
    assert.doesNotMatch(past.text, /No rules yet/);
  });

  it('keeps a typed CRM Password through Add row and a failed Save, sealed, never in the page', async () => {
    const form = ruleForm({ name: 'Secret keeper', source: 'custom', customUrl: 'https://crm.example.com/lookup',
      header_name: ['X-Api-Key'], header_value: ['hdr-s3cret-value'], header_secret: ['yes'], action: 'add_row' });
    await admin.get('/crm/routing/new');
    const added = await admin.post('/crm/routing/new', form);
    assert.equal(added.status, 200);
    assert.ok(!added.text.includes('hdr-s3cret-value'), 'the secret header value is not written into the page');
    const draft = /name="secretDraft" value="([^"]+)"/.exec(added.text)?.[1];
    assert.ok(draft, 'the page carries a sealed draft');
    assert.match(added.text, /placeholder="typed earlier: kept for Save"/);
    // Saved without typing the value again: the draft brings it back.
    const saved = await admin.post('/crm/routing/new', { ...form, header_value: [''], secretDraft: draft, action: 'save',
      row_operator: ['eq', 'eq', 'eq'], row_value: ['gold', '1000', 'x'], row_dest_type: ['queue', 'ivr', 'hangup'], row_dest_target: ['103', '200', ''] });
    assert.equal(saved.status, 303, saved.text);
    const store = await PluginStore.create(t.database.db, { secretKey: TEST_SECRET_KEY });
    const listed = (await store.rules.list('default', { search: 'Secret keeper', offset: 0, limit: 5 })).rules[0]!;
    const stored = await store.rules.get('default', listed.id);
    assert.deepEqual(stored?.source.kind === 'custom' && stored.source.headers, [{ name: 'X-Api-Key', value: 'hdr-s3cret-value', secret: true }]);
  });

  it('does not open a draft sealed for another user or another form', async () => {
    await admin.get('/crm/routing/new');
    const added = await admin.post('/crm/routing/new', ruleForm({ name: 'Bound draft', source: 'custom', header_name: ['X-Key'], header_value: ['only-mine'], header_secret: ['yes'], action: 'add_header' }));
    const draft = /name="secretDraft" value="([^"]+)"/.exec(added.text)![1]!;
    const bob = await t.signIn(OTHER_TENANT_USER);
    await bob.get('/crm/routing/new');
    const stolen = await bob.post('/crm/routing/new', ruleForm({ name: 'Bound draft', source: 'custom', header_name: ['X-Key'], header_value: [''], header_secret: ['yes'], secretDraft: draft }));
    assert.equal(stolen.status, 422);
    assert.match(stolen.text, /id="headers\.0\.value-error"[^>]*>Enter the header value/);
    assert.match(stolen.text, /has expired: type it again/);
  });

  it('escapes what administrators type everywhere it is shown', async () => {
    const id = await createRule({ name: '<script>alert(1)</script>' });
    for (const path of ['/crm/routing', `/crm/routing/${id}/edit`]) {
      const page = await admin.get(path);
      assert.ok(!page.text.includes('<script>alert(1)</script>'), path);
      assert.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    }
  });

  it('rejects a post without a valid CSRF token and saves nothing', async () => {
    await admin.get('/crm/routing/new');
    for (const csrf of [null, 'forged-token']) {
      const res = await admin.post('/crm/routing/new', ruleForm({ name: 'Forged' }), csrf);
      assert.equal(res.status, 403);
      assert.match(res.text, /did not come from this site/);
    }
    assert.doesNotMatch((await admin.get('/crm/routing?q=Forged')).text, /routing\/\d+\/edit/);
  });

  it('searches by name and field name on the server', async () => {
    await createRule({ name: 'Search alpha', fieldName: 'Zeta_Field' });
    await createRule({ name: 'Search beta', fieldName: 'Other_Field' });
    const byName = await admin.get('/crm/routing?q=alpha');
    assert.match(byName.text, /Search alpha/);
    assert.doesNotMatch(byName.text, /Search beta/);
    const byField = await admin.get('/crm/routing?q=zeta_f');
    assert.match(byField.text, /Search alpha/);
    assert.doesNotMatch(byField.text, /Search beta/);
  });

  it('edits a rule, keeping row order as submitted', async () => {
    const id = await createRule({ name: 'Editable' });
    const form = await admin.get(`/crm/routing/${id}/edit`);
    const version = /name="version" value="(\d+)"/.exec(form.text)?.[1] ?? '';
    const res = await admin.post(`/crm/routing/${id}/edit`, ruleForm({
      name: 'Edited', version, row_operator: ['ge', 'eq'], row_value: ['1000', 'gold'], row_dest_type: ['ivr', 'queue'], row_dest_target: ['200', '103'],
    }));
    assert.equal(res.status, 303);
    const edited = await admin.get(`/crm/routing/${id}/edit`);
    assert.match(edited.text, /value="Edited"/);
    assert.ok(edited.text.indexOf('value="1000"') < edited.text.indexOf('value="gold"'), 'rows in the new order');
  });

  it('asks before deleting without JavaScript, and only OK deletes', async () => {
    const id = await createRule({ name: 'Doomed' });
    const ask = await admin.post(`/crm/routing/${id}/delete`, {});
    assert.equal(ask.status, 200);
    assert.match(ask.text, /Are you sure you want to remove &#39;Doomed&#39;\?/);
    assert.match((await admin.get(`/crm/routing/${id}/edit`)).text, /value="Doomed"/);
    const del = await admin.post(`/crm/routing/${id}/delete?q=Doo&page=1`, { confirmed: 'yes' });
    assert.equal(del.status, 303);
    assert.equal(del.headers.location, '/crm/routing?q=Doo', 'back to the same search');
    assert.equal((await admin.get(`/crm/routing/${id}/edit`)).status, 404);
  });

  it("keeps tenants apart: another tenant cannot read, edit or delete a rule by id", async () => {
    const id = await createRule({ name: 'Tenant A rule' });
    const bob = await t.signIn(OTHER_TENANT_USER);
    assert.equal((await bob.get(`/crm/routing/${id}/edit`)).status, 404);
    await bob.get('/crm/routing/new');
    assert.equal((await bob.post(`/crm/routing/${id}/edit`, ruleForm({ name: 'Hijacked' }))).status, 404);
    assert.equal((await bob.post(`/crm/routing/${id}/delete`, { confirmed: 'yes' })).status, 404);
    assert.doesNotMatch((await bob.get('/crm/routing?q=Tenant')).text, /Tenant A rule/);
    assert.match((await admin.get(`/crm/routing/${id}/edit`)).text, /value="Tenant A rule"/);
  });

  it('answers 403 on every page and post while the license is off, and again at once when on', async () => {
    const id = await createRule({ name: 'Licensed' });
    await admin.get('/license');
    await admin.post('/license', { crm_routing: 'off' });
    for (const path of ['/crm/routing', '/crm/routing/new', `/crm/routing/${id}/edit`, '/crm/integration']) {
      const res = await admin.agent.get(path);
      assert.equal(res.status, 403, path);
      assert.match(res.text, /CRM Routing is not enabled in your license/);
    }
    assert.equal((await admin.post(`/crm/routing/${id}/delete`, { confirmed: 'yes' })).status, 403);
    assert.match((await admin.get('/')).text, /\(not licensed\)/);
    await admin.get('/license');
    await admin.post('/license', { crm_routing: 'on' });
    assert.equal((await admin.get(`/crm/routing/${id}/edit`)).status, 200);
  });

  it('sends security headers on plugin pages', async () => {
    const res = await admin.get('/crm/routing');
    assert.match(res.headers['content-security-policy'] ?? '', /script-src 'self'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
  });

  it('gives every form of the first page after signing in the same, working CSRF token', async () => {
    const fresh = await t.signIn();
    const dids = await fresh.get('/dids');
    const tokens = new Set([...dids.text.matchAll(/name="_csrf" value="([^"]+)"/g)].map((m) => m[1]));
    assert.equal(tokens.size, 1, 'the logout form and the page\'s forms carry one token');
    const saved = await fresh.post('/dids', { number: '5559999', destination: 'extension:100' });
    assert.equal(saved.status, 303);
  });

  it('requires the host sign-in', async () => {
    const res = await (await import('supertest')).default(t.host.url).get('/crm/routing');
    assert.equal(res.status, 303);
    assert.match(res.headers.location ?? '', /^\/login/);
  });

  it('offers rules on the DIDs page with their dialplan and fallback', async () => {
    const id = await createRule({ name: 'For DIDs' });
    await admin.get('/dids');
    await admin.post('/dids', { number: '5551234', destination: `crm-routing:${id}` });
    const dids = await admin.get('/dids');
    const sig = new DialplanSigner(TEST_SECRET_KEY).sign(id, 'default');
    assert.match(dids.text, new RegExp(`AGI\\(agi://127.0.0.1:${t.agiPort}/crm-routing\\?rule=${id}&amp;tenant=default&amp;sig=${sig}\\)`));
    assert.match(dids.text, /Goto\(ext-local,100,1\)/);
  });
});
