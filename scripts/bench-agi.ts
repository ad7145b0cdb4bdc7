/**
 * `npm run bench:agi -- [--crm stub|https] [--phases a,b,c] [--calls 10000] [--rounds 3] [--concurrency 100] [--warmup 3000]`
 *
 * The FastAGI call path under load, printed as ratios to a bare handler measured in the same run
 * on the same machine with the same client:
 *   a. calls/s of the whole path (header, rule from the cache, lookup, rows evaluated, channel
 *      variables set, the call moved with AGI, socket closed) against a bare ding-dong-style
 *      handler (header, one SET VARIABLE, close). Target: at least 1.0x. For reading the gap,
 *      the bare handler also runs with as many commands as the path sends.
 *   b. latency the path adds at 500 calls in flight: header sent -> server's close, minus the
 *      bare handler's. Target: p99 under 2 ms. Also shown one call at a time.
 *   c. 2,000 calls placed at once against a CRM that answers in 300 ms, twice (connections cold,
 *      then kept alive): each call's total, and the server's RSS before / peak / after. Targets:
 *      about 300 ms; under 150 MB. The bare handler takes the same burst, for what the machine
 *      itself costs. `--phases c` runs it in a fresh process (RSS not grown by a and b).
 *
 * --crm stub (default): the lookup is an in-process stub connector (0 ms, then 300 ms), given
 * to startCallPath as `lookups`. --crm https: the rule's Custom CRM URL is a fake CRM over local
 * HTTPS (test CA) in a process of its own, answering at once, then after 300 ms.
 *
 * "Asterisk" is scripts/lib/agi-load-client.ts in a forked process (its CPU time is printed);
 * the server side (the plugin's call path with plugin.json's limits and a SQLite decision log,
 * and the bare handlers) runs in this process. The plugin's log lines are formatted as a host
 * logger at level info would, then dropped (FormattingLogger).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { readManifest } from '../src/config';
import { AsteriskSimulator } from './lib/asterisk-simulator';
import { BareAgiServer } from './lib/bare-agi-server';
import { startBenchCallPath } from './lib/bench-call-path';
import { describeMachine, listenOverflows, machineBusyMs, ms, summarize, table, type Summary } from './lib/bench-stats';
import { BenchWorker, type AgiLoadResult } from './lib/bench-worker-handle';
import { FormattingLogger } from './lib/formatting-logger';
import { StubCrm } from './lib/stub-crm';

const CALLER = '+15550001111';
const LATENCY_IN_FLIGHT = 500;
const BURST = 2000;
const SLOW_CRM_MS = 300;
const TARGETS = { ratio: 1.0, addedP99Ms: 2, rssMb: 150, slowSlackMs: 100 };
const MB = 2 ** 20;

interface Target {
  label: string;
  port: number;
  script: string;
  commands: number;
}

interface Run {
  result: AgiLoadResult;
  callsPerSecond: number;
  serverCpuMs: number;
  clientCpuMs: number;
  /** Busy CPU of the whole machine during the run, every process included. */
  machineMs: number | undefined;
}

interface Options {
  mode: 'stub' | 'https';
  phases: Set<string>;
  calls: number;
  rounds: number;
  concurrency: number;
  warmup: number;
}

/** What every phase works with: the three handlers, one way to load them, and the slow-CRM knobs. */
interface Rig {
  options: Options;
  baseline: Target;
  floor: Target;
  path: Target;
  run(target: Target, count: number, inFlight: number): Promise<Run>;
  logger: FormattingLogger;
  stub: StubCrm | undefined;
  crmWorker: BenchWorker | undefined;
}

