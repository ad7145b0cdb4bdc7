/**
 * npm run bench:calllog [-- --calls 1000 --db sqlite|mariadb --processes 1|2 --faults --rate 0]
 * npm run bench:calllog -- --crm <kind>|all [--calls 1000 --db sqlite|mariadb]
 *
 * Finished calls through the call log's outbox to a Custom CRM call log URL (a local HTTPS fake):
 * enqueue -> outbox row in the database -> worker -> POST. Prints write requests per call,
 * duplicates (calls the fake accepted more than once), lost calls (never accepted), and the delay
 * from hang-up (enqueue) to the fake accepting the activity, p50 / p99.
 * --processes 2 runs two services on separate connection pools of one database (MariaDB): two
 * plugin processes. --faults answers 5 % of requests 503 and 2 % 429 (Retry-After: 1) and drops
 * 1 % after reading them (the write "happened" but no answer came: the fake keeps it, and only the
 * Idempotency-Key keeps a retry from being a duplicate).
 *
 * --crm runs the same finished calls through the same outbox into a CRM integration (its real
 * connector's logCall / findLoggedCall) against the CRM's test fake, one row per CRM: activity
 * create requests and all requests per call (counted at the fake), duplicates (external ids the
 * fake holds more than one activity for, plus activities that belong to no call), lost calls (no
 * activity), and hang-up to the activity existing in the fake's store, p50 / p99. Callers are
 * all known (a pool of contacts in each fake); dispositions mix; every call kind is logged.
 * With --faults, 5 % of create requests are answered 503 before anything is stored (where the fake
 * takes an intercept), and 2 % of creates are stored but answered only after the worker's attempt
 * timeout (1 s): the row is uncertain, and only findLoggedCall (or the CRM's own idempotency)
 * keeps the retry from writing a second activity.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { externalIdOf } from '../src/calllog/call-activity';
import { CallLogService } from '../src/calllog/call-log-service';
import type { CompletedCall } from '../src/calllog/completed-call';
import { DEFAULT_LOG_OPTIONS } from '../src/calllog/log-options';
import type { CrmKind } from '../src/domain/crm-kinds';
import { RuleConnectors } from '../src/crm/rule-connectors';
import { hubspotCallPaths } from '../src/crm/hubspot/call-log';
import { callUuid } from '../src/crm/shared/call-log-support';
import { ZOHO_DATA_CENTRES } from '../src/crm/zoho';
import { HttpClient } from '../src/crm/shared/http-client';
import { PluginStore } from '../src/store/plugin-store';
import { anotherConnectionPool, openTestDatabase } from '../test/support/databases';
import { DISPOSITIONS } from '../test/support/call-activities';
import { testHttpClient } from '../test/support/connector-harness';
import { FakeHttpsServer, type RecordedRequest } from '../test/support/fake-https';
import { VendorFake } from '../test/support/fakes/vendor-fake';
import { BullhornFake } from '../test/support/fakes/bullhorn-fake';
import { HubSpotFake } from '../test/support/fakes/hubspot-fake';
import { PipedriveFake } from '../test/support/fakes/pipedrive-fake';
import { SalesforceFake } from '../test/support/fakes/salesforce-fake';
import { ZendeskFake } from '../test/support/fakes/zendesk-fake';
import { ZohoFake } from '../test/support/fakes/zoho-fake';
import { Dynamics2015Fake, Dynamics365Fake } from '../test/support/fakes/dynamics-fake';
import { SugarFake } from '../test/support/fakes/sugarcrm-fake';
import { SuiteCrmFake } from '../test/support/fakes/suitecrm-fake';
import { VtigerFake } from '../test/support/fakes/vtiger-fake';
import { testCa } from '../test/support/test-ca';
import { describeMachine, ms, summarize, table } from './lib/bench-stats';

const { values: args } = parseArgs({
  options: {
    crm: { type: 'string' },
    calls: { type: 'string', default: '1000' },
    db: { type: 'string', default: 'sqlite' },
    processes: { type: 'string', default: '1' },
    faults: { type: 'boolean', default: false },
    rate: { type: 'string', default: '0' },
  },
});
const CALLS = Number(args.calls);
const PROCESSES = Math.max(1, Math.min(4, Number(args.processes)));
const RATE = Number(args.rate);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function benchCustom(): Promise<void> {
  const database = await openTestDatabase(args.db === 'mariadb' ? 'mariadb' : 'sqlite');
  const accepted = new Map<string, number>();
  const firstAcceptedAt = new Map<string, number>();
  let requests = 0;
  let seq = 0;
  const fake = await FakeHttpsServer.start((req) => {
    requests += 1;
    const key = String(req.headers['idempotency-key'] ?? '');
    const r = args.faults ? (seq++ * 7919) % 100 : 100;
    if (r < 5) return { status: 503, body: { error: 'busy' } };
    if (r < 7) return { status: 429, headers: { 'retry-after': '1' }, body: {} };
    // The middleware deduplicates on Idempotency-Key; a second accept of one key would be a duplicate activity.
    if (accepted.has(key)) return { status: 409, body: {} };
    accepted.set(key, 1);
    firstAcceptedAt.set(key, performance.now());
    if (r < 8) return { drop: true };
    return { status: 201, body: { id: `A-${accepted.size}` } };
  });
  const pools = [database.db, ...Array.from({ length: PROCESSES - 1 }, () => anotherConnectionPool(database.db))];
  const services: CallLogService[] = [];
  const clients: HttpClient[] = [];
  for (const db of pools) {
    const store = await PluginStore.create(db, { secretKey: 'bench-secret-key-0123456789abcdef-0123456789' });
    const http = new HttpClient({ ca: testCa().caPem, egress: { allowLoopback: true } });
    clients.push(http);
    services.push(new CallLogService({
      host: {}, store, http, logger: quiet, connectors: { integration: () => { throw new Error('no CRM integrations in this bench'); } } as never,
      worker: { pollMs: 100, backoffBaseMs: 500, batchSize: 32, attemptTimeoutMs: 5000 },
    }));
  }
  const store = await PluginStore.create(database.db, { secretKey: 'bench-secret-key-0123456789abcdef-0123456789' });
  await store.callLogOptions.save('default', 'custom', { options: { ...DEFAULT_LOG_OPTIONS, enabled: true }, url: `${fake.url}/calls` });
  for (const s of services) s.start();

  const hangupAt = new Map<string, number>();
  const started = performance.now();
  for (let i = 0; i < CALLS; i += 1) {
    const ended = new Date();
    const call: CompletedCall = {
      linkedId: `1733600000.${i}`, tenantId: 'default', direction: i % 5 === 0 ? 'outbound' : 'inbound', disposition: i % 7 === 0 ? 'missed' : 'answered',
      externalNumber: `+1555${String(i).padStart(7, '0')}`, did: '5551234', agentExtension: '101',
      startedAt: new Date(ended.getTime() - 60_000), endedAt: ended, talkSeconds: i % 7 === 0 ? 0 : 45, channelUniqueIds: [],
    };
    hangupAt.set(externalIdOf('default', 'custom', call.linkedId), performance.now());
    services[i % services.length]!.enqueue(call);
    if (RATE > 0) await new Promise((r) => setTimeout(r, 1000 / RATE));
  }
  const deadline = performance.now() + 120_000;
  while (accepted.size < CALLS && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // Let retries of dropped answers settle, so late duplicates would show.
  await new Promise((r) => setTimeout(r, 2000));
  const elapsed = performance.now() - started;
  const counts = await store.callOutbox.countByStatus('default');
  const workerStats = services.map((s) => s.worker.stats);
  for (const s of services) await s.stop();
  for (const c of clients) await c.close();
  await fake.close();
  for (const p of pools.slice(1)) await p.destroy();
  await database.close();

  const delays = [...firstAcceptedAt].map(([key, at]) => at - hangupAt.get(key)!);
  const d = summarize(delays);
  const duplicateAccepts = [...accepted.values()].filter((n) => n > 1).length;
  console.log(`bench:calllog: ${CALLS} calls, ${args.db}, ${PROCESSES} process(es), faults ${args.faults ? 'on' : 'off'}, rate ${RATE ? `${RATE}/s` : 'all at once'}; ${describeMachine()}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(table([
    ['figure', 'value'],
    ['write requests per call', (requests / CALLS).toFixed(3)],
    ['duplicates (activities accepted twice)', String(duplicateAccepts)],
    ['lost calls (never accepted)', String(CALLS - accepted.size)],
    ['hang-up to activity p50 (ms)', ms(d.p50, 1)],
    ['hang-up to activity p99 (ms)', ms(d.p99, 1)],
    ['hang-up to activity max (ms)', ms(d.max, 1)],
    ['outbox rows sent / pending / failed', `${counts.sent} / ${counts.pending} / ${counts.failed}`],
    ['rows sent by each process', workerStats.map((w) => w.sent).join(' / ')],
    ['retries / database errors', `${workerStats.reduce((n, w) => n + w.retried, 0)} / ${workerStats.reduce((n, w) => n + w.databaseErrors, 0)}`],
    ['wall time (s)', (elapsed / 1000).toFixed(1)],
  ]));
}

/** A CRM's fake, started with the known callers, as the bench sees it. */
interface StartedFake {
  fake: { close(): Promise<void>; readonly violations: readonly string[] };
  /** Every request the fake's servers saw (sign-ins included). */
  requests(): readonly RecordedRequest[];
  /** Holds the answer to the create just stored for `ms` (0: at once): the fake's own slow-create knob. */
  delayCreate(ms: number): void;
  /** For a CRM whose real origins the fake stands in for (ConnectorServices.resolveOrigin). */
  resolveOrigin?: (origin: string) => string;
  /** The integration's settings (secrets included), as CRM > Integration saves them. */
  settings: Record<string, unknown>;
  /** Where the fake keeps the call activities it created: a map by id, or a list. */
  activities: Map<string | number, Record<string, unknown>> | Array<Record<string, unknown>>;
  /** A request that creates a call activity. */
  isCreate(req: RecordedRequest): boolean;
  /** The call's external id of a stored activity (`key`: its id in a map; `byUuid`: the call UUID of each external id). */
  externalIdOf(key: unknown, activity: Record<string, unknown>, byUuid: Map<string, string>): string | undefined;
}

