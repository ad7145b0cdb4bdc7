/**
 * npm run bench:calllog [-- --calls 1000 --db sqlite|mariadb --processes 1|2 --faults --rate 0]
 *
 * Finished calls through the call log's outbox to a Custom CRM call log URL (a local HTTPS fake):
 * enqueue -> outbox row in the database -> worker -> POST. Prints write requests per call,
 * duplicates (calls the fake accepted more than once), lost calls (never accepted), and the delay
 * from hang-up (enqueue) to the fake accepting the activity, p50 / p99.
 * --processes 2 runs two services on separate connection pools of one database (MariaDB): two
 * plugin processes. --faults answers 5 % of requests 503 and 2 % 429 (Retry-After: 1) and drops
 * 1 % after reading them (the write "happened" but no answer came: the fake keeps it, and only the
 * Idempotency-Key keeps a retry from being a duplicate).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { externalIdOf } from '../src/calllog/call-activity';
import { CallLogService } from '../src/calllog/call-log-service';
import type { CompletedCall } from '../src/calllog/completed-call';
import { DEFAULT_LOG_OPTIONS } from '../src/calllog/log-options';
import { HttpClient } from '../src/crm/shared/http-client';
import { PluginStore } from '../src/store/plugin-store';
import { anotherConnectionPool, openTestDatabase } from '../test/support/databases';
import { FakeHttpsServer } from '../test/support/fake-https';
import { testCa } from '../test/support/test-ca';
import { describeMachine, ms, summarize, table } from './lib/bench-stats';

const { values: args } = parseArgs({
  options: {
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

async function main(): Promise<void> {
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

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
