import assert from 'node:assert/strict';
import { fuzzPosts, fuzzTargets, prepareFuzzHost, type FuzzTarget } from '../../scripts/lib/post-fuzz';
import { CRM_REGISTRY } from '../../src/crm/registry';
import { ADMIN, startTestHost, type SignedInAgent, type TestHost } from '../support/test-host';

const INTEGRATIONS = { vtiger: CRM_REGISTRY.vtiger.definition.fields.map((f) => f.name), proprietary: CRM_REGISTRY.proprietary.definition.fields.map((f) => f.name) };

describe('Posts of any body shape: 415 for a type a route does not take, never a 5xx', function () {
  this.timeout(60_000);
  let t: TestHost;
  let admin: SignedInAgent;
  let targets: FuzzTarget[];

  before(async () => {
    // The default egress policy: the rule's and the integrations' CRM addresses are refused at once.
    t = await startTestHost({ crmEgress: {} });
    const { ruleId, didId } = await prepareFuzzHost(t.host.url, ADMIN);
    targets = fuzzTargets(ruleId, didId, INTEGRATIONS);
    admin = await t.signIn();
  });
  after(async () => t?.close());

  it('refuses JSON on every form route with 415, whatever the object holds, and saves nothing', async () => {
    await admin.get('/crm/routing/new');
    for (const target of targets.filter((x) => !x.json && x.path.startsWith('/crm/'))) {
      for (const body of [{ name: { toString: 'x' } }, { name: { length: 1e9 } }, { callerId: ['+1', '+2'], enabled: null, action: 'test' }]) {
        const res = await admin.agent.post(target.path).set('x-csrf-token', admin.token).set('accept', 'application/json').send(body);
        assert.equal(res.status, 415, `${target.path}: ${res.status} ${res.text.slice(0, 200)}`);
        assert.match(res.body.message, /takes a form post.*nothing was changed/);
      }
    }
    assert.equal((await t.host.plugin.routingDestinations(ADMIN.tenantId)).length, 1);
  });

  it('refuses a form on the JSON route (the field picker) with 415, and answers odd JSON there with 4xx', async () => {
    await admin.get('/crm/routing/new');
    const form = await admin.post('/crm/integration/vtiger/fields', { module: 'Contacts' });
    assert.equal(form.status, 415);
    for (const body of [[], [1, 2], { module: { toString: 'x' } }, { module: 'Contacts', username: { length: 1 } }]) {
      const res = await admin.agent.post('/crm/integration/vtiger/fields').set('x-csrf-token', admin.token).set('accept', 'application/json').send(body as object);
      assert.ok(res.status < 500, `${JSON.stringify(body)}: ${res.status}`);
    }
    const broken = await admin.agent.post('/crm/integration/vtiger/fields').set('x-csrf-token', admin.token).set('content-type', 'application/json').send('{"module":');
    assert.equal(broken.status, 400);
  });

  it('reads odd form shapes as text: repeated fields, inherited names, no body at all', async () => {
    await admin.get('/crm/routing/new');
    const shapes: Array<[string, string]> = [
      ['/crm/routing/new', 'name=a&name=b&toString=x&__proto__=y&constructor=z&row_operator=eq&row_operator=lt'],
      ['/crm/integration/vtiger', 'url=a&url=b&enabled=yes&enabled=no&action=test&action=save&hasOwnProperty=1'],
      ['/crm/routing/1/edit', 'action=test&testCallerId=%2B1&testCallerId=%2B2&testDtmf[]=1&testDid=%zz'],
      ['/ivrs/200', 'option_1=a&option_1=b&option_2[x]=y&toString=1'],
    ];
    for (const [path, body] of shapes) {
      const res = await admin.agent.post(path).set('x-csrf-token', admin.token).type('form').send(`_csrf=${encodeURIComponent(admin.token)}&${body}`);
      assert.ok(res.status < 500, `${path}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    for (const path of ['/crm/routing/new', '/crm/integration/vtiger', '/crm/routing/1/edit', '/crm/routing/1/delete', '/ivrs/200', '/dids']) {
      const res = await admin.agent.post(path).set('x-csrf-token', admin.token);
      assert.ok(res.status < 500, `${path} without a body: ${res.status}`);
    }
  });

  it('200 fuzzed posts in form and JSON shapes over every POST route (plugin and host): no 5xx', async () => {
    const result = await fuzzPosts({ url: t.host.url, user: ADMIN, targets, posts: 200, seed: 7 });
    assert.deepEqual(result.serverErrors, []);
    assert.equal(result.posts, 200);
    assert.ok((result.byShape.get('json')?.get(415) ?? 0) > 0, 'JSON posts were refused with 415');
  });
});