const OWNER_EMAIL = 'agent101@example.com';
/** '+12025550107' as the CRMs' records hold it. */
const dialled = (e164: string) => `(${e164.slice(2, 5)}) ${e164.slice(5, 8)}-${e164.slice(8)}`;
const uuidOf = (n: number, prefix: string) => `${prefix}${String(n).padStart(12, '0')}`;
const byCallUuid = (key: unknown, _a: unknown, byUuid: Map<string, string>) => byUuid.get(String(key));
/** The external id from the "PBX call id: ..." line the writers without their own id field put in the activity's text. */
const byIdLine = (_k: unknown, a: Record<string, unknown>) => /PBX call id: ([A-Za-z0-9_-]+)/.exec(JSON.stringify(a))?.[1];
const suiteForm = (req: RecordedRequest) => new URLSearchParams(req.body);
const isJson = (text: string | null | undefined): Record<string, unknown> => { try { return JSON.parse(text ?? '') as Record<string, unknown>; } catch { return {}; } };

/** One row per CRM writer: how its test fake is started and seeded, and its integration settings (as in test/crm/<crm>/call-log.test.ts). */
const CRM_SETUPS: Array<{ name: string; kind: CrmKind; start(numbers: string[]): Promise<StartedFake> }> = [
  {
    name: 'Dynamics 365', kind: 'dynamics',
    async start(numbers) {
      const fake = await Dynamics365Fake.start();
      fake.records.contacts = numbers.map((n, i) => ({ contactid: uuidOf(i, 'a0000000-0000-0000-0000-'), fullname: `Caller ${i}`, telephone1: dialled(n), modifiedon: '2024-05-01T10:00:00Z' }));
      fake.records.leads = [];
      fake.records.accounts = [];
      fake.users.set('c0000000-0000-0000-0000-000000000007', OWNER_EMAIL);
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => void fake.slowCreates.push(ms), activities: fake.phonecalls, externalIdOf: byCallUuid,
        settings: { deployment: 'online365', orgUrl: fake.url, tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-3333-4444-555555555555', clientSecret: 'app~secret', loginHost: fake.url, region: 'US' },
        isCreate: (r) => r.method === 'PATCH' && r.headers['if-none-match'] === '*' && /\/phonecalls\(/.test(r.path),
      };
    },
  },
  {
    name: 'Dynamics CRM 2015', kind: 'dynamics',
    async start(numbers) {
      const fake = await Dynamics2015Fake.start();
      fake.records.Contact = numbers.map((n, i) => ({ ContactId: uuidOf(i, 'a0000000-0000-0000-0000-'), FullName: `Caller ${i}`, Telephone1: dialled(n), Telephone2: null, Telephone3: null, MobilePhone: null, ModifiedOn: `/Date(${Date.parse('2024-05-01T10:00:00Z')})/` }));
      fake.records.Lead = [];
      fake.records.Account = [];
      fake.users.set('c0000000-0000-0000-0000-000000000007', OWNER_EMAIL);
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => void fake.slowCreates.push(ms), activities: fake.phoneCalls, externalIdOf: byCallUuid,
        settings: { deployment: 'onprem2015', orgUrl: fake.orgUrl, username: 'CONTOSO\\crm-routing', password: 'Pa55word!', region: 'US' },
        isCreate: (r) => r.method === 'POST' && r.path.endsWith('/PhoneCallSet'),
      };
    },
  },
  {
    name: 'SugarCRM', kind: 'sugarcrm',
    async start(numbers) {
      const fake = await SugarFake.start({ records: { Contacts: numbers.map((n, i) => ({ id: uuidOf(i, 'c0ffee00-0000-4000-8000-'), date_modified: '2024-05-01T10:00:00+00:00', phone_work: dialled(n) })) } });
      fake.crmUsers.set('u0000000-0000-4000-8000-000000000007', OWNER_EMAIL);
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => void fake.slowCreates.push(ms), activities: fake.calls, externalIdOf: byCallUuid,
        settings: { siteUrl: fake.url, username: 'api', password: 'secret', region: 'US' },
        isCreate: (r) => r.method === 'POST' && /\/Calls$/.test(r.path),
      };
    },
  },
  ...(['v8', 'v4_1'] as const).map((apiVersion) => ({
    name: `SuiteCRM ${apiVersion === 'v8' ? 'V8' : 'v4_1'}`, kind: 'suitecrm' as const,
    async start(numbers: string[]): Promise<StartedFake> {
      const fake = await SuiteCrmFake.start();
      fake.records.Contacts = numbers.map((n, i) => ({ id: uuidOf(i, 'c0ffee00-0000-4000-8000-'), date_modified: '2024-05-01 10:00:00', phone_work: dialled(n), phone_mobile: '', phone_home: '', phone_other: '' }));
      fake.records.Users = [{ id: 'u0000000-0000-4000-8000-000000000007', date_modified: '2024-01-01 00:00:00', user_name: OWNER_EMAIL }];
      fake.users.set('u0000000-0000-4000-8000-000000000007', OWNER_EMAIL);
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => void fake.slowCreates.push(ms), activities: fake.calls as StartedFake['activities'], externalIdOf: byCallUuid,
        settings: { site: fake.url, apiVersion, clientId: fake.clientId, clientSecret: fake.clientSecret, username: fake.username, password: fake.password, region: 'US' },
        isCreate: (r) => r.method === 'POST' && (r.path.endsWith('/V8/module')
          ? (isJson(r.body).data as { type?: string } | undefined)?.type === 'Calls'
          : suiteForm(r).get('method') === 'set_entry' && isJson(suiteForm(r).get('rest_data')).module_name === 'Calls'),
      };
    },
  })),
  {
    name: 'Vtiger', kind: 'vtiger',
    async start(numbers) {
      const fake = await VtigerFake.start();
      const half = Math.ceil(numbers.length / 2);
      fake.rows.Contacts = numbers.slice(0, half).map((n, i) => ({ id: `12x${i + 1}`, modifiedtime: '2024-05-01 10:00:00', lastname: `Caller ${i}`, phone: dialled(n), mobile: '', homephone: '', otherphone: '' }));
      fake.rows.Accounts = numbers.slice(half).map((n, i) => ({ id: `11x${i + 1}`, modifiedtime: '2024-05-01 10:00:00', accountname: `Company ${i}`, phone: dialled(n), otherphone: '' }));
      fake.users.set('19x5', OWNER_EMAIL);
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => void fake.slowCreates.push(ms), activities: fake.events,
        settings: { url: `${fake.url}/crm`, username: fake.username, accessKey: fake.accessKey, region: 'US' },
        isCreate: (r) => r.method === 'POST' && new URLSearchParams(r.body).get('operation') === 'create' && new URLSearchParams(r.body).get('elementType') === 'Events',
        externalIdOf: byIdLine,
      };
    },
  },
  {
    name: 'Bullhorn', kind: 'bullhorn',
    async start(numbers) {
      const fake = await BullhornFake.start();
      const half = Math.ceil(numbers.length / 2);
      fake.records.Candidate = numbers.slice(0, half).map((n, i) => ({ id: 100 + i, firstName: `Caller ${i}`, phone: dialled(n), dateLastModified: 1_700_000_000_000 }));
      fake.records.ClientContact = numbers.slice(half).map((n, i) => ({ id: 200 + i, firstName: `Contact ${i}`, phone2: dialled(n), dateLastModified: 1 }));
      fake.corporateUsers.set(7, OWNER_EMAIL);
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => void fake.slowCreates.push(ms), activities: fake.notes as StartedFake['activities'],
        settings: { clientId: fake.clientId, clientSecret: fake.clientSecret, username: fake.username, password: fake.password, loginInfoUrl: fake.url, region: 'US' },
        isCreate: (r) => r.method === 'PUT' && r.path.endsWith('/entity/Note'),
        externalIdOf: (_k, a) => (typeof a.externalID === 'string' ? a.externalID : undefined),
      };
    },
  },
  {
    name: 'HubSpot', kind: 'hubspot',
    async start(numbers) {
      const fake = await HubSpotFake.start();
      fake.records.contacts!.push(...numbers.map((n, i) => ({ id: String(1000 + i), updatedAt: '2024-05-01T10:00:00.000Z', properties: { firstname: `Caller ${i}`, phone: dialled(n), hs_searchable_calculated_phone_number: n.slice(2) } })));
      fake.owners.push({ id: '41629779', email: OWNER_EMAIL, userId: 9586504 });
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => { fake.createDelayMs = ms; }, activities: fake.calls as unknown as StartedFake['activities'],
        settings: { region: 'US', baseUrl: fake.url, accessToken: 'pat-na1-good' },
        isCreate: (r) => r.method === 'POST' && r.path === hubspotCallPaths.calls,
        externalIdOf: (_k, a) => (a.properties as { hs_call_external_id?: string }).hs_call_external_id,
      };
    },
  },
  {
    name: 'Salesforce', kind: 'salesforce',
    async start(numbers) {
      const fake = await SalesforceFake.start();
      fake.records.Contact!.push(...numbers.map((n, i) => ({ Id: `003${String(i + 1).padStart(12, '0')}AAA`, LastModifiedDate: '2024-05-01T10:00:00.000+0000', Name: `Caller ${i}`, Phone: dialled(n) })));
      fake.orgUsers.push({ Id: '005000000000001AAA', Email: OWNER_EMAIL, IsActive: true });
      return {
        fake, requests: () => [...fake.login.requests, ...fake.instance.requests], delayCreate: (ms) => { fake.createDelayMs = ms; }, activities: fake.records.Task as StartedFake['activities'],
        settings: { region: 'US', loginUrl: fake.login.url, authFlow: 'client_credentials', clientId: fake.clientId, clientSecret: fake.clientSecret },
        isCreate: (r) => r.method === 'POST' && r.path.endsWith('/sobjects/Task'),
        externalIdOf: (_k, a) => (typeof a.CallObject === 'string' ? a.CallObject : undefined),
      };
    },
  },
  {
    name: 'Zoho CRM', kind: 'zoho',
    async start(numbers) {
      const fake = await ZohoFake.start({ eu: { accounts: ZOHO_DATA_CENTRES.eu.accounts, api: 'https://www.zohoapis.eu' } });
      numbers.forEach((n, i) => fake.add('eu', 'Contacts', { id: String(4150868000000224000n + BigInt(i)), Modified_Time: '2024-03-01T10:00:00+01:00', Last_Name: `Caller ${i}`, Phone: dialled(n) }));
      fake.users.push({ id: '4150868000000180001', email: OWNER_EMAIL, status: 'active' });
      const calls: Array<Record<string, unknown>> = [];
      fake.records.get('eu')!.Calls = calls as never;
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => { fake.insertDelayMs = ms; }, activities: calls, resolveOrigin: fake.resolveOrigin,
        settings: { region: 'US', dataCentre: 'eu', clientId: fake.clientId, clientSecret: fake.clientSecret, refreshToken: '1000.refresh-eu' },
        isCreate: (r) => r.method === 'POST' && r.path === '/crm/v8/Calls',
        externalIdOf: byIdLine,
      };
    },
  },
  {
    name: 'Pipedrive', kind: 'pipedrive',
    async start(numbers) {
      const fake = await PipedriveFake.start();
      fake.persons.push(...numbers.map((n, i) => ({ id: 11 + i, name: `Caller ${i}`, org_id: null, update_time: '2024-05-01T10:00:00Z', phones: [{ value: dialled(n), primary: true, label: 'work' }], custom_fields: {} })));
      fake.users.push({ id: 88, email: OWNER_EMAIL, active_flag: true });
      fake.activityPageSize = 100; // a full page, as Pipedrive answers limit=100
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => { fake.createDelayMs = ms; }, activities: fake.callLogs as unknown as StartedFake['activities'],
        settings: { region: 'US', companyDomain: fake.url, apiToken: 'pd-token-good' },
        isCreate: (r) => r.method === 'POST' && r.path === '/api/v1/callLogs',
        externalIdOf: byIdLine,
      };
    },
  },
  {
    name: 'Zendesk', kind: 'zendesk',
    async start(numbers) {
      const fake = await ZendeskFake.start();
      fake.users = numbers.map((n, i) => ({ id: 101 + i, name: `Caller ${i}`, phone: dialled(n), role: 'end-user', updated_at: '2024-03-01T10:00:00Z' }));
      fake.agents = [{ id: 9001, email: OWNER_EMAIL, role: 'agent', active: true }];
      return {
        fake, requests: () => fake.requests, delayCreate: (ms) => { fake.createDelayMs = ms; }, activities: fake.tickets as unknown as StartedFake['activities'],
        settings: { subdomain: fake.url, region: 'US', authMode: 'client_credentials', clientId: fake.clientId, clientSecret: fake.clientSecret },
        isCreate: (r) => r.method === 'POST' && r.path === '/api/v2/tickets',
        externalIdOf: (_k, a) => (a.ticket as { external_id?: string }).external_id,
      };
    },
  },
];

