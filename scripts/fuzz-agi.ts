/**
 * `npm run fuzz:agi -- [--streams 10000] [--concurrency 200] [--seed 1]`
 *
 * Fuzzed FastAGI streams (scripts/lib/agi-fuzz-streams.ts: mutated headers, random bytes, cut
 * headers, garbage and stray replies, HANGUPs, resets, silence; one in ten a valid call) from a
 * process of their own against the plugin's call path (plugin.json's limits, an in-process CRM
 * answering at once, the SQLite decision log). Printed: crashes (uncaught errors in this process;
 * 0 expected), the server process's RSS before / peak / after, its open file descriptors before
 * and after (every session must have let its socket go), valid calls routed, and the log lines
 * written at info and above.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { AsteriskSimulator } from './lib/asterisk-simulator';
import { startBenchCallPath } from './lib/bench-call-path';
import { describeMachine } from './lib/bench-stats';
import { BenchWorker } from './lib/bench-worker-handle';
import { FormattingLogger } from './lib/formatting-logger';
import { StubCrm } from './lib/stub-crm';

const MB = 2 ** 20;
let crashes = 0;
const crashSamples: string[] = [];
process.on('uncaughtException', (err) => {
  crashes += 1;
  if (crashSamples.length < 3) crashSamples.push(err.stack ?? String(err));
});
process.on('unhandledRejection', (err) => {
  crashes += 1;
  if (crashSamples.length < 3) crashSamples.push((err as Error)?.stack ?? String(err));
});

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { streams: { type: 'string' }, concurrency: { type: 'string' }, seed: { type: 'string' } } });
  const streams = Number(values.streams ?? 10_000);
  const concurrency = Number(values.concurrency ?? 200);
  const seed = Number(values.seed ?? 1);
  for (const [name, value] of [['streams', streams], ['concurrency', concurrency], ['seed', seed]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1.`);
  }
  const logger = new FormattingLogger('info');
  const path = await startBenchCallPath({ logger, stub: new StubCrm(0) });
  const worker = BenchWorker.start('fuzzer');
  const asterisk = new AsteriskSimulator({ maxCallMs: 5000 });
  try {
    console.log(`fuzz:agi: ${streams} fuzzed FastAGI streams (seed ${seed}, ${concurrency} at once) against the plugin's call path`);
    console.log(`Machine: ${describeMachine()}`);
    // A call before, so the baseline counts what a running server holds (SQLite, timers, the listener).
    await asterisk.placeCall({ agiPort: path.port, script: path.script, callerId: '+15550001111' });
    (global as { gc?: () => void }).gc?.();
    const before = { rss: process.memoryUsage().rss, fds: openFds() };
    let peak = before.rss;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 25);
    const linesBefore = { ...logger.lines };
    const started = Date.now();
    const result = await worker.fuzzAgi({ port: path.port, streams, concurrency, script: path.script, seed });
    const seconds = (Date.now() - started) / 1000;
    // Sessions close a little after their peer: give them the close grace (1 s) and the header timeout to finish.
    for (let waited = 0; path.callPath.health().agi.connections > 0 && waited < 5_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    const last = await asterisk.placeCall({ agiPort: path.port, script: path.script, callerId: '+15550001111' });
    clearInterval(sampler);
    (global as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 200));
    const after = { rss: process.memoryUsage().rss, fds: openFds() };
    const lines = (level: keyof typeof logger.lines) => logger.lines[level] - linesBefore[level];

    console.log(`\nStreams: ${result.streams} in ${seconds.toFixed(1)} s (${result.bytesSent.toLocaleString('en')} bytes sent); the server closed ${result.serverClosed}, the fuzzer closed or reset ${result.clientClosed}, gave up waiting on ${result.timedOut}, could not connect ${result.connectFailures}`);
    console.log(`Valid calls among them: ${result.validRouted} of ${result.validCalls} routed`);
    console.log(`Crashes (uncaught errors in the server process): ${crashes}${crashSamples.length ? `\n  ${crashSamples.join('\n  ')}` : ''}`);
    console.log(`Server RSS: ${(before.rss / MB).toFixed(0)} MB before, ${(peak / MB).toFixed(0)} MB peak, ${(after.rss / MB).toFixed(0)} MB after`);
    console.log(`Open file descriptors: ${before.fds} before, ${after.fds} after; FastAGI connections left open: ${path.callPath.health().agi.connections}`);
    console.log(`A call after the fuzzing: ${last.variables.CRM_ROUTING_OUTCOME ?? last.variables.CRM_ROUTING_STATUS} (${last.ended.kind === 'dialplan' ? `${last.ended.context},${last.ended.exten}` : last.ended.kind})`);
    console.log(`Log lines at info and above: ${lines('info') + lines('warn') + lines('error')} (${lines('warn')} warn, ${lines('error')} error; ${lines('info')} info)`);
    process.exitCode = crashes === 0 && after.fds <= before.fds && last.variables.CRM_ROUTING_OUTCOME === 'MATCH' ? 0 : 1;
  } finally {
    asterisk.close();
    worker.stop();
    await path.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
