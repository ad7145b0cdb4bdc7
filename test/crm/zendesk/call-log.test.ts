import assert from 'node:assert/strict';
import type { IntegrationConnector } from '../../../src/crm/integration';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { zendeskDefinition, zendeskSchema } from '../../../src/crm/zendesk';
import { callActivity, DISPOSITIONS, recordWrite, writeSignal } from '../../support/call-activity';
import { closeFake, connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import type { RecordedRequest } from '../../support/fake-https';
import { ZendeskFake } from '../../support/fakes/zendesk-fake';

describe('Zendesk call log', () => {
  let fake: ZendeskFake;
  let http: HttpClient;

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await ZendeskFake.start();
    fake.users = [{ id: 101, name: 'Ann Caller', phone: '+1 (202) 555-0101', role: 'end-user', updated_at: '2024-03-01T10:00:00Z' }];
    fake.agents = [{ id: 9001, email: 'agent@example.com', role: 'agent', active: true }, { id: 9002, email: 'caller@example.com', role: 'end-user', active: true }];
  });
  afterEach(() => closeFake(fake, 'Zendesk'));

  function connector(): IntegrationConnector {
    return zendeskDefinition.create(zendeskSchema.parse({ subdomain: fake.url, region: 'US', authMode: 'client_credentials', clientId: fake.clientId, clientSecret: fake.clientSecret }), connectorServices(http));
  }
  const sentTo = (sent: RecordedRequest[]) => sent.map((r) => `${r.method} ${r.path}`);
  const ticketWrites = (sent: RecordedRequest[]) => sent.filter((r) => r.method === 'POST' && r.path === '/api/v2/tickets');
  const ticketOf = (r: RecordedRequest) => (JSON.parse(r.body) as { ticket: Record<string, unknown> }).ticket;

  it('creates one ticket with a voice comment for the caller, under an Idempotency-Key, seconds, agent by e-mail', async () => {
    const c = connector();
    const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity(), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sentTo(sent), ['POST /oauth/tokens', 'GET /api/v2/search.json', 'GET /api/v2/users/search', 'POST /api/v2/tickets']);
    assert.deepEqual(JSON.parse(sent[0]!.body).scope, 'read write', 'writing needs the write scope');
    const write = ticketWrites(sent)[0]!;
    assert.equal(write.headers['idempotency-key'], 'pbx-1733600000-0001');
    assert.match(String(write.headers.authorization), /^Bearer [0-9a-f]{32}$/);
    assert.deepEqual(ticketOf(write), {
      subject: 'Inbound call from +12025550101',
      requester_id: 101,
      assignee_id: 9001,
      external_id: 'pbx-1733600000-0001',
      tags: ['pbx_call', 'pbx_inbound', 'pbx_answered'],
      voice_comment: {
        from: '+12025550101',
        to: '5551234',
        recording_url: 'https://pbx.example.com/recordings/1733600000.0001.wav',
        started_at: '2026-12-07T10:15:30.000Z',
        call_duration: 95,
        answered_by_id: 9001,
        transcription_text: 'Answered by 101 after 12 s.\nInbound call, answered.\nPBX call id: pbx-1733600000-0001',
      },
    });
    const id = fake.tickets.at(-1)!.id;
    assert.deepEqual(result, { kind: 'written', activityId: String(id), recordUrl: `${fake.url}/agent/tickets/${id}` });

    const again = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'pbx-2' }), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sentTo(again.sent), ['GET /api/v2/search.json', 'POST /api/v2/tickets'], 'token and agent cached');
  });

  it('carries direction and disposition in the numbers, tags and comment; only answered calls name who answered', async () => {
    const c = connector();
    for (const disposition of DISPOSITIONS) {
      for (const direction of ['inbound', 'outbound'] as const) {
        const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: `d-${disposition}-${direction}`, disposition, direction, durationSeconds: disposition === 'answered' ? 61.4 : 0, pbxNumber: '101', recordingUrl: undefined }), NO_CREDENTIALS, writeSignal()));
        assert.equal(result.kind, 'written');
        assert.equal(ticketWrites(sent).length, 1, 'exactly one ticket per logCall');
        const t = ticketOf(ticketWrites(sent)[0]!);
        const voice = t.voice_comment as Record<string, unknown>;
        assert.deepEqual(t.tags, ['pbx_call', `pbx_${direction}`, `pbx_${disposition}`]);
        assert.deepEqual([voice.from, voice.to], direction === 'inbound' ? ['+12025550101', '101'] : ['101', '+12025550101']);
        assert.equal(voice.call_duration, disposition === 'answered' ? 61 : 0);
        assert.equal(voice.answered_by_id, disposition === 'answered' ? 9001 : undefined);
        assert.equal(voice.recording_url, undefined);
        assert.equal(t.assignee_id, 9001);
      }
    }
  });

  it('an end user with the agent\'s e-mail is not an agent', async () => {
    const { sent } = await recordWrite(fake.requests, () => connector().logCall!(callActivity({ externalId: 'not-agent', ownerEmail: 'caller@example.com' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(ticketOf(ticketWrites(sent)[0]!).assignee_id, undefined);
  });

  it('skips an unknown caller, or creates an end user first (Zendesk has no leads)', async () => {
    const c = connector();
    const skipped = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'u-skip', externalNumber: '+13035550123' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(skipped.result.kind, 'skipped');
    assert.deepEqual(sentTo(skipped.sent), ['POST /oauth/tokens', 'GET /api/v2/search.json'], 'no agent look-up, no write');
    for (const unknownCaller of ['contact', 'lead'] as const) {
      const number = unknownCaller === 'contact' ? '+13035550124' : '+13035550125';
      const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: `u-${unknownCaller}`, externalNumber: number, unknownCaller }), NO_CREDENTIALS, writeSignal()));
      assert.equal(result.kind, 'written');
      const created = sent.filter((r) => r.method === 'POST' && r.path === '/api/v2/users');
      assert.equal(created.length, 1);
      assert.deepEqual(JSON.parse(created[0]!.body), { user: { name: `Caller ${number}`, phone: number, role: 'end-user' } });
      assert.equal(ticketOf(ticketWrites(sent)[0]!).requester_id, fake.users.at(-1)!.id);
    }
  });

  it('a retry after a timeout gets the same ticket back through the Idempotency-Key; findLoggedCall finds it by external_id', async () => {
    const c = connector();
    fake.createDelayMs = 1500;
    const timedOut = await c.logCall!(callActivity({ externalId: 'timeout-1' }), NO_CREDENTIALS, writeSignal(700));
    assert.deepEqual(timedOut.kind === 'error' && [timedOut.code, timedOut.retryable], ['TIMEOUT', true]);
    fake.createDelayMs = 0;
    const id = fake.tickets.at(-1)!.id;
    const found = await recordWrite(fake.requests, () => c.findLoggedCall!('timeout-1', NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(found.result, { kind: 'written', activityId: String(id), recordUrl: `${fake.url}/agent/tickets/${id}` });
    assert.equal(found.sent[0]!.query.get('external_id'), 'timeout-1');
    const retried = await c.logCall!(callActivity({ externalId: 'timeout-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(retried, { kind: 'written', activityId: String(id), recordUrl: `${fake.url}/agent/tickets/${id}` });
    assert.equal(fake.tickets.filter((t) => t.ticket.external_id === 'timeout-1').length, 1, 'one ticket, not two');
    assert.equal(await c.findLoggedCall!('never-written', NO_CREDENTIALS, writeSignal()), undefined);
  });

  it('hands a 429 Retry-After on; refusals are not retryable', async () => {
    const c = connector();
    fake.intercept = (req) => (req.method === 'POST' && req.path === '/api/v2/tickets' ? { status: 429, headers: { 'retry-after': '93' }, body: { error: 'TooManyRequests' } } : undefined);
    const limited = await c.logCall!(callActivity({ externalId: 'rl-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(limited.kind === 'error' && [limited.code, limited.retryable, limited.retryAfterMs], ['RATE_LIMITED', true, 93_000]);
    fake.intercept = (req) => (req.method === 'POST' && req.path === '/api/v2/tickets' ? { status: 403, body: { error: 'Forbidden', description: 'You do not have access to this page.' } } : undefined);
    const refused = await c.logCall!(callActivity({ externalId: 'forbidden-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(refused.kind === 'error' && [refused.code, refused.retryable], ['FORBIDDEN', false]);
    fake.intercept = (req) => (req.method === 'POST' && req.path === '/api/v2/tickets' ? { status: 422, body: { error: 'RecordInvalid', description: 'Record validation errors' } } : undefined);
    const invalid = await c.logCall!(callActivity({ externalId: 'invalid-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(invalid.kind === 'error' && [invalid.code, invalid.retryable], ['HTTP_ERROR', false]);
    fake.intercept = undefined;
  });
});