const FAULT_TIMEOUT_MS = 1000;
const FAULT_DELAY_MS = 1500;

interface CrmRow { faults: string; retries: number; name: string; creates: number; requests: number; duplicates: number; stray: number; lost: number; p50: number; p99: number; max: number; outbox: string; wallS: number; violations: number }

async function benchCrm(setup: (typeof CRM_SETUPS)[number]): Promise<CrmRow> {
  const numbers = Array.from({ length: 40 }, (_, i) => `+1202555${String(100 + i).padStart(4, '0')}`);
  const started = await setup.start(numbers);
  const { fake, activities } = started;
  // When each activity came to exist in the fake: its first insert into the fake's store (by id in a map, the record itself in a list).
  const createdAt = new Map<unknown, number>();
  // --faults: every 50th create is stored but answered after the worker's attempt timeout.
  let late = 0;
  const created = (key: unknown) => {
    createdAt.set(key, performance.now());
    const slow = args.faults && createdAt.size % 50 === 17;
    if (slow) late += 1;
    started.delayCreate(slow ? FAULT_DELAY_MS : 0);
  };
  if (activities instanceof Map) {
    const set = activities.set.bind(activities);
    activities.set = (key, value) => {
      if (!createdAt.has(key)) created(key);
      return set(key, value);
    };
  } else {
    const push = activities.push.bind(activities);
    activities.push = (...items) => {
      for (const item of items) created(item);
      return push(...items);
    };
  }
  // --faults: 5 % of create requests answered 503 before the fake stores anything.
  let createRequests = 0;
  let refused = 0;
  if (args.faults && fake instanceof VendorFake) {
    fake.intercept = (req) => {
      if (!started.isCreate(req)) return undefined;
      createRequests += 1;
      if (createRequests % 20 !== 7) return undefined;
      refused += 1;
      return { status: 503, headers: { 'retry-after': '1' }, body: { error: 'Service Unavailable' } };
    };
  }
  const database = await openTestDatabase(args.db === 'mariadb' ? 'mariadb' : 'sqlite');
  const store = await PluginStore.create(database.db, { secretKey: 'bench-secret-key-0123456789abcdef-0123456789' });
  const http = testHttpClient();
  const now = new Date();
  const record = { id: 1, tenantId: 'default', crm: setup.kind, enabled: true, settings: started.settings, secrets: {}, createdAt: now, updatedAt: now };
  const connectors = new RuleConnectors({ http, logger: quiet, cacheTtlMs: 0, ...(started.resolveOrigin ? { resolveOrigin: started.resolveOrigin } : {}), integration: (tenantId, crm) => (tenantId === 'default' && crm === setup.kind ? record : undefined) });
  const service = new CallLogService({
    host: { directory: { find: async () => ({ name: 'Agent 101', email: OWNER_EMAIL, extension: '101' }) } as never },
    store, http, logger: quiet, connectors,
    worker: { pollMs: 100, backoffBaseMs: 500, batchSize: 32, attemptTimeoutMs: args.faults ? FAULT_TIMEOUT_MS : 5000 },
  });
  await store.callLogOptions.save('default', setup.kind, { options: { ...DEFAULT_LOG_OPTIONS, enabled: true } });
  service.start();

  const hangupAt = new Map<string, number>();
  const byUuid = new Map<string, string>();
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i += 1) {
    const { disposition, direction } = DISPOSITIONS[i % DISPOSITIONS.length]!;
    const ended = new Date();
    const talkSeconds = disposition === 'answered' ? 5 + (i % 300) : 0;
    const call: CompletedCall = {
      linkedId: `1733600000.${i}`, tenantId: 'default', direction, disposition,
      externalNumber: numbers[(i * 7) % numbers.length]!, did: '5551234', agentExtension: '101',
      startedAt: new Date(ended.getTime() - talkSeconds * 1000 - 10_000), endedAt: ended, talkSeconds, channelUniqueIds: [],
    };
    const externalId = externalIdOf('default', setup.kind, call.linkedId);
    hangupAt.set(externalId, performance.now());
    byUuid.set(callUuid(externalId), externalId);
    service.enqueue(call);
    if (RATE > 0) await new Promise((r) => setTimeout(r, 1000 / RATE));
  }
  const deadline = performance.now() + 300_000;
  let counts = await store.callOutbox.countByStatus('default');
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    counts = await store.callOutbox.countByStatus('default');
    if (service.stats().queued === 0 && counts.pending === 0 && counts.sent + counts.skipped + counts.failed >= CALLS) break;
  }
  // Let late retries settle, so late duplicates would show.
  await new Promise((r) => setTimeout(r, 1000));
  const wallS = (performance.now() - t0) / 1000;
  counts = await store.callOutbox.countByStatus('default');
  await service.stop();
  await http.close();
  await fake.close();
  await database.close();

  const perCall = new Map<string, number>();
  let stray = 0;
  const delays: number[] = [];
  for (const [key, activity] of activities instanceof Map ? activities.entries() : activities.map((a) => [a, a] as const)) {
    const externalId = started.externalIdOf(key, activity, byUuid);
    if (!externalId || !hangupAt.has(externalId)) { stray += 1; continue; }
    perCall.set(externalId, (perCall.get(externalId) ?? 0) + 1);
    if (perCall.get(externalId) === 1) delays.push(createdAt.get(key)! - hangupAt.get(externalId)!);
  }
  const d = summarize(delays);
  const workerStats = service.worker.stats;
  return {
    faults: args.faults ? `${refused} 503 / ${late} late` : '-',
    retries: workerStats.retried,
    name: setup.name,
    creates: started.requests().filter((r) => started.isCreate(r)).length / CALLS,
    requests: started.requests().length / CALLS,
    duplicates: [...perCall.values()].filter((n) => n > 1).length,
    stray, lost: CALLS - perCall.size, p50: d.p50, p99: d.p99, max: d.max,
    outbox: `${counts.sent} / ${counts.skipped} / ${counts.failed} / ${counts.pending}`,
    wallS, violations: fake.violations.length,
  };
}

