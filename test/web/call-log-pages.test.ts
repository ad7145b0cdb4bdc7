import assert from 'node:assert/strict';
import type { CompletedCall } from '../../src/calllog/completed-call';
import { externalIdOf } from '../../src/calllog/call-activity';
import { PluginStore } from '../../src/store/plugin-store';
import { FakeHttpsServer, type RecordedRequest } from '../support/fake-https';
import { testCa } from '../support/test-ca';
import { OTHER_TENANT_USER, startTestHost, TEST_SECRET_KEY, type SignedInAgent, type TestHost } from '../support/test-host';
import { until } from '../support/until';

const OPTIONS_FORM = {
  logEnabled: 'yes', call_inboundAnswered: 'yes', call_inboundMissed: 'yes', call_outbound: 'yes',
  minSeconds: '0', unknownCaller: 'contact', subject: '{direction} call {caller} ({disposition}, {duration})', routingNotes: 'yes',
};

function call(linkedId: string, over: Partial<CompletedCall> = {}): CompletedCall {
  const ended = new Date();
  return {
    linkedId, tenantId: 'default', direction: 'inbound', disposition: 'answered', externalNumber: '+15550001111', did: '5551234',
    agentExtension: '101', startedAt: new Date(ended.getTime() - 95_000), answeredAt: new Date(ended.getTime() - 80_000), endedAt: ended,
    talkSeconds: 80, channelUniqueIds: [], ...over,
  };
}

