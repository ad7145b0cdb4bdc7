import assert from 'node:assert/strict';
import { CALL_TO_CONTACT, HUBSPOT_OUTCOMES, hubspotCallPaths } from '../../../src/crm/hubspot/call-log';
import { hubspotDefinition, type HubSpotSettings } from '../../../src/crm/hubspot';
import type { IntegrationConnector } from '../../../src/crm/integration';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { callActivity, DISPOSITIONS, recordWrite, writeSignal } from '../../support/call-activity';
import { connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { HubSpotFake } from '../../support/fakes/hubspot-fake';

describe('HubSpot call log', () => {
  let fake: HubSpotFake;
  let http: HttpClient;

  before(async () => {
    fake = await HubSpotFake.start();
    http = testHttpClient();
    fake.records.contacts!.push({ id: '101', updatedAt: '2024-05-01T10:00:00.000Z', properties: { firstname: 'Ada', phone: '(202) 555-0101', hs_searchable_calculated_phone_number: '2025550101' } });
    fake.owners.push({ id: '41629779', email: 'agent@example.com', userId: 9586504 }, { id: '41629780', email: 'other@example.com', userId: 9586505 });
  });
  beforeEach(() => { fake.createDelayMs = 0; fake.intercept = undefined; });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(): IntegrationConnector {
    const settings: HubSpotSettings = hubspotDefinition.schema.parse({ region: 'US', baseUrl: fake.url, accessToken: 'pat-na1-good' });
    return hubspotDefinition.create(settings, connectorServices(http));
  }
  const creates = (sent: typeof fake.requests, type = 'calls') => sent.filter((r) => r.method === 'POST' && r.path === (type === 'calls' ? hubspotCallPaths.calls : hubspotCallPaths.contacts));

  it('writes one call engagement linked to the caller\'s contact, duration in ms, owner by e-mail', async () => {
    const c = connector();
    const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity(), NO_CREDENTIALS, writeSignal()));
    assert.equal(result.kind, 'written');
    assert.deepEqual(sent.map((r) => `${r.method} ${r.path}`), [
      'POST /crm/objects/2026-09/contacts/search',
      'GET /crm/v3/owners/',
      'POST /crm/objects/2026-09/calls',
    ]);
    assert.equal(sent[1]!.query.get('email'), 'agent@example.com');
    const write = creates(sent)[0]!;
    assert.equal(write.headers.authorization, 'Bearer pat-na1-good');
    assert.equal(write.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(write.body), {
      properties: {
        hs_timestamp: String(Date.parse('2026-12-07T10:15:30.000Z')),
        hs_call_title: 'Inbound call from +12025550101',
        hs_call_body: 'Answered by 101 after 12 s.<br>PBX call id: pbx-1733600000-0001',
        hs_call_direction: 'INBOUND',
        hs_call_status: 'COMPLETED',
        hs_call_duration: '95000',
        hs_call_external_id: 'pbx-1733600000-0001',
        hs_call_from_number: '+12025550101',
        hs_call_to_number: '5551234',
        hs_call_disposition: HUBSPOT_OUTCOMES.connected,
        hubspot_owner_id: '41629779',
        hs_call_recording_url: 'https://pbx.example.com/recordings/1733600000.0001.wav',
      },
      associations: [{ to: { id: '101' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: CALL_TO_CONTACT }] }],
    });
    assert.deepEqual(result, { kind: 'written', activityId: fake.calls.at(-1)!.id });

    // The owner is cached: the next call of the same agent is a search and a write.
    const again = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'pbx-2' }), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(again.sent.map((r) => r.path), ['/crm/objects/2026-09/contacts/search', hubspotCallPaths.calls]);
  });

  it('maps every disposition and direction to status and outcome', async () => {
    const c = connector();
    const expected = {
      answered: ['COMPLETED', HUBSPOT_OUTCOMES.connected],
      missed: ['NO_ANSWER', HUBSPOT_OUTCOMES.noAnswer],
      abandoned: ['CANCELED', HUBSPOT_OUTCOMES.noAnswer],
      busy: ['BUSY', HUBSPOT_OUTCOMES.busy],
      failed: ['FAILED', undefined],
    };
    for (const disposition of DISPOSITIONS) {
      for (const direction of ['inbound', 'outbound'] as const) {
        const durationSeconds = disposition === 'answered' ? 61.4 : 0;
        const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: `d-${disposition}-${direction}`, disposition, direction, durationSeconds, pbxNumber: '101' }), NO_CREDENTIALS, writeSignal()));
        assert.equal(result.kind, 'written', disposition);
        const writes = creates(sent);
        assert.equal(writes.length, 1, 'exactly one call per logCall');
        const p = (JSON.parse(writes[0]!.body) as { properties: Record<string, string> }).properties;
        assert.deepEqual([p.hs_call_status, p.hs_call_disposition], expected[disposition], disposition);
        assert.equal(p.hs_call_direction, direction === 'inbound' ? 'INBOUND' : 'OUTBOUND');
        assert.equal(p.hs_call_duration, disposition === 'answered' ? '61400' : '0');
        assert.deepEqual([p.hs_call_from_number, p.hs_call_to_number], direction === 'inbound' ? ['+12025550101', '101'] : ['101', '+12025550101']);
      }
    }
  });

  it('escapes the notes into the HTML body, line by line', async () => {
    const { sent } = await recordWrite(fake.requests, () => connector().logCall!(callActivity({ externalId: 'html-1', notes: 'Rule "VIP" <row 2>\nRouted to Sales & Support' }), NO_CREDENTIALS, writeSignal()));
    assert.equal((JSON.parse(creates(sent)[0]!.body) as { properties: Record<string, string> }).properties.hs_call_body, 'Rule &quot;VIP&quot; &lt;row 2&gt;<br>Routed to Sales &amp; Support<br>PBX call id: html-1');
  });

  it('an agent with no HubSpot owner leaves the call to the integration\'s user', async () => {
    const { result, sent } = await recordWrite(fake.requests, () => connector().logCall!(callActivity({ externalId: 'no-owner', ownerEmail: 'nobody@example.com' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(result.kind, 'written');
    assert.equal((JSON.parse(creates(sent)[0]!.body) as { properties: Record<string, string> }).properties.hubspot_owner_id, undefined);
  });

  it('one owner serves both reads: routing finds its e-mail by id, the call log its id by e-mail (once per connector)', async () => {
    const c = connector();
    assert.deepEqual(await c.ownerEmail!('41629779', NO_CREDENTIALS, writeSignal()), { kind: 'email', email: 'agent@example.com' });
    const first = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'both-1', ownerEmail: 'Agent@Example.com' }), NO_CREDENTIALS, writeSignal()));
    assert.equal((JSON.parse(creates(first.sent)[0]!.body) as { properties: Record<string, string> }).properties.hubspot_owner_id, '41629779');
    const second = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'both-2' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(second.sent.filter((r) => r.path.startsWith('/crm/v3/owners')).length, 0, 'the owner id is cached');
    assert.equal((JSON.parse(creates(second.sent)[0]!.body) as { properties: Record<string, string> }).properties.hubspot_owner_id, '41629779');
  });

  it('skips an unknown caller without writing, or creates a contact (or a lead-stage contact) first', async () => {
    const c = connector();
    const skipped = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalNumber: '+13035550123', externalId: 'u-skip' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(skipped.result.kind, 'skipped');
    assert.deepEqual(skipped.sent.map((r) => r.path), ['/crm/objects/2026-09/contacts/search'], 'a search, no owner look-up, no write');

    for (const unknownCaller of ['contact', 'lead'] as const) {
      const number = unknownCaller === 'contact' ? '+13035550124' : '+13035550125';
      const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalNumber: number, externalId: `u-${unknownCaller}`, unknownCaller }), NO_CREDENTIALS, writeSignal()));
      assert.equal(result.kind, 'written');
      const contact = creates(sent, 'contacts');
      assert.equal(contact.length, 1);
      const props = (JSON.parse(contact[0]!.body) as { properties: Record<string, string> }).properties;
      assert.deepEqual(props, { phone: number, lastname: `Caller ${number}`, hubspot_owner_id: '41629779', ...(unknownCaller === 'lead' ? { lifecyclestage: 'lead' } : {}) });
      const created = fake.records.contacts!.at(-1)!;
      const call = JSON.parse(creates(sent)[0]!.body) as { associations: Array<{ to: { id: string } }> };
      assert.deepEqual(call.associations.map((a) => a.to.id), [created.id]);
    }
  });

  it('after a write that timed out, findLoggedCall finds it by the external id: no second call', async () => {
    const c = connector();
    fake.createDelayMs = 1500;
    const before = fake.calls.length;
    const timedOut = await c.logCall!(callActivity({ externalId: 'timeout-1' }), NO_CREDENTIALS, writeSignal(400));
    assert.equal(timedOut.kind, 'error');
    assert.equal(timedOut.kind === 'error' && timedOut.code, 'TIMEOUT');
    assert.equal(timedOut.kind === 'error' && timedOut.retryable, true);
    fake.createDelayMs = 0;
    const { result, sent } = await recordWrite(fake.requests, () => c.findLoggedCall!('timeout-1', NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(result, { kind: 'written', activityId: fake.calls.at(-1)!.id });
    assert.equal(fake.calls.length, before + 1, 'one call, not two');
    assert.deepEqual(JSON.parse(sent[0]!.body), {
      filterGroups: [{ filters: [{ propertyName: 'hs_call_external_id', operator: 'EQ', value: 'timeout-1' }] }],
      sorts: [{ propertyName: 'hs_timestamp', direction: 'ASCENDING' }],
      properties: ['hs_call_external_id'],
      limit: 1,
    });
    assert.equal(await c.findLoggedCall!('never-written', NO_CREDENTIALS, writeSignal()), undefined);
  });

  it('hands a 429\'s Retry-After to the outbox without waiting; refusals are not retryable', async () => {
    const c = connector();
    fake.intercept = (req) => (req.path === hubspotCallPaths.calls ? { status: 429, headers: { 'retry-after': '7' }, body: { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', category: 'RATE_LIMITS' } } : undefined);
    const started = Date.now();
    const limited = await c.logCall!(callActivity({ externalId: 'rl-1' }), NO_CREDENTIALS, writeSignal());
    assert.ok(Date.now() - started < 2000, 'no wait inside logCall');
    assert.deepEqual({ ...limited, message: undefined }, { kind: 'error', code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7000, message: undefined });

    fake.intercept = (req) => (req.path === hubspotCallPaths.calls ? { status: 403, body: { status: 'error', category: 'MISSING_SCOPES', message: 'This app lacks the scopes required', errors: [{ context: { requiredGranularScopes: ['crm.objects.contacts.write'] } }] } } : undefined);
    const refused = await c.logCall!(callActivity({ externalId: 'forbidden-1' }), NO_CREDENTIALS, writeSignal());
    assert.equal(refused.kind === 'error' && refused.code, 'FORBIDDEN');
    assert.equal(refused.kind === 'error' && refused.retryable, false);

    fake.intercept = (req) => (req.path === hubspotCallPaths.calls ? { status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', message: 'Property values were not valid' } } : undefined);
    const invalid = await c.logCall!(callActivity({ externalId: 'invalid-1' }), NO_CREDENTIALS, writeSignal());
    assert.equal(invalid.kind === 'error' && invalid.retryable, false);
    assert.match(invalid.kind === 'error' ? invalid.message : '', /VALIDATION_ERROR/);

    fake.intercept = (req) => (req.path === hubspotCallPaths.calls ? { status: 502, body: 'Bad gateway' } : undefined);
    const down = await c.logCall!(callActivity({ externalId: 'down-1' }), NO_CREDENTIALS, writeSignal());
    assert.equal(down.kind === 'error' && down.retryable, true);
  });
});
