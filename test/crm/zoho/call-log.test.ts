import assert from 'node:assert/strict';
import type { IntegrationConnector } from '../../../src/crm/integration';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { ZOHO_DATA_CENTRES, zohoDefinition, type ZohoServices } from '../../../src/crm/zoho';
import { zohoDateTime, zohoDuration } from '../../../src/crm/zoho/call-log';
import { callActivity, DISPOSITIONS, recordWrite, writeSignal } from '../../support/call-activity';
import { connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import type { RecordedRequest } from '../../support/fake-https';
import type { ZohoRequest } from '../../support/fakes/zoho-fake';
import { ZohoFake } from '../../support/fakes/zoho-fake';

describe('Zoho CRM call log', () => {
  let fake: ZohoFake;
  let http: HttpClient;

  before(async () => {
    fake = await ZohoFake.start({ eu: { accounts: ZOHO_DATA_CENTRES.eu.accounts, api: 'https://www.zohoapis.eu' } });
    http = testHttpClient();
    fake.add('eu', 'Contacts', { id: '4150868000000224005', Modified_Time: '2024-03-01T10:00:00+01:00', Last_Name: 'Smith', Phone: '+1 (202) 555-0101' });
    fake.add('eu', 'Leads', { id: '4150868000000225001', Modified_Time: '2024-03-01T10:00:00+01:00', Last_Name: 'Prospect', Mobile: '202-555-0177' });
    fake.users.push({ id: '4150868000000180001', email: 'agent@example.com', status: 'active' }, { id: '4150868000000180002', email: 'gone@example.com', status: 'disabled' });
  });
  beforeEach(() => { fake.insertDelayMs = 0; });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(refreshToken = '1000.refresh-eu'): IntegrationConnector {
    const settings = zohoDefinition.schema.parse({ region: 'US', dataCentre: 'eu', clientId: fake.clientId, clientSecret: fake.clientSecret, refreshToken });
    const services: ZohoServices = { ...connectorServices(http, new TokenCache()), resolveOrigin: fake.resolveOrigin };
    return zohoDefinition.create(settings, services);
  }
  const sentTo = (sent: RecordedRequest[]) => sent.map((r) => `${r.method} ${r.path}`);
  const inserts = (sent: RecordedRequest[], module = 'Calls') => sent.filter((r) => r.method === 'POST' && r.path === `/crm/v8/${module}`);
  const record = (req: RecordedRequest) => (JSON.parse(req.body) as { data: Array<Record<string, unknown>> }).data[0]!;

  it('inserts one Calls record on the caller\'s Contact: mm:ss duration, offset start time, owner by e-mail', async () => {
    const c = connector();
    const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity(), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sentTo(sent), ['POST /oauth/v2/token', 'GET /crm/v8/Contacts/search', 'GET /crm/v8/users', 'POST /crm/v8/Calls']);
    const write = inserts(sent)[0]!;
    assert.match(String(write.headers.authorization), /^Zoho-oauthtoken 1000\.access-eu-\d+$/);
    assert.deepEqual(JSON.parse(write.body), { data: [{
      Subject: 'Inbound call from +12025550101',
      Call_Type: 'Inbound',
      Call_Start_Time: '2026-12-07T10:15:30+00:00',
      Call_Duration: '01:35',
      Description: 'Answered by 101 after 12 s.\n\nAnswered inbound call from +12025550101 to 5551234.\nRecording: https://pbx.example.com/recordings/1733600000.0001.wav\nPBX call id: pbx-1733600000-0001',
      Caller_ID: '+12025550101',
      Who_Id: { id: '4150868000000224005' },
      Owner: { id: '4150868000000180001' },
    }] });
    assert.deepEqual(result, { kind: 'written', activityId: fake.records.get('eu')!.Calls!.at(-1)!.id });

    const again = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'pbx-2' }), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sentTo(again.sent), ['GET /crm/v8/Contacts/search', 'POST /crm/v8/Calls'], 'token and users list cached');
  });

  it('maps dispositions and directions to Call_Type and durations Zoho accepts', async () => {
    const c = connector();
    for (const disposition of DISPOSITIONS) {
      for (const direction of ['inbound', 'outbound'] as const) {
        const durationSeconds = disposition === 'answered' ? 0.4 : 0;
        const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: `d-${disposition}-${direction}`, disposition, direction, durationSeconds, pbxNumber: '101' }), NO_CREDENTIALS, writeSignal()));
        assert.equal(result.kind, 'written', `${disposition} ${direction}`);
        assert.equal(inserts(sent).length, 1, 'exactly one call per logCall');
        const r = record(inserts(sent)[0]!);
        const expectedType = direction === 'outbound' ? 'Outbound' : disposition === 'answered' ? 'Inbound' : 'Missed';
        assert.equal(r.Call_Type, expectedType, `${disposition} ${direction}`);
        assert.equal(r.Call_Duration, disposition === 'answered' ? '00:01' : '00:00', 'an answered call lasts at least a second');
        assert.equal(direction === 'inbound' ? r.Caller_ID : r.Dialled_Number, '+12025550101');
        assert.equal(r.Outgoing_Call_Status, direction === 'outbound' ? 'Completed' : undefined);
        assert.match(String(r.Description), new RegExp(`^Answered by 101 after 12 s\\.\\n\\n${disposition[0]!.toUpperCase()}${disposition.slice(1)} ${direction} call from`, 'm'));
      }
    }
    assert.equal(zohoDuration(4530, true), '75:30');
    assert.equal(zohoDateTime(new Date('2026-01-02T03:04:05.678Z')), '2026-01-02T03:04:05+00:00');
  });

  it('links a caller found only as a Lead through What_Id and $se_module', async () => {
    const { sent } = await recordWrite(fake.requests, () => connector().logCall!(callActivity({ externalId: 'lead-1', externalNumber: '+12025550177', ownerEmail: 'gone@example.com' }), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sentTo(sent).slice(1, 3), ['GET /crm/v8/Contacts/search', 'GET /crm/v8/Leads/search']);
    const r = record(inserts(sent)[0]!);
    assert.deepEqual([r.What_Id, r.$se_module, r.Who_Id, r.Owner], [{ id: '4150868000000225001' }, 'Leads', undefined, undefined], 'a disabled user owns nothing');
  });

  it('skips an unknown caller, or inserts a Contact or a Lead first', async () => {
    const c = connector();
    const skipped = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'u-skip', externalNumber: '+13035550123' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(skipped.result.kind, 'skipped');
    assert.deepEqual((skipped.sent as ZohoRequest[]).filter((r) => r.role === 'api').map((r) => `${r.method} ${r.path}`), ['GET /crm/v8/Contacts/search', 'GET /crm/v8/Leads/search'], 'no users list, no insert');
    for (const [unknownCaller, module] of [['contact', 'Contacts'], ['lead', 'Leads']] as const) {
      const number = unknownCaller === 'contact' ? '+13035550124' : '+13035550125';
      const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: `u-${unknownCaller}`, externalNumber: number, unknownCaller }), NO_CREDENTIALS, writeSignal()));
      assert.equal(result.kind, 'written');
      assert.equal(inserts(sent, module).length, 1);
      assert.deepEqual(record(inserts(sent, module)[0]!), { Last_Name: `Caller ${number}`, Phone: number, Owner: { id: '4150868000000180001' } });
      const created = fake.records.get('eu')![module]!.at(-1)!.id;
      const call = record(inserts(sent)[0]!);
      assert.deepEqual(module === 'Contacts' ? call.Who_Id : call.What_Id, { id: created });
    }
  });

  it('after an insert that timed out, findLoggedCall finds it by the id in Description: no second call', async () => {
    const c = connector();
    await c.findLoggedCall!('warm-up', NO_CREDENTIALS, writeSignal());
    fake.insertDelayMs = 1500;
    const calls = fake.records.get('eu')!.Calls!.length;
    const timedOut = await c.logCall!(callActivity({ externalId: 'timeout-1' }), NO_CREDENTIALS, writeSignal(500));
    assert.deepEqual(timedOut.kind === 'error' && [timedOut.code, timedOut.retryable], ['TIMEOUT', true]);
    fake.insertDelayMs = 0;
    const { result, sent } = await recordWrite(fake.requests, () => c.findLoggedCall!('timeout-1', NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(result, { kind: 'written', activityId: fake.records.get('eu')!.Calls!.at(-1)!.id });
    assert.equal(sent[0]!.query.get('word'), 'timeout-1');
    assert.equal(fake.records.get('eu')!.Calls!.length, calls + 1, 'one call, not two');
    // A call whose id merely starts the same is not this one.
    assert.equal(await c.findLoggedCall!('timeout', NO_CREDENTIALS, writeSignal()), undefined);
  });

  it('hands a 429 Retry-After on; a record refused or a missing scope is not retryable', async () => {
    const c = connector();
    fake.script((r) => r.method === 'POST' && r.path === '/crm/v8/Calls', { status: 429, headers: { 'retry-after': '30' }, body: { code: 'TOO_MANY_REQUESTS', details: {}, message: 'too many requests', status: 'error' } });
    const limited = await c.logCall!(callActivity({ externalId: 'rl-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(limited.kind === 'error' && [limited.code, limited.retryable, limited.retryAfterMs], ['RATE_LIMITED', true, 30_000]);

    fake.script((r) => r.method === 'POST' && r.path === '/crm/v8/Calls', { status: 400, body: { data: [{ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'Call_Purpose' }, message: 'required field not found', status: 'error' }] } });
    const refused = await c.logCall!(callActivity({ externalId: 'bad-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(refused.kind === 'error' && [refused.code, refused.retryable], ['HTTP_ERROR', false]);
    assert.match(refused.kind === 'error' ? refused.message : '', /MANDATORY_NOT_FOUND/);

    fake.grantRefreshToken('1000.read-only', 'eu', ['ZohoCRM.modules.READ', 'ZohoSearch.securesearch.READ', 'ZohoCRM.users.READ']);
    const scopeless = await connector('1000.read-only').logCall!(callActivity({ externalId: 'scope-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(scopeless.kind === 'error' && [scopeless.code, scopeless.retryable], ['FORBIDDEN', false]);
    assert.match(scopeless.kind === 'error' ? scopeless.message : '', /ZohoCRM\.modules\.calls\.CREATE/);
  });
});