async function benchCrms(which: string): Promise<void> {
  const setups = which === 'all' ? CRM_SETUPS : CRM_SETUPS.filter((s) => s.kind === which || s.name.toLowerCase().replace(/\s+/g, '') === which.toLowerCase());
  if (setups.length === 0) throw new Error(`--crm: one of all, ${[...new Set(CRM_SETUPS.map((s) => s.kind))].join(', ')}`);
  const rows: CrmRow[] = [];
  for (const setup of setups) {
    process.stderr.write(`${setup.name}... `);
    rows.push(await benchCrm(setup));
    process.stderr.write('done\n');
  }
  console.log(`bench:calllog --crm ${which}: ${CALLS} calls per CRM (known callers, ${DISPOSITIONS.length} direction/disposition mixes, every call kind logged), ${args.db}, 1 process, faults ${args.faults ? `on (5 % of creates 503, 2 % answered after the ${FAULT_TIMEOUT_MS} ms attempt timeout)` : 'off'}, rate ${RATE ? `${RATE}/s` : 'all at once'}; ${describeMachine()}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(table([
    ['CRM', 'creates/call', 'requests/call', 'duplicates', 'stray', 'lost', 'p50 ms', 'p99 ms', 'max ms', 'outbox sent/skipped/failed/pending', 'faults injected', 'retries', 'wall s', 'fake violations'],
    ...rows.map((r) => [r.name, r.creates.toFixed(3), r.requests.toFixed(3), String(r.duplicates), String(r.stray), String(r.lost), ms(r.p50, 1), ms(r.p99, 1), ms(r.max, 1), r.outbox, r.faults, String(r.retries), r.wallS.toFixed(1), String(r.violations)]),
  ]));
}

(args.crm ? benchCrms(args.crm) : benchCustom()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
