/**
 * bench:agi, phase c's memory of the plugin alone: the call path in a process of its own
 * (bench-alone-worker.ts) holding nothing else, as a host runs it, on the production path (AMI)
 * with a CRM that answers in `crmDelayMs`; 2,000 calls spread over that time, then 2,000 placed
 * at once; the process's RSS before and at its peak. Once with Node's default heap settings and
 * once with a smaller young generation (--max-semi-space-size=8: V8 lets it grow to 16 MB per
 * semi-space, three of them, and what it touched stays in RSS).
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { AmiSettings } from '../../src/host';
import type { AloneReply, AloneRequest } from './bench-alone-worker';
import { table } from './bench-stats';
import type { BenchWorker } from './bench-worker-handle';

export interface AloneOptions {
  asterisk: BenchWorker;
  ami: AmiSettings;
  crmDelayMs: number;
  burst: number;
  /** Arrivals per second that put `burst` calls in flight over `crmDelayMs`. */
  spreadRate: number;
  warmup: number;
  callerId: string;
}

export const SMALL_YOUNG_GENERATION = '--max-semi-space-size=8';
const MB = 2 ** 20;

/** Prints the table; resolves with the highest RSS peak per set of flags, in bytes. */
export async function runAloneMemory(options: AloneOptions): Promise<Map<string, number>> {
  const { asterisk, burst } = options;
  const rows: string[][] = [];
  const peaks = new Map<string, number>();
  for (const flags of [[], [SMALL_YOUNG_GENERATION]]) {
    const name = flags.join(' ') || 'Node defaults';
    const child = fork(path.join(__dirname, `bench-alone-worker${path.extname(__filename)}`), [], {
      execArgv: [...process.execArgv, '--expose-gc', ...flags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    try {
      const started = await ask(child, { kind: 'start', crmDelayMs: options.crmDelayMs, ami: options.ami });
      if (started.kind !== 'started') throw new Error('bench-alone-worker did not start');
      const load = (calls: number, shape: { concurrency: number; ratePerSecond?: number }) =>
        asterisk.load({ port: started.port, script: started.script, calls, callerId: options.callerId, ...shape });
      await load(options.warmup, { concurrency: 100 });
      for (const [label, shape] of [[`spread over ${options.crmDelayMs} ms`, { concurrency: burst, ratePerSecond: options.spreadRate }], ['at once', { concurrency: burst }]] as const) {
        await ask(child, { kind: 'sample' });
        const { result } = await load(burst, shape);
        const report = await ask(child, { kind: 'report' });
        if (report.kind !== 'report') throw new Error('bench-alone-worker did not report');
        peaks.set(name, Math.max(peaks.get(name) ?? 0, report.rssPeak));
        rows.push([name, label, String(result.maxInFlight), String(result.failures), mb(report.rssBefore), mb(report.rssPeak), mb(report.heapPeak)]);
      }
    } finally {
      child.kill();
    }
  }
  console.log(`\n   The plugin alone in a process of its own (one call path, AMI path, stub CRM answering in ${options.crmDelayMs} ms; ${options.warmup} warm-up calls first):`);
  console.log(table([['heap settings', 'arrivals', 'in flight (max)', 'failed', 'RSS before', 'RSS peak', 'heap peak'], ...rows]));
  return peaks;
}

function ask(child: ChildProcess, request: AloneRequest): Promise<AloneReply> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench-alone-worker exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (reply: AloneReply) => {
      child.off('exit', onExit);
      resolve(reply);
    });
    child.send(request);
  });
}

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1);
}