async function main(): Promise<void> {
  const options = readOptions();
  const logger = new FormattingLogger('info');
  const asterisk = BenchWorker.start('asterisk');
  const crmWorker = options.mode === 'https' ? BenchWorker.start('crm') : undefined;
  const crm = await crmWorker?.startCrm();
  const stub = options.mode === 'stub' ? new StubCrm(0) : undefined;
  const pipeline = await startBenchCallPath({ logger, stub, customUrl: crm?.url, crmCa: crm?.caPem });
  const servers: BareAgiServer[] = [];
  const limits = readManifest().defaults.limits;

  try {
    console.log('bench:agi: the FastAGI call path under load');
    console.log(`Machine: ${describeMachine()}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`CRM: ${options.mode === 'stub' ? 'in-process stub connector (startCallPath lookups)' : 'Custom CRM over local HTTPS (fake CRM in its own process, test CA)'}; no AMI: calls move with AGI`);
    console.log(`plugin.json limits: maxConcurrentCalls ${limits.maxConcurrentCalls}; AGI server maxConnections ${limits.maxConcurrentCalls * 2} (2x)`);
    console.log(`Client: agi-load-client in its own process (pid ${asterisk.pid}); server side: this process (pid ${process.pid})`);

    const commands = await checkOneCall(asterisk, pipeline.port, pipeline.script, pipeline.expected);
    const bare = await BareAgiServer.start(1);
    const bareSameCommands = await BareAgiServer.start(commands);
    servers.push(bare, bareSameCommands);
    const rig: Rig = {
      options, logger, stub, crmWorker,
      baseline: { label: 'bare ding-dong handler (baseline)', port: bare.port, script: 'ding-dong', commands: 1 },
      floor: { label: `bare handler, ${commands} commands`, port: bareSameCommands.port, script: 'ding-dong', commands },
      path: { label: 'plugin call path', port: pipeline.port, script: pipeline.script, commands },
      async run(target, count, inFlight) {
        const cpu = process.cpuUsage();
        const busy = machineBusyMs();
        const { result, cpuMs } = await asterisk.load({ port: target.port, script: target.script, calls: count, concurrency: inFlight, callerId: CALLER, expectCommands: target.commands });
        const server = process.cpuUsage(cpu);
        const busyAfter = machineBusyMs();
        if (result.failures > 0) throw new Error(`${target.label}: ${result.failures} of ${count} calls failed: ${result.failureSamples.join('; ')}`);
        return {
          result, callsPerSecond: (count * 1000) / result.wallMs, serverCpuMs: (server.user + server.system) / 1000, clientCpuMs: cpuMs,
          machineMs: busy === undefined || busyAfter === undefined ? undefined : busyAfter - busy,
        };
      },
    };
    // Warm every handler up (JIT, pools) before anything is timed.
    for (const target of [rig.baseline, rig.floor, rig.path]) await rig.run(target, options.warmup, options.concurrency);
    if (options.phases.has('a')) await throughputPhase(rig);
    if (options.phases.has('b')) await latencyPhase(rig);
    if (options.phases.has('c')) await burstPhase(rig);

    console.log(`\nLog lines at info over the run: ${logger.lines.info} info, ${logger.lines.warn} warn, ${logger.lines.error} error; ${(logger.bytes / MB).toFixed(1)} MB formatted.`);
    for (const problem of logger.problems) console.log(`  ${problem.slice(0, 300)}`);
    console.log(`Load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await pipeline.stop();
    for (const server of servers) await server.close();
    asterisk.stop();
    crmWorker?.stop();
  }
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: { crm: { type: 'string' }, phases: { type: 'string' }, calls: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' }, warmup: { type: 'string' } },
  });
  const mode = values.crm ?? 'stub';
  if (mode !== 'stub' && mode !== 'https') throw new Error(`--crm is stub or https (got ${mode}).`);
  const whole = (text: string | undefined, fallback: number, name: string) => {
    const value = Number(text ?? fallback);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a whole number of at least 1 (got ${text}).`);
    return value;
  };
  return {
    mode,
    phases: new Set((values.phases ?? 'a,b,c').split(',').map((phase) => phase.trim())),
    calls: whole(values.calls, 10_000, 'calls'),
    rounds: whole(values.rounds, 3, 'rounds'),
    concurrency: whole(values.concurrency, 100, 'concurrency'),
    warmup: whole(values.warmup, 3000, 'warmup'),
  };
}

/** a. The handlers alternate round by round, so drift and other load on the machine touch all alike; the median round of each is shown. */
async function throughputPhase({ options, baseline, floor, path, run }: Rig): Promise<void> {
  const { calls, rounds, concurrency, warmup } = options;
  const targets = [baseline, floor, path];
  const rounded = targets.map(() => [] as Run[]);
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, target] of targets.entries()) rounded[index]!.push(await run(target, calls, concurrency));
  }
  const medians = rounded.map((runs) => [...runs].sort((x, y) => x.callsPerSecond - y.callsPerSecond)[Math.floor(runs.length / 2)]!);
  const [baseRun, floorRun, pathRun] = medians as [Run, Run, Run];
  const cores = os.availableParallelism();
  console.log(`\na. Throughput: ${calls} calls per run, ${concurrency} in flight; ${rounds} rounds alternating after ${warmup} warm-up calls each; median round`);
  console.log(table([
    ['handler', 'AGI commands', 'calls/s', 'rounds', 'vs baseline', 'server CPU us/call', 'client CPU us/call', 'machine busy (all processes)'],
    ...targets.map((target, index) => {
      const m = medians[index]!;
      const busy = m.machineMs === undefined ? 'n/a' : `${((m.machineMs / m.result.wallMs / cores) * 100).toFixed(0)}% of ${cores} cores`;
      return [
        target.label, String(target.commands), m.callsPerSecond.toFixed(0), rounded[index]!.map((r) => r.callsPerSecond.toFixed(0)).join(' / '),
        `${(m.callsPerSecond / baseRun.callsPerSecond).toFixed(2)}x`, ((m.serverCpuMs * 1000) / calls).toFixed(0), ((m.clientCpuMs * 1000) / calls).toFixed(0), busy,
      ];
    }),
  ]));
  const ratio = pathRun.callsPerSecond / baseRun.callsPerSecond;
  console.log(`Ratio: plugin call path / bare ding-dong handler = ${ratio.toFixed(2)}x (target >= ${TARGETS.ratio.toFixed(1)}x): ${ratio >= TARGETS.ratio ? 'PASS' : 'FAIL'}`);
  console.log(`For reading it: plugin call path / bare handler with the same ${path.commands} commands = ${(pathRun.callsPerSecond / floorRun.callsPerSecond).toFixed(2)}x; server CPU per call ${(pathRun.serverCpuMs / baseRun.serverCpuMs).toFixed(1)}x the baseline's.`);
}

/** b. The same client with 500 calls in flight, then one call at a time. */
async function latencyPhase({ options, baseline, path, run }: Rig): Promise<void> {
  const latency = async (inFlight: number, count: number) => {
    const rows: Summary[] = [];
    for (const target of [baseline, path]) rows.push(summarize((await run(target, count, inFlight)).result.latenciesMs));
    return rows as [Summary, Summary];
  };
  const [baseLoaded, pathLoaded] = await latency(LATENCY_IN_FLIGHT, options.calls);
  const alone = Math.min(options.calls, 2000);
  const [baseAlone, pathAlone] = await latency(1, alone);
  const addedP99 = pathLoaded.p99 - baseLoaded.p99;
  console.log(`\nb. Latency, header sent -> server's close, ms: ${LATENCY_IN_FLIGHT} calls in flight (${options.calls} calls), and one at a time (${alone} calls)`);
  console.log(table([
    ['handler', `p50 @${LATENCY_IN_FLIGHT}`, `p99 @${LATENCY_IN_FLIGHT}`, `max @${LATENCY_IN_FLIGHT}`, 'p50 @1', 'p99 @1'],
    [baseline.label, ms(baseLoaded.p50), ms(baseLoaded.p99), ms(baseLoaded.max), ms(baseAlone.p50), ms(baseAlone.p99)],
    [path.label, ms(pathLoaded.p50), ms(pathLoaded.p99), ms(pathLoaded.max), ms(pathAlone.p50), ms(pathAlone.p99)],
    ['added by the call path', ms(pathLoaded.p50 - baseLoaded.p50), ms(addedP99), '', ms(pathAlone.p50 - baseAlone.p50), ms(pathAlone.p99 - baseAlone.p99)],
  ]));
  console.log(`Added p99 at ${LATENCY_IN_FLIGHT} in flight: ${ms(addedP99)} ms (target < ${TARGETS.addedP99Ms} ms): ${addedP99 < TARGETS.addedP99Ms ? 'PASS' : 'FAIL'}`);
}

/** c. Bursts of 2,000 calls against a slow CRM, with the bare handler's burst for comparison. */
async function burstPhase({ options, baseline, path, run, logger, stub, crmWorker }: Rig): Promise<void> {
  const bareBurst = await run(baseline, BURST, BURST);
  if (stub) stub.delayMs = SLOW_CRM_MS;
  await crmWorker?.setCrmDelay(SLOW_CRM_MS);
  const answeredBefore = stub?.answered ?? 0;
  logger.resetTally();
  // Twice: the first burst opens every connection (to the CRM over HTTPS too), the second
  // finds them kept alive, as calls do in steady use.
  const overflowsBefore = listenOverflows();
  const memory = await sampleRss(async () => [(await run(path, BURST, BURST)).result, (await run(path, BURST, BURST)).result] as const);
  const overflows = overflowsBefore === undefined ? undefined : (listenOverflows() ?? 0) - overflowsBefore;
  const bursts = memory.result.map((result) => ({ result, summary: summarize(result.latenciesMs) }));
  const fast = summarize(bareBurst.result.latenciesMs);
  const slowOk = bursts.every(({ summary }) => summary.count === BURST && summary.max <= SLOW_CRM_MS + TARGETS.slowSlackMs);
  console.log(`\nc. ${BURST} calls placed at once, twice; the CRM answers in ${SLOW_CRM_MS} ms (${options.mode === 'stub' ? 'stub connector with a delay' : 'fake Custom CRM over HTTPS with a delay'})`);
  console.log(table([
    ['handler', 'min', 'p50', 'p99', 'max', 'wall time', '(ms per call: header sent -> server close)'],
    ...bursts.map(({ result, summary }, index) => [
      `${path.label}, ${index === 0 ? 'first burst' : 'second burst'}`, ms(summary.min), ms(summary.p50), ms(summary.p99), ms(summary.max), ms(result.wallMs),
    ]),
    [`${baseline.label}, no CRM`, ms(fast.min), ms(fast.p50), ms(fast.p99), ms(fast.max), ms(bareBurst.result.wallMs)],
  ]));
  console.log(`Outcomes of both bursts (from the plugin's log): ${[...logger.tally].map(([what, count]) => `${what} ${count}`).join(', ')}`);
  if (overflows !== undefined) console.log(`Listen queue overflows during the two bursts (kernel counter, whole machine): ${overflows}`);
  if (stub) console.log(`Stub lookups in both bursts: ${stub.answered - answeredBefore} answered; ${stub.aborted} cut short in the whole run (deadline, hang-up).`);
  console.log(`All ${BURST} of each burst within ${SLOW_CRM_MS} + ${TARGETS.slowSlackMs} ms: ${slowOk ? 'PASS' : 'FAIL'}`);
  console.log(`Server RSS: before ${(memory.before / MB).toFixed(1)} MB, peak ${(memory.peak / MB).toFixed(1)} MB, after ${(memory.after / MB).toFixed(1)} MB (target peak < ${TARGETS.rssMb} MB): ${memory.peak < TARGETS.rssMb * MB ? 'PASS' : 'FAIL'}`);
  console.log(`  V8 heap in use: before ${(memory.heapBefore / MB).toFixed(1)} MB, peak ${(memory.heapPeak / MB).toFixed(1)} MB (sampled every 5 ms)`);
  console.log(`  for scale: an empty process under tsx here has RSS ${(emptyProcessRss(true) / MB).toFixed(1)} MB, plain node ${(emptyProcessRss(false) / MB).toFixed(1)} MB; peak - before = ${((memory.peak - memory.before) / MB).toFixed(1)} MB`);
}

/** One call through the full Asterisk simulator must land where the rule says; returns how many AGI commands a call takes. */
async function checkOneCall(asterisk: BenchWorker, port: number, script: string, expected: { context: string; exten: string; priority: number }): Promise<number> {
  const simulator = new AsteriskSimulator({ maxCallMs: 5000 });
  const call = await simulator.placeCall({ agiPort: port, script, callerId: CALLER, callerName: 'Bench Caller' });
  const ended = call.ended;
  if (ended.kind !== 'dialplan' || ended.context !== expected.context || ended.exten !== expected.exten || ended.priority !== expected.priority) {
    throw new Error(`The check call did not land at ${expected.context},${expected.exten},${expected.priority}:\n${call.dialogue}`);
  }
  const { result } = await asterisk.load({ port, script, calls: 1, concurrency: 1, callerId: CALLER });
  const variables = ['CRM_ROUTING_OUTCOME', 'CRM_ROUTING_ROW', 'CRM_ROUTING_VALUE', 'CRM_ROUTING_METHOD'].map((name) => `${name}=${call.variables[name] ?? ''}`).join(' ');
  console.log(`Check call through the full simulator: landed at ${ended.context},${ended.exten},${ended.priority} (${ended.via}); ${variables}; ${result.commands} AGI commands`);
  return result.commands;
}

/** Memory of this process (after a GC when --expose-gc is on) before, at its highest while `work` runs (sampled every 5 ms), and 1 s after. */
async function sampleRss<T>(work: () => Promise<T>): Promise<{ result: T; before: number; peak: number; after: number; heapBefore: number; heapPeak: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  let peak = before.rss;
  let heapPeak = before.heapUsed;
  const sample = () => {
    const now = process.memoryUsage();
    peak = Math.max(peak, now.rss);
    heapPeak = Math.max(heapPeak, now.heapUsed);
  };
  const timer = setInterval(sample, 5);
  try {
    const result = await work();
    sample();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return { result, before: before.rss, peak, after: process.memoryUsage.rss(), heapBefore: before.heapUsed, heapPeak };
  } finally {
    clearInterval(timer);
  }
}

/** RSS of a process that loads nothing, with this process's exec arguments (tsx) or without. */
function emptyProcessRss(withLoader: boolean): number {
  const args = [...(withLoader ? process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof')) : []), '-e', 'process.stdout.write(String(process.memoryUsage.rss()))'];
  return Number(spawnSync(process.execPath, args, { encoding: 'utf8' }).stdout) || NaN;
}

main().catch((err: unknown) => {
  console.error(`bench:agi failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
