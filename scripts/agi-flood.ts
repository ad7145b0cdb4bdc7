/**
 * `npm run flood:agi -- [--silent 4500] [--calls 20]`
 *
 * Real calls while a client keeps thousands of FastAGI connections open without ever sending a
 * header. The attacker (a process of its own) opens `--silent` connections and reopens each one
 * the server closes, so the pressure never lets up; meanwhile valid calls are placed one after
 * another through the simulated Asterisk against the plugin's call path (plugin.json's limits,
 * an in-process CRM answering at once). Printed: each call's time from connect to its move,
 * against the same calls without the flood; what the attacker held and the server kept; and
 * the log lines written. A second round floods from 127.0.0.2 while AGI_ALLOW is 127.0.0.1.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { readManifest } from '../src/config';
import { AsteriskSimulator, type CallResult } from './lib/asterisk-simulator';
import { startBenchCallPath, type BenchCallPath } from './lib/bench-call-path';
import { describeMachine, summarize, table } from './lib/bench-stats';
import { BenchWorker, type SilentStats } from './lib/bench-worker-handle';
import { FormattingLogger } from './lib/formatting-logger';
import { StubCrm } from './lib/stub-crm';

interface Round {
  label: string;
  times: number[];
  routed: number;
  attacker?: SilentStats;
  server: { connections: number; pendingHeaders: number };
  logLines: number;
  warnLines: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { silent: { type: 'string' }, calls: { type: 'string' } } });
  const silent = Number(values.silent ?? 4500);
  const calls = Number(values.calls ?? 20);
  if (!Number.isSafeInteger(silent) || silent < 1 || !Number.isSafeInteger(calls) || calls < 1) throw new Error('--silent and --calls are whole numbers.');
  const limits = readManifest().defaults.limits;
  const attacker = BenchWorker.start('attacker');
  const asterisk = new AsteriskSimulator({ maxCallMs: 10_000 });
  const paths: BenchCallPath[] = [];
  try {
    console.log(`flood:agi: valid calls while ${silent} connections stay open without a header`);
    console.log(`Machine: ${describeMachine()}`);
    console.log(`plugin.json limits: maxConcurrentCalls ${limits.maxConcurrentCalls} (connections ${limits.maxConcurrentCalls * 2}), maxPendingHeaders ${limits.maxPendingHeaders}, headerTimeoutMs ${limits.headerTimeoutMs} (250 ms under pressure)`);
    const rounds: Round[] = [];

    const logger = new FormattingLogger('info');
    const path = await startBenchCallPath({ logger, stub: new StubCrm(0) });
    paths.push(path);
    rounds.push(await placeCalls('no flood', path, asterisk, calls, logger, mark(logger)));
    let from = mark(logger);
    const once = await attacker.startSilent({ port: path.port, count: silent, reopen: false });
    rounds.push(await placeCalls(`${silent} silent connections opened from 127.0.0.1, held`, path, asterisk, calls, logger, from, attacker, once));
    await attacker.stopSilent();
    from = mark(logger);
    const kept = await attacker.startSilent({ port: path.port, count: silent });
    rounds.push(await placeCalls(`${silent} kept open from 127.0.0.1 (each one closed is reopened)`, path, asterisk, calls, logger, from, attacker, kept));
    await attacker.stopSilent();

    const allowLogger = new FormattingLogger('info');
    const allowed = await startBenchCallPath({ logger: allowLogger, stub: new StubCrm(0), agiAllow: ['127.0.0.1'] });
    paths.push(allowed);
    from = mark(allowLogger);
    const outside = await attacker.startSilent({ port: allowed.port, count: silent, localAddress: '127.0.0.2' });
    rounds.push(await placeCalls(`${silent} kept open from 127.0.0.2, outside AGI_ALLOW=127.0.0.1`, allowed, asterisk, calls, allowLogger, from, attacker, outside));
    await attacker.stopSilent();

    console.log('');
    console.log(table([
      ['round', 'calls routed', 'call time p50 / max (ms)', 'attacker: open now / opened / closed by server', 'server: connections / without header', 'log lines (warn)'],
      ...rounds.map((r) => {
        const s = summarize(r.times);
        return [
          r.label, `${r.routed} of ${r.times.length}`, `${s.p50.toFixed(1)} / ${s.max.toFixed(1)}`,
          r.attacker ? `${r.attacker.open} / ${r.attacker.opened} / ${r.attacker.closedByServer}${r.attacker.failed ? ` (${r.attacker.failed} refused)` : ''}` : '-',
          `${r.server.connections} / ${r.server.pendingHeaders}`, `${r.logLines} (${r.warnLines})`,
        ];
      }),
    ]));
    const failed = rounds.some((r) => r.routed !== r.times.length);
    console.log(failed ? '\nSome calls were not routed.' : '\nEvery call was routed.');
    process.exitCode = failed ? 1 : 0;
  } finally {
    asterisk.close();
    attacker.stop();
    for (const path of paths) await path.stop();
  }
}

/** Log lines written so far: all (info and up), and warnings and errors. */
function mark(logger: FormattingLogger): { lines: number; warn: number } {
  return { lines: logger.lines.info + logger.lines.warn + logger.lines.error, warn: logger.lines.warn + logger.lines.error };
}

/**
 * `count` valid calls one after another; the attacker's and the server's state sampled at the
 * middle one. Log lines are counted from `from` (the flood's start) to a second after the last
 * call, as the flood's own lines come once a second.
 */
async function placeCalls(label: string, path: BenchCallPath, asterisk: AsteriskSimulator, count: number, logger: FormattingLogger, from: { lines: number; warn: number }, attacker?: BenchWorker, opened?: SilentStats): Promise<Round> {
  const times: number[] = [];
  let routed = 0;
  let attackerStats = opened;
  let server = { connections: 0, pendingHeaders: 0 };
  for (let i = 0; i < count; i += 1) {
    if (i === Math.floor(count / 2)) {
      const health = path.callPath.health().agi;
      server = { connections: health.connections, pendingHeaders: health.pendingHeaders };
      if (attacker) attackerStats = await attacker.silentStats();
    }
    const started = performance.now();
    const call: CallResult = await asterisk.placeCall({ agiPort: path.port, script: path.script, callerId: '+15550001111' });
    times.push(performance.now() - started);
    if (call.variables.CRM_ROUTING_OUTCOME === 'MATCH' && call.ended.kind === 'dialplan' && call.ended.context === path.expected.context) routed += 1;
  }
  console.log(`  ${label}: ${routed} of ${count} routed`);
  if (attacker) await new Promise((resolve) => setTimeout(resolve, 1_100));
  return {
    label, times, routed, ...(attackerStats ? { attacker: attackerStats } : {}), server,
    logLines: mark(logger).lines - from.lines, warnLines: mark(logger).warn - from.warn,
  };
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