describe('Call log: log options, the Custom CRM call log URL and the Call log page', function () {
  this.timeout(30_000);
  let t: TestHost;
  let admin: SignedInAgent;
  let fake: FakeHttpsServer;
  let store: PluginStore;
  let answer: (req: RecordedRequest) => { status?: number; body?: unknown; headers?: Record<string, string> } = () => ({ status: 201, body: { id: 'A-1', url: 'https://crm.example.com/calls/A-1' } });

  before(async () => {
    fake = await FakeHttpsServer.start((req) => answer(req));
    t = await startTestHost({ crmCa: testCa().caPem });
    admin = await t.signIn();
    store = new PluginStore(t.database.db, (await PluginStore.create(t.database.db, { secretKey: TEST_SECRET_KEY })).tables, undefined as never);
  });
  after(async () => {
    await t?.close();
    await fake?.close();
  });

  it('each CRM section offers log options, disabled with a reason while its connector cannot write calls', async () => {
    const page = await admin.get('/crm/integration');
    assert.equal(page.status, 200);
    assert.match(page.text, /id="log-hubspot"/);
    assert.match(page.text, /id="hubspot-log-reason">Enable and save HubSpot above first/);
    assert.match(page.text, /id="crm-custom-calllog"/);
    const refused = await admin.post('/crm/integration/hubspot/call-log', { ...OPTIONS_FORM, action: 'save' });
    assert.equal(refused.status, 409);
    assert.match(refused.text, /id="hubspot-log-form-error" role="alert">Enable and save HubSpot above first/);
    assert.equal(await store.callLogOptions.get('default', 'hubspot'), undefined, 'nothing saved');
  });

  it('the options form keeps everything typed on errors, then saves and reads back', async () => {
    await admin.get('/crm/integration');
    const bad = await admin.post('/crm/integration/custom/call-log', {
      ...OPTIONS_FORM, url: 'http://crm.example.com/<calls>', minSeconds: 'ten', subject: 'Call {caller} {nope} "<b>"', action: 'save',
    });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /id="custom-log-url-error" role="alert">The Call log URL must start with https:\/\//);
    assert.match(bad.text, /id="custom-log-min-error" role="alert">Enter whole seconds/);
    assert.match(bad.text, /id="custom-log-subject-error" role="alert">Unknown placeholder \{nope\}/);
    assert.match(bad.text, /value="http:\/\/crm.example.com\/&lt;calls&gt;"/, 'the URL typed, escaped');
    assert.match(bad.text, /value="Call \{caller\} \{nope\} &#34;&lt;b&gt;&#34;"/, 'the subject typed, escaped');
    assert.match(bad.text, /value="ten"/);
    assert.match(bad.text, /id="custom-log-call_outbound" name="call_outbound" value="yes" checked/);
    assert.doesNotMatch(bad.text, /id="custom-log-call_busy" name="call_busy" value="yes" checked/);
    assert.equal(await store.callLogOptions.get('default', 'custom'), undefined, 'nothing saved');

    const badHeader = await admin.post('/crm/integration/custom/call-log', { ...OPTIONS_FORM, url: `${fake.url}/calls`, headers: 'Content-Type: text/plain', action: 'save' });
    assert.equal(badHeader.status, 422);
    assert.match(badHeader.text, /The Content-Type header is set by the call log itself/);

    const saved = await admin.post('/crm/integration/custom/call-log', { ...OPTIONS_FORM, url: `${fake.url}/calls?src=pbx`, minSeconds: '5', headers: 'Authorization: Bearer s3cret-token\nX-Team: blue', action: 'save' });
    assert.equal(saved.status, 200);
    assert.match(saved.text, /Call logging for Custom CRM was saved and is on/);
    assert.doesNotMatch(saved.text, /s3cret-token/, 'headers never rendered back');
    const page = await admin.get('/crm/integration');
    assert.match(page.text, /id="custom-log-min" name="minSeconds" type="text" inputmode="numeric" value="5"/);
    assert.match(page.text, /<em>Headers are stored<\/em>/);
    assert.match(page.text, /<option value="contact" selected>/);
    const stored = await store.callLogOptions.get('default', 'custom');
    assert.deepEqual(stored?.options.calls, { inboundAnswered: true, inboundMissed: true, inboundAbandoned: false, busy: false, outbound: true });
    assert.equal(stored?.url, `${fake.url}/calls?src=pbx`);
    const raw = await t.database.db('crm_routing_call_log_options').where({ tenant_id: 'default', integration: 'custom' }).first();
    assert.doesNotMatch(JSON.stringify(raw), /s3cret-token/, 'headers sealed at rest');
  });

  it('a finished call reaches the Custom CRM call log URL as the documented JSON POST, once', async () => {
    fake.requests.length = 0;
    t.host.plugin.callLog.enqueue(call('1733600000.1'));
    t.host.plugin.callLog.enqueue(call('1733600000.1')); // the same call again (an AMI reconnect)
    await until(() => fake.requests.length >= 1, 8000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fake.requests.length, 1, 'written once');
    const req = fake.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/calls');
    assert.equal(req.query.get('src'), 'pbx');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.accept, 'application/json');
    assert.equal(req.headers.authorization, 'Bearer s3cret-token');
    assert.equal(req.headers['x-team'], 'blue');
    const externalId = externalIdOf('default', 'custom', '1733600000.1');
    assert.equal(req.headers['idempotency-key'], externalId);
    const body = JSON.parse(req.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['direction', 'disposition', 'duration_seconds', 'event', 'external_id', 'external_number', 'notes', 'owner_email', 'pbx_number', 'recording_url', 'started_at', 'subject', 'unknown_caller']);
    assert.equal(body.event, 'call.completed');
    assert.equal(body.external_id, externalId);
    assert.equal(body.direction, 'inbound');
    assert.equal(body.disposition, 'answered');
    assert.equal(body.external_number, '+15550001111');
    assert.equal(body.pbx_number, '5551234');
    assert.equal(body.duration_seconds, 80);
    assert.equal(body.owner_email, 'ana@example.com', "the agent's e-mail from the host directory");
    assert.equal(body.unknown_caller, 'contact');
    assert.equal(body.subject, 'Inbound call +15550001111 (Answered, 1m 20s)');
    assert.match(String(body.notes), /answered by Ana Reception \(101\)/);
    assert.equal(body.recording_url, null);

    const log = await admin.get('/crm/calllog');
    assert.equal(log.status, 200);
    assert.match(log.text, /<a href="https:\/\/crm.example.com\/calls\/A-1" rel="noopener noreferrer" target="_blank">Record A-1<\/a>/);
  });

  it('options skip calls with the option named; a busy call and a short one are not sent', async () => {
    fake.requests.length = 0;
    t.host.plugin.callLog.enqueue(call('1733600000.2', { disposition: 'busy', talkSeconds: 0, answeredAt: undefined }));
    t.host.plugin.callLog.enqueue(call('1733600000.3', { talkSeconds: 3 }));
    await t.host.plugin.callLog.flush();
    const page = await admin.get('/crm/calllog?status=skipped');
    assert.match(page.text, /Busy calls are not logged \(log options\)/);
    assert.match(page.text, /Shorter than 5 s \(3 s; log options\)/);
    assert.doesNotMatch(page.text, /Record A-1/, 'the filter shows skipped calls only');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fake.requests.length, 0);
  });

  it('a failed write shows the reason escaped, Retry writes it, and another tenant sees and retries nothing', async () => {
    answer = () => ({ status: 400, body: '<script>alert(1)</script>' as unknown, headers: { 'content-type': 'text/html' } });
    t.host.plugin.callLog.enqueue(call('1733600000.4', { externalNumber: '+1555<b>0002' }));
    await until(() => fake.requests.some((r) => r.headers['idempotency-key'] === externalIdOf('default', 'custom', '1733600000.4')), 8000);
    let failed: { id: number } | undefined;
    for (let i = 0; i < 100 && !failed; i += 1) {
      failed = (await store.callOutbox.recent('default', { status: 'failed', limit: 5 }))[0];
      if (!failed) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(failed, 'the row failed (400 is not retried)');
    const page = await admin.get('/crm/calllog?status=failed');
    assert.match(page.text, /HTTP_ERROR: The Custom CRM call log URL answered HTTP 400\./);
    assert.match(page.text, /\+1555&lt;b&gt;0002/);
    assert.doesNotMatch(page.text, /<b>0002/);
    assert.match(page.text, new RegExp(`action="/crm/calllog/${failed.id}/retry"`));

    const bob = await t.signIn(OTHER_TENANT_USER);
    const theirs = await bob.get('/crm/calllog');
    assert.match(theirs.text, /No call has been logged yet/);
    await bob.get('/crm/integration'); // a token of the plugin's own forms
    const stolen = await bob.post(`/crm/calllog/${failed.id}/retry`, {});
    assert.equal(stolen.status, 404);
    const noCsrf = await admin.post(`/crm/calllog/${failed.id}/retry`, {}, null);
    assert.equal(noCsrf.status, 403);
    assert.equal((await store.callOutbox.get('default', failed.id))!.status, 'failed');

    answer = () => ({ status: 200, body: {} });
    const retried = await admin.post(`/crm/calllog/${failed.id}/retry`, {});
    assert.equal(retried.status, 303);
    const after = await admin.get('/crm/calllog?status=failed');
    assert.match(after.text, /will be written into Custom CRM again/);
    for (let i = 0; i < 100 && (await store.callOutbox.get('default', failed.id))!.status !== 'sent'; i += 1) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await store.callOutbox.get('default', failed.id))!.status, 'sent');
  });

  it('Write a test call writes one test activity and says where', async () => {
    answer = () => ({ status: 201, body: { id: 'T-9', url: 'https://crm.example.com/calls/T-9' } });
    fake.requests.length = 0;
    await admin.get('/crm/integration');
    const res = await admin.post('/crm/integration/custom/call-log', { ...OPTIONS_FORM, url: `${fake.url}/calls`, testNumber: '+15550009999', action: 'testcall' });
    assert.equal(res.status, 200);
    assert.match(res.text, /id="custom-log-test-result">Wrote a test call activity into Custom CRM for \+15550009999: record T-9\. <a href="https:\/\/crm.example.com\/calls\/T-9"/);
    assert.equal(fake.requests.length, 1);
    assert.equal(JSON.parse(fake.requests[0]!.body).subject, 'Test call from CRM Routing');
    assert.equal(fake.requests[0]!.headers.authorization, 'Bearer s3cret-token', 'stored headers used');
  });

  it('a CRM whose connector can write calls (Proprietary CRM with a Call log URL): options open, a test call and a real one reach its template', async () => {
    answer = (req) => (req.path === '/crm/calls' ? { status: 201, body: { data: { id: 'P-5' } } } : { status: 200, body: { data: [] } });
    await admin.get('/crm/integration');
    const saved = await admin.post('/crm/integration/proprietary', {
      action: 'save', enabled: 'yes', authType: 'none', apiKeyHeader: 'X-API-Key', clientAuth: 'body', method: 'GET', url: `${fake.url}/crm/contacts?phone={e164}`, valuePath: 'data[*].{field}', region: 'US',
      logMethod: 'POST', logUrl: `${fake.url}/crm/calls`, logBody: '{"ref": "{external_id}", "who": "{owner_email}", "secs": "{duration}"}', logIdPath: 'data.id', logRecordUrl: 'https://crm.example.com/c/{id}',
    });
    assert.equal(saved.status, 200, [...saved.text.matchAll(/role="alert">([^<]*)</g)].map((m) => m[1]).join(" | "));
    const page = await admin.get('/crm/integration');
    assert.doesNotMatch(page.text, /id="proprietary-log-reason"/, 'no reason: the options can be used');
    assert.match(page.text, /<option value="lead" >Create a Lead/);
    fake.requests.length = 0;
    const tested = await admin.post('/crm/integration/proprietary/call-log', { ...OPTIONS_FORM, action: 'testcall' });
    assert.match(tested.text, /id="proprietary-log-test-result">Wrote a test call activity into Proprietary CRM for \+12025550143: record P-5\. <a href="https:\/\/crm.example.com\/c\/P-5"/);
    assert.equal(fake.requests.filter((r) => r.path === '/crm/calls').length, 1);
    const on = await admin.post('/crm/integration/proprietary/call-log', { ...OPTIONS_FORM, action: 'save' });
    assert.match(on.text, /Call logging for Proprietary CRM was saved and is on/);
    fake.requests.length = 0;
    t.host.plugin.callLog.enqueue(call('1733600000.7'));
    await until(() => fake.requests.some((r) => r.path === '/crm/calls'), 8000);
    const body = JSON.parse(fake.requests.find((r) => r.path === '/crm/calls')!.body);
    assert.deepEqual(body, { ref: externalIdOf('default', 'proprietary', '1733600000.7'), who: 'ana@example.com', secs: '80' });
    for (let i = 0; i < 100 && !(await admin.get('/crm/calllog?status=sent')).text.includes('https://crm.example.com/c/P-5'); i += 1) await new Promise((r) => setTimeout(r, 50));
    const log = await admin.get('/crm/calllog?status=sent');
    assert.match(log.text, /<td data-label="CRM">Proprietary CRM<\/td>/);
    assert.match(log.text, /<a href="https:\/\/crm.example.com\/c\/P-5"[^>]*>Record P-5<\/a>/);
  });

  it('the Call log is in the CRM menu', async () => {
    const home = await admin.get('/crm/calllog');
    assert.match(home.text, /href="\/crm\/calllog"/);
  });
});
