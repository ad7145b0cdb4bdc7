import assert from 'node:assert/strict';
import type { CallActivity } from '../../../src/crm/call-log-writer';
import { proprietary1Definition, proprietaryDefinition } from '../../../src/crm/proprietary';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { FakeHttpsServer, type FakeReply, type RecordedRequest } from '../../support/fake-https';
import { connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';

const activity: CallActivity = {
  externalId: 'cl-abc_DEF-123', direction: 'inbound', disposition: 'answered', externalNumber: '+1 (555) 123-4567', pbxNumber: '5551234',
  startedAt: new Date('2026-12-07T19:00:00Z'), durationSeconds: 61, subject: 'Inbound "call"\nfrom +15551234567', notes: 'line 1\nline 2 </script>',
  ownerEmail: 'ana@example.com', unknownCaller: 'lead',
};

describe('Proprietary CRM call log template', () => {
  let fake: FakeHttpsServer;
  let http: HttpClient;
  let reply: (req: RecordedRequest) => FakeReply = () => ({ status: 201, body: { data: { id: 'C-77' } } });

  const settings = (over: Record<string, unknown> = {}) => ({
    method: 'GET', url: `${fake.url}/api/contacts?phone={e164}`, valuePath: 'data[*].{field}', region: 'US',
    authType: 'bearer', password: 'tok-123',
    logUrl: `${fake.url}/api/calls/{external_id}?src=pbx`, logMethod: 'PUT', logHeaders: 'X-Owner: {owner_email}',
    logBody: '{"ref": "{external_id}", "phone": "{e164}", "secs": "{duration}", "mins": "{duration_minutes}", "subject": "{subject}", "notes": "{notes}", "kind": "{unknown_caller}"}',
    logIdPath: 'data.id', logRecordUrl: 'https://crm.example.com/calls/{id}', ...over,
  });
  const connector = (over: Record<string, unknown> = {}, definition = proprietaryDefinition) =>
    definition.create(definition.schema.parse(settings(over)), connectorServices(http, new TokenCache()));

  beforeEach(async () => {
    fake = await FakeHttpsServer.start((req) => reply(req));
    http = testHttpClient();
  });
  afterEach(async () => {
    await http.close();
    await fake.close();
  });

  it('sends the declared request: method, path, headers, authentication and a JSON body with every value escaped', async () => {
    const result = await connector().logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.deepEqual(result, { kind: 'written', activityId: 'C-77', recordUrl: 'https://crm.example.com/calls/C-77' });
    assert.equal(fake.requests.length, 1);
    const req = fake.requests[0]!;
    assert.equal(req.method, 'PUT');
    assert.equal(req.path, '/api/calls/cl-abc_DEF-123');
    assert.equal(req.query.get('src'), 'pbx');
    assert.equal(req.headers.authorization, 'Bearer tok-123');
    assert.equal(req.headers['idempotency-key'], 'cl-abc_DEF-123');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['x-owner'], 'ana@example.com');
    assert.deepEqual(JSON.parse(req.body), {
      ref: 'cl-abc_DEF-123', phone: '+15551234567', secs: '61', mins: '2', subject: 'Inbound "call"\nfrom +15551234567', notes: 'line 1\nline 2 </script>', kind: 'lead',
    });
  });

  it('without a body template the documented default body is sent', async () => {
    await connector({ logBody: '', logMethod: 'POST', logUrl: `${fake.url}/api/calls` }, proprietary1Definition).logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(5000));
    const body = JSON.parse(fake.requests[0]!.body) as Record<string, string>;
    assert.equal(fake.requests[0]!.method, 'POST');
    assert.deepEqual(Object.keys(body), ['external_id', 'direction', 'disposition', 'phone', 'pbx_number', 'started_at', 'duration', 'subject', 'notes', 'owner_email', 'unknown_caller', 'recording_url']);
    assert.equal(body.started_at, '2026-12-07T19:00:00.000Z');
  });

  it('answers as the outbox needs: 429 with Retry-After retried, 409 already written, 400 failed, a lost connection retried', async () => {
    reply = () => ({ status: 429, headers: { 'retry-after': '30' }, body: {} });
    const limited = await connector().logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.equal(limited.kind === 'error' && limited.code, 'RATE_LIMITED');
    assert.ok(limited.kind === 'error' && limited.retryable && limited.retryAfterMs! >= 29_000);
    reply = () => ({ status: 409, body: {} });
    assert.deepEqual(await connector().logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(5000)), { kind: 'written', activityId: 'cl-abc_DEF-123' });
    reply = () => ({ status: 400, body: { error: 'bad' } });
    const bad = await connector().logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.ok(bad.kind === 'error' && bad.code === 'HTTP_ERROR' && !bad.retryable);
    reply = () => ({ drop: true });
    const lost = await connector().logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.ok(lost.kind === 'error' && lost.retryable, JSON.stringify(lost));
  });

  it('without a Call log URL the connector takes no calls; template mistakes are refused when saved', () => {
    assert.equal(connector({ logUrl: '' }).logCall, undefined);
    const refused = (over: Record<string, unknown>) => {
      const parsed = proprietaryDefinition.schema.safeParse(settings(over));
      return parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
    };
    assert.match(refused({ logBody: '{"x": "{field}"}' }).join(), /logBody: Unknown placeholder \{field\}/);
    assert.match(refused({ logUrl: 'http://crm.example.com/calls' }).join(), /logUrl: Enter the Call log URL, starting with https:\/\//);
    assert.match(refused({ logUrl: 'https://{did}.example.com/calls' }).join(), /logUrl: Placeholders may appear in the path and query/);
    assert.match(refused({ logBody: '{"x": {external_id}}' }).join(), /logBody: The body template is not valid JSON/);
    assert.match(refused({ logHeaders: 'Host: evil' }).join(), /logHeaders: The Host header is set by the request itself/);
    assert.match(refused({ logIdPath: 'data[*].id' }).join(), /logIdPath: This path takes no \*/);
    assert.deepEqual(refused({}), []);
  });
});
