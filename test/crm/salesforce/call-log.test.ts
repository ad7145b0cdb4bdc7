import assert from 'node:assert/strict';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { SALESFORCE_RESULTS, soqlString } from '../../../src/crm/salesforce/call-log';
import { salesforceDefinition } from '../../../src/crm/salesforce';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { callActivity, DISPOSITIONS, recordWrite, writeSignal } from '../../support/call-activity';
import { connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import type { RecordedRequest } from '../../support/fake-https';
import { SalesforceFake } from '../../support/fakes/salesforce-fake';

const API = '/services/data/v60.0';

describe('Salesforce call log', () => {
  let fake: SalesforceFake;
  let http: HttpClient;

  before(async () => {
    fake = await SalesforceFake.start();
    http = testHttpClient();
    fake.records.Contact!.push({ Id: '003000000000001AAA', LastModifiedDate: '2024-05-01T10:00:00.000+0000', Name: 'Ada Lovelace', Phone: '(202) 555-0101' });
    fake.records.Lead!.push({ Id: '00Q000000000001AAA', LastModifiedDate: '2024-05-01T10:00:00.000+0000', Phone: '+1 202 555 0177' });
    fake.orgUsers.push({ Id: '005000000000001AAA', Email: 'agent@example.com', IsActive: true }, { Id: '005000000000002AAA', Email: 'gone@example.com', IsActive: false });
  });
  beforeEach(() => { fake.createDelayMs = 0; });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(tokens = new TokenCache()): IntegrationConnector {
    const settings = salesforceDefinition.schema.parse({ region: 'US', loginUrl: fake.login.url, authFlow: 'client_credentials', clientId: fake.clientId, clientSecret: fake.clientSecret });
    return salesforceDefinition.create(settings, connectorServices(http, tokens));
  }
  const taskWrites = (sent: RecordedRequest[]) => sent.filter((r) => r.method === 'POST' && r.path === `${API}/sobjects/Task`);
  const soql = (r: RecordedRequest) => r.query.get('q') ?? '';

  it('writes one Task (a logged call) on the caller\'s Contact: seconds, CallObject, owner by e-mail', async () => {
    const c = connector();
    const first = await recordWrite(fake.instance.requests, () => c.logCall!(callActivity({ externalId: 'first' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(first.sent.length, 4, 'query Task, SOSL Contact, query User, POST Task');
    const { result, sent } = await recordWrite(fake.instance.requests, () => c.logCall!(callActivity(), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sent.map((r) => `${r.method} ${r.path} ${soql(r).split(' ').slice(0, 4).join(' ')}`.trim()), [
      `GET ${API}/query/ SELECT Id FROM Task`,
      `GET ${API}/search/ FIND {2025550101 OR 12025550101}`,
      `POST ${API}/sobjects/Task`,
    ], 'the owner is cached from the first call');
    assert.equal(soql(sent[0]!), "SELECT Id FROM Task WHERE CallObject = 'pbx-1733600000-0001' LIMIT 1");
    const write = taskWrites(sent)[0]!;
    assert.match(String(write.headers.authorization), /^Bearer 00Dfake!session\d+$/);
    assert.deepEqual(JSON.parse(write.body), {
      Subject: 'Inbound call from +12025550101',
      TaskSubtype: 'Call',
      Status: 'Completed',
      Priority: 'Normal',
      ActivityDate: '2026-12-07',
      CallType: 'Inbound',
      CallDisposition: 'Connected',
      CallDurationInSeconds: 95,
      CallObject: 'pbx-1733600000-0001',
      Description: 'Answered by 101 after 12 s.\n\nStarted 2026-12-07T10:15:30.000Z, talk time 1:35.\nFrom +12025550101 to 5551234.\nRecording: https://pbx.example.com/recordings/1733600000.0001.wav\nPBX call id: pbx-1733600000-0001',
      WhoId: '003000000000001AAA',
      OwnerId: '005000000000001AAA',
    });
    const task = fake.records.Task!.at(-1)!;
    assert.deepEqual(result, { kind: 'written', activityId: task.Id, recordUrl: `${fake.instance.url}/${task.Id}` });
  });

  it('asks for the owner once per e-mail; an inactive or unknown agent leaves the Task to the API user', async () => {
    const c = connector();
    const first = await recordWrite(fake.instance.requests, () => c.logCall!(callActivity({ externalId: 'own-1', ownerEmail: 'gone@example.com' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(first.sent.filter((r) => soql(r).startsWith('SELECT Id FROM User')).length, 1);
    assert.equal(soql(first.sent.find((r) => soql(r).startsWith('SELECT Id FROM User'))!), "SELECT Id FROM User WHERE Email = 'gone@example.com' AND IsActive = true LIMIT 2");
    assert.equal((JSON.parse(taskWrites(first.sent)[0]!.body) as { OwnerId?: string }).OwnerId, undefined);
    const second = await recordWrite(fake.instance.requests, () => c.logCall!(callActivity({ externalId: 'own-2', ownerEmail: 'gone@example.com' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(second.sent.filter((r) => soql(r).startsWith('SELECT Id FROM User')).length, 0);
  });

  it('maps every disposition and direction to CallDisposition and CallType, in seconds', async () => {
    const c = connector();
    for (const disposition of DISPOSITIONS) {
      for (const direction of ['inbound', 'outbound'] as const) {
        const durationSeconds = disposition === 'answered' ? 61.4 : 0;
        const { result, sent } = await recordWrite(fake.instance.requests, () => c.logCall!(callActivity({ externalId: `d-${disposition}-${direction}`, disposition, direction, durationSeconds, pbxNumber: '101' }), NO_CREDENTIALS, writeSignal()));
        assert.equal(result.kind, 'written');
        assert.equal(taskWrites(sent).length, 1, 'exactly one Task per logCall');
        const body = JSON.parse(taskWrites(sent)[0]!.body) as Record<string, unknown>;
        assert.equal(body.CallDisposition, SALESFORCE_RESULTS[disposition]);
        assert.equal(body.CallType, direction === 'inbound' ? 'Inbound' : 'Outbound');
        assert.equal(body.CallDurationInSeconds, disposition === 'answered' ? 61 : 0);
        assert.match(String(body.Description), direction === 'inbound' ? /From \+12025550101 to 101\./ : /From 101 to \+12025550101\./);
      }
    }
    assert.deepEqual(Object.values(SALESFORCE_RESULTS), ['Connected', 'Missed', 'Abandoned', 'Busy', 'Failed']);
  });

  it('links a caller found only as a Lead', async () => {
    const { sent } = await recordWrite(fake.instance.requests, () => connector().logCall!(callActivity({ externalId: 'lead-1', externalNumber: '2025550177' }), NO_CREDENTIALS, writeSignal()));
    assert.ok(soql(sent.filter((r) => r.path.endsWith('/search/'))[1]!).includes('RETURNING Lead('));
    assert.equal((JSON.parse(taskWrites(sent)[0]!.body) as { WhoId: string }).WhoId, '00Q000000000001AAA');
  });

  it('skips an unknown caller, or creates a Contact or a Lead (with Company) first', async () => {
    const c = connector();
    const skipped = await recordWrite(fake.instance.requests, () => c.logCall!(callActivity({ externalId: 'u-skip', externalNumber: '+13035550123' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(skipped.result.kind, 'skipped');
    assert.deepEqual(skipped.sent.map((r) => `${r.method} ${r.path} ${soql(r).split(' (')[0]!.split(' RETURNING ')[1] ?? soql(r).slice(0, 25)}`), [
      `GET ${API}/query/ SELECT Id FROM Task WHERE`,
      `GET ${API}/search/ Contact(Id, Phone, MobilePhone, HomePhone, OtherPhone, AssistantPhone, LastModifiedDate ORDER BY LastModifiedDate DESC LIMIT 10)`,
      `GET ${API}/search/ Lead(Id, Phone, MobilePhone, LastModifiedDate ORDER BY LastModifiedDate DESC LIMIT 10)`,
    ], 'no owner look-up, no write');
    for (const [unknownCaller, object] of [['contact', 'Contact'], ['lead', 'Lead']] as const) {
      const number = unknownCaller === 'contact' ? '+13035550124' : '+13035550125';
      const { result, sent } = await recordWrite(fake.instance.requests, () => c.logCall!(callActivity({ externalId: `u-${unknownCaller}`, externalNumber: number, unknownCaller }), NO_CREDENTIALS, writeSignal()));
      assert.equal(result.kind, 'written');
      const creates = sent.filter((r) => r.method === 'POST' && r.path === `${API}/sobjects/${object}`);
      assert.equal(creates.length, 1);
      assert.deepEqual(JSON.parse(creates[0]!.body), { LastName: `Caller ${number}`, Phone: number, ...(object === 'Lead' ? { Company: '[not provided]' } : {}), OwnerId: '005000000000001AAA' });
      assert.equal((JSON.parse(taskWrites(sent)[0]!.body) as { WhoId: string }).WhoId, fake.records[object]!.at(-1)!.Id);
    }
  });

  it('after a Task write that timed out, findLoggedCall and a retried logCall find it by CallObject: no second Task', async () => {
    const c = connector();
    await c.findLoggedCall!('warm', NO_CREDENTIALS, writeSignal()); // signs in
    fake.createDelayMs = 1500;
    const tasks = fake.records.Task!.length;
    const timedOut = await c.logCall!(callActivity({ externalId: 'timeout-1' }), NO_CREDENTIALS, writeSignal(500));
    assert.deepEqual(timedOut.kind === 'error' && [timedOut.code, timedOut.retryable], ['TIMEOUT', true]);
    fake.createDelayMs = 0;
    const id = fake.records.Task!.at(-1)!.Id;
    assert.deepEqual(await c.findLoggedCall!('timeout-1', NO_CREDENTIALS, writeSignal()), { kind: 'written', activityId: id, recordUrl: `${fake.instance.url}/${id}` });
    const retried = await recordWrite(fake.instance.requests, () => c.logCall!(callActivity({ externalId: 'timeout-1' }), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(retried.result, { kind: 'written', activityId: id, recordUrl: `${fake.instance.url}/${id}` });
    assert.equal(retried.sent.length, 1, 'only the CallObject query');
    assert.equal(fake.records.Task!.length, tasks + 1, 'one Task, not two');
    assert.equal(await c.findLoggedCall!('never-written', NO_CREDENTIALS, writeSignal()), undefined);
  });

  it('hands a 429 Retry-After and the daily allowance on; refusals are not retryable', async () => {
    const c = connector();
    fake.script((r) => r.method === 'POST' && r.path === `${API}/sobjects/Task`, { status: 429, headers: { 'retry-after': '12' }, body: [{ message: 'Too many requests', errorCode: 'REQUEST_LIMIT_EXCEEDED_RATE' }] });
    const started = Date.now();
    const limited = await c.logCall!(callActivity({ externalId: 'rl-1' }), NO_CREDENTIALS, writeSignal());
    assert.ok(Date.now() - started < 2000, 'no wait inside logCall');
    assert.deepEqual(limited.kind === 'error' && [limited.code, limited.retryable, limited.retryAfterMs], ['RATE_LIMITED', true, 12_000]);

    fake.script((r) => r.method === 'POST' && r.path === `${API}/sobjects/Task`, { status: 400, body: [{ message: 'Subject: bad value for restricted picklist field', errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' }] });
    const invalid = await c.logCall!(callActivity({ externalId: 'bad-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(invalid.kind === 'error' && [invalid.code, invalid.retryable], ['HTTP_ERROR', false]);
    assert.match(invalid.kind === 'error' ? invalid.message : '', /INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST/);

    fake.script((r) => r.method === 'POST' && r.path === `${API}/sobjects/Task`, { status: 403, body: [{ message: 'insufficient access rights on cross-reference id', errorCode: 'INSUFFICIENT_ACCESS' }] });
    const refused = await c.logCall!(callActivity({ externalId: 'forbidden-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(refused.kind === 'error' && [refused.code, refused.retryable], ['FORBIDDEN', false]);
  });

  it('escapes SOQL string literals', () => {
    assert.equal(soqlString("o'brien\\x@example.com"), "'o\\'brien\\\\x@example.com'");
    assert.throws(() => soqlString('a\nb'));
  });
});
