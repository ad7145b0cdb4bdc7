/**
 * bench:agi, phase w: calls/s of the plugin's AGI path (Custom CRM over HTTPS) with 1 and with 2
 * node:cluster workers sharing one FastAGI port, as AGI_WORKERS / startAgiWorkers run it: this
 * process is the cluster primary (it accepts and hands out connections round-robin), each
 * group has its own port and SQLite file, the two groups alternate round by round.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { prepareBenchDatabase } from './bench-call-path';
import type { BenchWorker, CrmStarted } from './bench-worker-handle';
import { table } from './bench-stats';

export interface WorkersPhaseOptions {
  asterisk: BenchWorker;
  crm: CrmStarted;
  calls: number;
  rounds: number;
  concurrency: number;
  warmup: number;
  /** AGI commands per call on the AGI path. */
  commands: number;
}

interface Group {
  workers: Worker[];
  port: number;
  script: string;
}

export async function runWorkersPhase(options: WorkersPhaseOptions): Promise<void> {
  const { asterisk, calls, rounds, concurrency, warmup, commands } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-agi-workers-'));
  const groups: Group[] = [];
  try {
    cluster.setupPrimary({ exec: path.join(__dirname, `bench-cluster-worker${path.extname(__filename)}`), silent: false });
    for (const size of [1, 2]) groups.push(await startGroup(size, dir, options));
    const load = (group: Group, count: number) => asterisk.load({ port: group.port, script: group.script, calls: count, concurrency, callerId: '+15550001111', expectCommands: commands });
    for (const group of groups) await load(group, warmup);
    const perGroup = groups.map(() => [] as number[]);
    for (let round = 0; round < rounds; round += 1) {
      for (const [index, group] of groups.entries()) {
        const { result } = await load(group, calls);
        if (result.failures > 0) throw new Error(`${group.workers.length} workers: ${result.failures} calls failed: ${result.failureSamples.join('; ')}`);
        perGroup[index]!.push((calls * 1000) / result.wallMs);
      }
    }
    const medians = perGroup.map((rates) => [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)]!);
    console.log(`\nw. Workers: the plugin's AGI path, Custom CRM over HTTPS, in node:cluster workers sharing one FastAGI port (this process is the primary and hands out connections);`);
    console.log(`   ${calls} calls per run, ${concurrency} in flight, ${rounds} rounds alternating; ${os.availableParallelism()} cores shared with the load client, the fake CRM and the primary`);
    console.log(table([
      ['workers', 'calls/s (median)', 'rounds', 'vs 1 worker'],
      ...groups.map((group, i) => [String(group.workers.length), medians[i]!.toFixed(0), perGroup[i]!.map((r) => r.toFixed(0)).join(' / '), `${(medians[i]! / medians[0]!).toFixed(2)}x`]),
    ]));
  } finally {
    for (const group of groups) await stopGroup(group);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function startGroup(size: number, dir: string, options: WorkersPhaseOptions): Promise<Group> {
  const file = path.join(dir, `workers-${size}.sqlite`);
  const secretKey = randomBytes(32).toString('hex');
  const script = await prepareBenchDatabase(file, secretKey, options.crm.url);
  const port = await freePort();
  const workers: Worker[] = [];
  for (let i = 0; i < size; i += 1) {
    const worker = cluster.fork({ BENCH_DB: file, BENCH_SECRET: secretKey, BENCH_CRM_URL: options.crm.url, BENCH_CRM_CA: options.crm.caPem, BENCH_AGI_PORT: String(port) });
    await new Promise<void>((resolve, reject) => {
      worker.once('exit', (code) => reject(new Error(`bench cluster worker exited (code ${code})`)));
      worker.on('message', (message: { benchReady?: boolean }) => {
        if (message?.benchReady) resolve();
      });
    });
    workers.push(worker);
  }
  return { workers, port, script };
}

async function stopGroup(group: Group): Promise<void> {
  await Promise.all(group.workers.map((worker) => new Promise<void>((resolve) => {
    if (worker.isDead()) return resolve();
    const timer = setTimeout(() => worker.kill('SIGKILL'), 10_000);
    worker.removeAllListeners('exit');
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.send('stop');
  })));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
