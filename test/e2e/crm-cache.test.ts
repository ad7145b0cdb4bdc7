/**
 * What the lookup cache saves each CRM, counted by the CRM's own fake: 1,000 calls from 100
 * callers through the real call path (FastAGI, Integration and Routing pages, AMI Redirect),
 * with the plugin's lookup cache on (plugin.json's 60 s) and off (0). Calls run in batches of
 * 250, so identical lookups are also in flight together.
 *
 * Expected: one sign-in either way (tokens and sessions are cached apart from lookups; NTLM
 * authenticates each connection, so Dynamics 2015 signs in once per connection it uses), and
 * 100 lookups with the cache on, 1,000 with it off. The figures are in each test's title.
 *
 * By default three CRMs, one per way of signing in: Zoho (OAuth refresh token, hosts from
 * resolveCrmOrigin), Dynamics 2015 (NTLM per connection) and Pipedrive (API token, no sign-in).
 * 2,000 calls take 5-20 s per CRM on a shared CI box; CRM_CACHE_ALL=1 counts every CRM, SuiteCRM
 * over its legacy v4_1 API (V8 sends 36 exact-match requests per lookup: 36,000 with the cache off).
 */
import assert from 'node:assert/strict';
import { CRM_CASES, dynamics2015, KNOWN_CALLERS, pipedrive, suitecrm, suitecrmV4, zoho, type CrmCase, type FakeCounts } from '../support/crm-cases';
import { DEADLINE_MAX_SECONDS } from '../../src/domain/rule';
import { CrmCallRig, ROWS } from '../support/crm-call-rig';

const CALLS = 1000;
const BATCH = 250;
/** NTLM handshakes: at most one per pooled connection (NtlmConnectionPool's default of 8). */
const NTLM_MAX_CONNECTIONS = 8;

const COUNTED: readonly CrmCase[] = process.env.CRM_CACHE_ALL ? CRM_CASES.map((c) => (c === suitecrm ? suitecrmV4 : c)) : [zoho, dynamics2015, pipedrive];

const RUNS = [
  { cache: 'on', ttl: undefined, lookups: KNOWN_CALLERS.length },
  { cache: 'off', ttl: 0, lookups: CALLS },
] as const;

/** Places CALLS calls, caller i % 100, BATCH at a time; returns how many ended each way. */
async function placeCalls(rig: CrmCallRig, crm: CrmCase): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  for (let start = 0; start < CALLS; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, CALLS - start) }, (_, k) => KNOWN_CALLERS[(start + k) % KNOWN_CALLERS.length]!);
    const calls = await Promise.all(batch.map((caller) => rig.call(crm, caller.phone).then((call) => ({ caller, call }))));
    for (const { caller, call } of calls) {
      const row = ROWS.findIndex((r) => r.value === caller.value) + 1;
      const v = call.variables;
      const ok = v.CRM_ROUTING_OUTCOME === 'MATCH' && v.CRM_ROUTING_ROW === String(row) && call.ended.kind === 'dialplan' && call.ended.via === 'redirect';
      const key = ok ? 'routed as expected' : `${v.CRM_ROUTING_OUTCOME ?? call.ended.kind} row ${v.CRM_ROUTING_ROW ?? '-'}`;
      tally[key] = (tally[key] ?? 0) + 1;
    }
  }
  return tally;
}

const delta = (before: FakeCounts, after: FakeCounts): FakeCounts => ({
  lookups: after.lookups - before.lookups,
  ...(after.logins !== undefined ? { logins: after.logins - (before.logins ?? 0) } : {}),
  ...(after.connections !== undefined ? { connections: after.connections - (before.connections ?? 0) } : {}),
});

function signIns(crm: CrmCase, counted: FakeCounts): string {
  if (counted.logins === undefined) return 'no sign-in (token-less)';
  if (crm.loginsPerConnection) return `${counted.logins} NTLM handshake(s) on ${counted.connections} connection(s)`;
  return `${counted.logins} sign-in(s)`;
}

for (const run of RUNS) {
  describe(`Lookup cache ${run.cache}: ${CALLS} calls from ${KNOWN_CALLERS.length} callers, per CRM`, function () {
    this.timeout(60_000);
    let rig: CrmCallRig;

    before(async function () {
      this.timeout(60_000);
      // The longest deadline: a busy test machine must not turn a slow lookup into a miscount.
      rig = await CrmCallRig.start(COUNTED, { callers: KNOWN_CALLERS, lookupCacheTtlSeconds: run.ttl, deadlineSeconds: DEADLINE_MAX_SECONDS });
    });
    after(async () => rig?.close());

    for (const crm of COUNTED) {
      it(`${crm.name}: ${run.lookups} lookups, one sign-in`, async function () {
        const fake = rig.fake(crm);
        const before = fake.counts();
        const tally = await placeCalls(rig, crm);
        const counted = delta(before, fake.counts());
        this.test!.title = `${crm.name}: ${counted.lookups} lookups, ${signIns(crm, counted)}`;

        assert.deepEqual(tally, { 'routed as expected': CALLS }, `${crm.name}: every call reaches the row of its caller's value`);
        assert.equal(counted.lookups, run.lookups, `${crm.name}: ${counted.lookups} lookups reached the CRM (cache ${run.cache})`);
        if (counted.logins !== undefined && crm.loginsPerConnection) {
          assert.equal(counted.logins, counted.connections, `${crm.name}: ${counted.logins} NTLM handshakes on ${counted.connections} connections (one each)`);
          assert.ok(counted.logins >= 1 && counted.logins <= NTLM_MAX_CONNECTIONS, `${crm.name}: ${counted.logins} NTLM handshakes (at most one per pooled connection, ${NTLM_MAX_CONNECTIONS})`);
        } else if (counted.logins !== undefined) {
          assert.equal(counted.logins, 1, `${crm.name}: ${counted.logins} sign-ins`);
        }
        assert.deepEqual(fake.violations(), [], `${crm.name}'s fake saw requests the vendor would refuse`);
      });
    }
  });
}
