/**
 * `npm run bench:agi -- [--crm stub|https] [--phases a,b,c,w] [--calls 10000] [--rounds 3] [--concurrency 100] [--warmup 3000]`
 *
 * The FastAGI call path under load, printed as ratios to a bare handler measured in the same run
 * on the same machine with the same client. The plugin runs twice side by side: without AMI
 * (the call is moved with AGI: EXEC MSet, then SET CONTEXT/EXTENSION/PRIORITY, 4 commands) and
 * with AMI (a fake AMI in the client's process answers each Redirect at once: EXEC MSet, then the
 * Redirect; the production path).
 *   a. Throughput, closed loop (saturated): calls/s of the whole path (header, rule from the
 *      cache, lookup, rows evaluated, channel variables set, the call moved, socket closed)
 *      against a bare ding-dong-style handler (header, one SET VARIABLE, close), with the server's
 *      and the client's CPU per call. Target: at least 1.0x. The bare handler also runs with as
 *      many commands as the AGI path sends, for reading the gap.
 *   b. Latency the path adds with 500 calls in flight. Paced (open loop): calls arrive at a
 *      steady 500/s and each one's lookup is held 1 s by the stub CRM (the bare handler holds
 *      each call 1 s before its command), so about 500 are in progress while the machine has
 *      CPU to spare; the path's own time per call is total minus the hold, next to the bare
 *      handler's under the same load, and next to a bare handler making the same round trips
 *      to "Asterisk" as the path (each waits on the client's event loop, which is not the
 *      path's doing). Target: p99 under 2 ms. Also shown: 500 kept in flight
 *      closed loop (saturated: mostly queueing), and one call at a time.
 *   c. A CRM that answers in 300 ms: 2,000 calls arriving at a paced rate the machine keeps up
 *      with (see PACED_RATE), then 2,000 spread over 300 ms (all 2,000 in flight at once: a
 *      burst beyond the machine's sustained rate) and 2,000 placed at the same instant (the
 *      harshest burst); each call's total against 300 ms, and this process's RSS before / peak.
 *      Then the plugin alone in a process of its own (bench-alone.ts: one call path, AMI path),
 *      with Node's default heap settings and with a smaller young generation: its RSS with 2,000
 *      in flight. Targets: about 300 ms; the plugin alone under 150 MB. Run it compiled
 *      (`npx tsc -p . --outDir dist && node --expose-gc dist/scripts/bench-agi.js --phases c`):
 *      tsx itself adds tens of MB to every process.
 *
 * Peers (issue 13), in this process like the plugin: ding-dong 0.1.7's bare handler (header, one
 * SET VARIABLE, close), and ding-dong doing the plugin's AGI-path dialogue by hand against the same
 * fake Custom CRM over HTTPS (undici keep-alive pool: GET, EXEC MSet of the five CRM_ROUTING_
 * variables, SET CONTEXT/EXTENSION/PRIORITY, close); phase a sets the plugin's AGI path with the
 * Custom CRM over HTTPS against both (targets: >= 1.0x the same-dialogue peer, >= 0.5x the bare one).
 *   w. Workers: calls/s of the AGI path over HTTPS in 1 and in 2 node:cluster workers sharing a
 *      port (bench-cluster.ts), alternating rounds.
 *
 * --crm stub (default): the lookup is an in-process stub connector (0 ms, then the hold), given
 * to startCallPath as `lookups`. --crm https: the rule's Custom CRM URL is a fake CRM over local
 * HTTPS (test CA) in a process of its own.
 *
 * "Asterisk" is scripts/lib/agi-load-client.ts in a forked process (its CPU time is printed; it
 * also runs the fake AMI); the server side (the plugin's call paths with plugin.json's limits
 * and SQLite decision logs, and the bare handlers) runs in this process. The plugin's log lines
 * are formatted as a host logger at level info would, then dropped (FormattingLogger).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { readManifest } from '../src/config';
import type { AmiSettings } from '../src/host';
import { AsteriskSimulator } from './lib/asterisk-simulator';
import { BareAgiServer } from './lib/bare-agi-server';
import { DingDongPeer } from './lib/ding-dong-peers';
import { runAloneMemory } from './lib/bench-alone';
import { runWorkersPhase } from './lib/bench-cluster';
import { startBenchCallPath, type BenchCallPath } from './lib/bench-call-path';
import { describeMachine, listenOverflows, machineBusyMs, ms, summarize, table, type Summary } from './lib/bench-stats';
import { BenchWorker, type AgiLoadResult } from './lib/bench-worker-handle';
import { FormattingLogger } from './lib/formatting-logger';
import { StubCrm } from './lib/stub-crm';

const CALLER = '+15550001111';
const LATENCY_IN_FLIGHT = 500;
/** b, paced: each call is held this long (stub CRM / bare handler), and calls arrive at IN_FLIGHT / HOLD. */
const PACED_HOLD_MS = 1000;
/** b, paced: seconds of arrivals after the first hold (while in flight ramps up to 500, nothing is counted). */
const PACED_SECONDS = 10;
const BURST = 2000;
const SLOW_CRM_MS = 300;
/**
 * c, paced: calls/s. The server is one thread: at 1,000/s it has 1 ms per call, about 3x what
 * the AMI path costs it (phase a prints the share), so calls do not queue behind each other;
 * the client, on the other core, has the same headroom. About 300 are then in flight (rate x
 * 300 ms), and the 2,000 arrive over 2 s.
 */
const PACED_RATE = 1000;
const TARGETS = { ratio: 1.0, httpsBareRatio: 0.5, addedP99Ms: 2, rssMb: 150, slowSlackMs: 100 };
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
  /** This (server) process: event loop delay p99 and max, and the longest GC pause, in ms. */
  loopP99Ms: number;
  loopMaxMs: number;
  gcMaxMs: number;
}

interface Options {
  mode: 'stub' | 'https';
  phases: Set<string>;
  calls: number;
  rounds: number;
  concurrency: number;
  warmup: number;
}

/** How calls are placed: closed loop (`inFlight` kept open) or open loop (`ratePerSecond`). */
type Shape = { inFlight: number } | { ratePerSecond: number };

/** What every phase works with: the handlers, one way to load them, and the CRM's hold. */
interface Rig {
  options: Options;
  baseline: Target;
  floor: Target;
  path: Target;
  pathAmi: Target;
  /** The plugin's AGI path with the rule's Custom CRM over HTTPS (the same as `path` with --crm https). */
  pathHttps: Target;
  /** ding-dong 0.1.7: its hello-world handler, and the plugin's dialogue done by hand against the same HTTPS CRM. */
  dingDong: Target;
  dingDongDialogue: Target;
  /** Throws when a call fails, unless `tolerateFailures` (phase c's bursts: failures are then counted in the table). */
  run(target: Target, count: number, shape: Shape, tolerateFailures?: boolean): Promise<Run>;
  /** The CRM's answer time (stub or fake HTTPS CRM). */
  crmDelay(ms: number): Promise<void>;
  /** The bare handler that holds each call `holdMs` before its first of `commands` commands. */
  heldBaseline(holdMs: number, commands?: number): Promise<Target>;
  logger: FormattingLogger;
  stub: StubCrm | undefined;
  /** "Asterisk" (the load client) and its fake AMI, for phase c's plugin-alone process. */
  asterisk: BenchWorker;
  ami: AmiSettings;
  /** Phase a's CPU per call of the AMI path, µs, for c's arithmetic. */
  cpuPerCallUs?: { server: number; client: number };
  /** Phase a's calls/s of the AMI path. */
  saturatedRate?: number;
}

async function main(): Promise<void> {
  const options = readOptions();
  const logger = new FormattingLogger('info');
  const asterisk = BenchWorker.start('asterisk');
  // Always: the ding-dong peer and the plugin's HTTPS path ask it, whatever --crm says.
  const crmWorker = BenchWorker.start('crm');
  const crm = await crmWorker.startCrm();
  const ami = await asterisk.startAmi();
  const stub = options.mode === 'stub' ? new StubCrm(0) : undefined;
  const pipelines: BenchCallPath[] = [];
  const servers: Array<{ close(): Promise<void> }> = [];
  const limits = readManifest().defaults.limits;

  try {
    const pipeline = await startBenchCallPath({ logger, stub, customUrl: crm.url, crmCa: crm.caPem });
    pipelines.push(pipeline);
    const pipelineAmi = await startBenchCallPath({ logger, stub, customUrl: crm.url, crmCa: crm.caPem, ami });
    pipelines.push(pipelineAmi);
    const pipelineHttps = stub ? await startBenchCallPath({ logger, customUrl: crm.url, crmCa: crm.caPem }) : pipeline;
    if (pipelineHttps !== pipeline) pipelines.push(pipelineHttps);
    console.log('bench:agi: the FastAGI call path under load');
    console.log(`Machine: ${describeMachine()}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`Server process: ${process.execArgv.some((arg) => arg.includes('tsx')) ? 'under tsx (TypeScript compiled on load)' : 'plain node'}, ${process.execArgv.join(' ') || 'no flags'}`);
    console.log(`CRM: ${options.mode === 'stub' ? 'in-process stub connector (startCallPath lookups)' : 'Custom CRM over local HTTPS (fake CRM in its own process, test CA)'}`);
    console.log('Plugin rows: "AGI" has no AMI settings (the call is moved with SET CONTEXT/EXTENSION/PRIORITY); "AMI" has a fake AMI in the client process that answers each Redirect at once');
    console.log(`plugin.json limits: maxConcurrentCalls ${limits.maxConcurrentCalls}; AGI server maxConnections ${limits.maxConcurrentCalls * 2} (2x)`);
    console.log(`Client: agi-load-client in its own process (pid ${asterisk.pid}); server side: this process (pid ${process.pid})`);

    const commands = await checkOneCall(asterisk, pipeline.port, pipeline.script, pipeline.expected);
    const amiCommands = await checkAmiCall(asterisk, logger, pipelineAmi.port, pipelineAmi.script);
    if (pipelineHttps !== pipeline) await checkOneCall(asterisk, pipelineHttps.port, pipelineHttps.script, pipelineHttps.expected);
    const dingDong = await DingDongPeer.bare();
    const dingDongDialogue = await DingDongPeer.dialogue(crm.url, crm.caPem, readManifest().defaults.limits.maxConcurrentCalls);
    servers.push(dingDong, dingDongDialogue);
    const bare = await BareAgiServer.start(1);
    const bareSameCommands = await BareAgiServer.start(commands);
    servers.push(bare, bareSameCommands);
    const held = new Map<string, Target>();
    const rig: Rig = {
      options, logger, stub, asterisk, ami,
      baseline: { label: 'bare ding-dong handler (baseline)', port: bare.port, script: 'ding-dong', commands: 1 },
      floor: { label: `bare handler, ${commands} commands`, port: bareSameCommands.port, script: 'ding-dong', commands },
      path: { label: 'plugin call path, AGI', port: pipeline.port, script: pipeline.script, commands },
      pathAmi: { label: 'plugin call path, AMI', port: pipelineAmi.port, script: pipelineAmi.script, commands: amiCommands },
      pathHttps: { label: 'plugin call path, AGI, Custom CRM over HTTPS', port: pipelineHttps.port, script: pipelineHttps.script, commands },
      dingDong: { label: 'ding-dong 0.1.7 bare handler', port: dingDong.port, script: 'ding-dong', commands: 1 },
      dingDongDialogue: { label: 'ding-dong 0.1.7, plugin dialogue (HTTPS GET, MSet, SET x3)', port: dingDongDialogue.port, script: 'ding-dong', commands: 4 },
      async run(target, count, shape, tolerateFailures = false) {
        const loop = monitorEventLoopDelay({ resolution: 1 });
        let gcMaxMs = 0;
        const gcs = new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration);
        });
        gcs.observe({ entryTypes: ['gc'] });
        loop.enable();
        const cpu = process.cpuUsage();
        const busy = machineBusyMs();
        const { result, cpuMs } = await asterisk.load({
          port: target.port, script: target.script, calls: count, callerId: CALLER, expectCommands: target.commands,
          ...('inFlight' in shape ? { concurrency: shape.inFlight } : { concurrency: count, ratePerSecond: shape.ratePerSecond }),
        });
        const server = process.cpuUsage(cpu);
        const busyAfter = machineBusyMs();
        loop.disable();
        gcs.disconnect();
        if (result.failures > 0 && !tolerateFailures) throw new Error(`${target.label}: ${result.failures} of ${count} calls failed: ${result.failureSamples.join('; ')}`);
        return {
          result, callsPerSecond: (count * 1000) / result.wallMs, serverCpuMs: (server.user + server.system) / 1000, clientCpuMs: cpuMs,
          machineMs: busy === undefined || busyAfter === undefined ? undefined : busyAfter - busy,
          loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6, gcMaxMs,
        };
      },
      async crmDelay(delayMs) {
        if (stub) stub.delayMs = delayMs;
        if (options.mode === 'https') await crmWorker.setCrmDelay(delayMs);
      },
      async heldBaseline(holdMs, commands = 1) {
        const key = `${holdMs}/${commands}`;
        let target = held.get(key);
        if (!target) {
          const server = await BareAgiServer.start(commands, holdMs);
          servers.push(server);
          const label = commands === 1 ? `bare ding-dong handler, holds ${holdMs} ms` : `bare handler, ${commands} round trips, holds ${holdMs} ms`;
          target = { label, port: server.port, script: 'ding-dong', commands };
          held.set(key, target);
        }
        return target;
      },
    };
    // Warm every handler up (JIT, pools) before anything is timed.
    // The peers and the HTTPS row only when phase a runs them: their pools would otherwise count in c's RSS.
    const warm = options.phases.has('a') ? [rig.baseline, rig.floor, rig.path, rig.pathAmi, rig.pathHttps, rig.dingDong, rig.dingDongDialogue] : [rig.baseline, rig.floor, rig.path, rig.pathAmi];
    for (const target of new Set(warm)) await rig.run(target, options.warmup, { inFlight: options.concurrency });
    if (options.phases.has('a')) await throughputPhase(rig);
    if (options.phases.has('b')) await latencyPhase(rig);
    if (options.phases.has('c')) await slowCrmPhase(rig);
    if (options.phases.has('w')) await runWorkersPhase({ asterisk, crm, calls: options.calls, rounds: options.rounds, concurrency: options.concurrency, warmup: options.warmup, commands });

    console.log(`\nLog lines at info over the run: ${logger.lines.info} info, ${logger.lines.warn} warn, ${logger.lines.error} error; ${(logger.bytes / MB).toFixed(1)} MB formatted.`);
    for (const problem of logger.problems) console.log(`  ${problem.slice(0, 300)}`);
    console.log(`Load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    for (const pipeline of pipelines) await pipeline.stop();
    for (const server of servers) await server.close();
    asterisk.stop();
    crmWorker.stop();
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
async function throughputPhase(rig: Rig): Promise<void> {
  const { options, baseline, floor, path, pathAmi, pathHttps, dingDong, dingDongDialogue, run } = rig;
  const { calls, rounds, concurrency, warmup } = options;
  const targets = [...new Set([baseline, floor, path, pathAmi, pathHttps, dingDong, dingDongDialogue])];
  const rounded = targets.map(() => [] as Run[]);
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, target] of targets.entries()) rounded[index]!.push(await run(target, calls, { inFlight: concurrency }));
  }
  const medians = rounded.map((runs) => [...runs].sort((x, y) => x.callsPerSecond - y.callsPerSecond)[Math.floor(runs.length / 2)]!);
  const [baseRun, floorRun, pathRun, amiRun] = medians as [Run, Run, Run, Run];
  const medianOf = (target: Target) => medians[targets.indexOf(target)]!;
  const cores = os.availableParallelism();
  console.log(`\na. Throughput, saturated (closed loop: ${concurrency} calls kept in flight, each finished call replaced at once; client and server share the ${cores} cores, so calls/s is bounded by their CPU per call together)`);
  console.log(`   ${calls} calls per run; ${rounds} rounds alternating after ${warmup} warm-up calls each; median round`);
  console.log(table([
    ['handler', 'AGI commands', 'calls/s', 'rounds', 'vs baseline', 'server CPU us/call', 'client CPU us/call', 'machine busy (all processes)'],
    ...targets.map((target, index) => {
      const m = medians[index]!;
      const busy = m.machineMs === undefined ? 'n/a' : `${((m.machineMs / m.result.wallMs / cores) * 100).toFixed(0)}% of ${cores} cores`;
      const label = target === pathAmi ? `${target.label} (+ Redirect)` : target.label;
      return [
        label, String(target.commands), m.callsPerSecond.toFixed(0), rounded[index]!.map((r) => r.callsPerSecond.toFixed(0)).join(' / '),
        `${(m.callsPerSecond / baseRun.callsPerSecond).toFixed(2)}x`, ((m.serverCpuMs * 1000) / calls).toFixed(0), ((m.clientCpuMs * 1000) / calls).toFixed(0), busy,
      ];
    }),
  ]));
  for (const [label, m] of [['AMI (production path)', amiRun], ['AGI (no AMI settings)', pathRun]] as const) {
    const ratio = m.callsPerSecond / baseRun.callsPerSecond;
    console.log(`Ratio: plugin call path, ${label} / bare ding-dong handler = ${ratio.toFixed(2)}x (target >= ${TARGETS.ratio.toFixed(1)}x): ${ratio >= TARGETS.ratio ? 'PASS' : 'FAIL'}`);
  }
  console.log(`For reading it: AGI path / bare handler with the same ${path.commands} commands = ${(pathRun.callsPerSecond / floorRun.callsPerSecond).toFixed(2)}x; server CPU per call: AMI path ${(amiRun.serverCpuMs / baseRun.serverCpuMs).toFixed(1)}x, AGI path ${(pathRun.serverCpuMs / baseRun.serverCpuMs).toFixed(1)}x the baseline's.`);
  const https = medianOf(pathHttps);
  const peerRatio = https.callsPerSecond / medianOf(dingDongDialogue).callsPerSecond;
  const bareRatio = https.callsPerSecond / medianOf(dingDong).callsPerSecond;
  console.log(`Ratio: plugin, AGI path, Custom CRM over HTTPS / ding-dong doing the same dialogue = ${peerRatio.toFixed(2)}x (target >= ${TARGETS.ratio.toFixed(1)}x): ${peerRatio >= TARGETS.ratio ? 'PASS' : 'FAIL'}`);
  console.log(`Ratio: plugin, AGI path, Custom CRM over HTTPS / ding-dong bare handler = ${bareRatio.toFixed(2)}x (target >= ${TARGETS.httpsBareRatio.toFixed(1)}x): ${bareRatio >= TARGETS.httpsBareRatio ? 'PASS' : 'FAIL'}`);
  console.log(`Server CPU per call, HTTPS: plugin ${((https.serverCpuMs * 1000) / calls).toFixed(0)} us, ding-dong dialogue ${((medianOf(dingDongDialogue).serverCpuMs * 1000) / calls).toFixed(0)} us (the fake CRM's CPU is in neither: it has a process of its own)`);
  rig.cpuPerCallUs = { server: (amiRun.serverCpuMs * 1000) / calls, client: (amiRun.clientCpuMs * 1000) / calls };
  rig.saturatedRate = amiRun.callsPerSecond;
}

/** b. Paced 500 in flight (the target's shape), then the saturated closed loop and one call at a time. */
async function latencyPhase(rig: Rig): Promise<void> {
  const { options, baseline, path, pathAmi, run } = rig;
  const rate = (LATENCY_IN_FLIGHT * 1000) / PACED_HOLD_MS;
  const count = Math.round(rate * (PACED_SECONDS + PACED_HOLD_MS / 1000));
  const heldBase = await rig.heldBaseline(PACED_HOLD_MS);
  // The same round trips to "Asterisk" as each path: every one waits on the client's event loop
  // (the AMI path's Redirect goes to the fake AMI in the client's process: one more).
  const sameTrips = new Map([[path, await rig.heldBaseline(PACED_HOLD_MS, path.commands)], [pathAmi, await rig.heldBaseline(PACED_HOLD_MS, pathAmi.commands + 1)]]);
  await rig.crmDelay(PACED_HOLD_MS);
  const paced: Array<{ target: Target; run: Run; own: Summary }> = [];
  try {
    for (const target of [heldBase, sameTrips.get(path)!, path, sameTrips.get(pathAmi)!, pathAmi]) {
      const done = await run(target, count, { ratePerSecond: rate });
      // Only calls placed once the first ones finish: in flight has reached its level by then.
      const own = done.result.latenciesMs.filter((_, i) => done.result.scheduledMs[i]! >= PACED_HOLD_MS).map((took) => took - PACED_HOLD_MS);
      paced.push({ target, run: done, own: summarize(own) });
    }
  } finally {
    await rig.crmDelay(0);
  }
  const base = paced[0]!;
  const ownOf = (target: Target) => paced.find((row) => row.target === target)!.own;
  const plugin = paced.filter(({ target }) => target === path || target === pathAmi);
  console.log(`\nb. Latency with ${LATENCY_IN_FLIGHT} calls in flight, paced (open loop): ${rate} calls/s arrive on schedule for ${PACED_SECONDS + PACED_HOLD_MS / 1000} s, each held ${PACED_HOLD_MS} ms`);
  console.log(`   (plugin: the stub CRM answers after ${PACED_HOLD_MS} ms; bare handler: waits ${PACED_HOLD_MS} ms before its command). Own time = header sent -> server's close, minus the ${PACED_HOLD_MS} ms hold;`);
  console.log(`   calls placed in the first ${PACED_HOLD_MS} ms (in flight still ramping up) are not counted.`);
  console.log(table([
    ['handler', 'calls', 'in flight (max)', 'server CPU', 'server loop delay p99 / max', 'longest GC', 'client late p99', 'own p50', 'own p90', 'own p99', 'own max'],
    ...paced.map(({ target, run: done, own }) => [
      target.label, String(own.count), String(done.result.maxInFlight), `${((done.serverCpuMs / done.result.wallMs) * 100).toFixed(0)}% of a core`,
      `${ms(done.loopP99Ms, 1)} / ${ms(done.loopMaxMs, 1)} ms`, `${ms(done.gcMaxMs, 1)} ms`, `${ms(done.result.lagP99Ms)} ms`, ms(own.p50), ms(own.p90), ms(own.p99), ms(own.max),
    ]),
    ...plugin.flatMap(({ target, own }) => {
      const name = target.label.replace('plugin call path, ', 'the path, ');
      const same = ownOf(sameTrips.get(target)!);
      return [
        [`added by ${name} over the bare handler`, '', '', '', '', '', '', ms(own.p50 - base.own.p50), ms(own.p90 - base.own.p90), ms(own.p99 - base.own.p99), ''],
        [`added by ${name} over the same round trips`, '', '', '', '', '', '', ms(own.p50 - same.p50), ms(own.p90 - same.p90), ms(own.p99 - same.p99), ''],
      ];
    }),
  ]));
  for (const { target, own } of plugin) {
    const name = target.label.replace('plugin call path, ', '');
    const same = ownOf(sameTrips.get(target)!);
    const added = own.p99 - same.p99;
    console.log(`Added p99 at ${LATENCY_IN_FLIGHT} in flight, paced, ${name}: ${ms(own.p99 - base.own.p99)} ms over the bare handler (one round trip, p99 ${ms(base.own.p99)} ms); ` +
      `${ms(added)} ms over a bare handler making the same ${sameTrips.get(target)!.commands} round trips (p99 ${ms(same.p99)} ms; target < ${TARGETS.addedP99Ms} ms): ${added < TARGETS.addedP99Ms ? 'PASS' : 'FAIL'}`);
  }

  const latency = async (inFlight: number, calls: number) => {
    const rows: Summary[] = [];
    for (const target of [baseline, path, pathAmi]) rows.push(summarize((await run(target, calls, { inFlight })).result.latenciesMs));
    return rows as [Summary, Summary, Summary];
  };
  const loaded = await latency(LATENCY_IN_FLIGHT, options.calls);
  const alone = Math.min(options.calls, 2000);
  const single = await latency(1, alone);
  console.log(`\n   Saturated (closed loop: ${LATENCY_IN_FLIGHT} kept in flight, a finished call replaced at once, no hold: the server is flat out, so this is mostly queueing; ${options.calls} calls), and one call at a time (${alone} calls).`);
  console.log('   Header sent -> server\'s close, ms:');
  console.log(table([
    ['handler', `p50 @${LATENCY_IN_FLIGHT} sat.`, `p99 @${LATENCY_IN_FLIGHT} sat.`, `max @${LATENCY_IN_FLIGHT} sat.`, 'p50 @1', 'p99 @1'],
    ...[baseline, path, pathAmi].map((target, i) => [target.label, ms(loaded[i]!.p50), ms(loaded[i]!.p99), ms(loaded[i]!.max), ms(single[i]!.p50), ms(single[i]!.p99)]),
    ...[path, pathAmi].map((target, j) => {
      const i = j + 1;
      return [`added by ${target.label.replace('plugin call path, ', 'the path, ')}`, ms(loaded[i]!.p50 - loaded[0].p50), ms(loaded[i]!.p99 - loaded[0].p99), '', ms(single[i]!.p50 - single[0].p50), ms(single[i]!.p99 - single[0].p99)];
    }),
  ]));
}

interface SlowRow {
  label: string;
  runs: Run[];
  memory: Memory;
  rate: string;
}

/** c. 2,000 calls against a 300 ms CRM: paced, spread over 300 ms, at the same instant. */
async function slowCrmPhase(rig: Rig): Promise<void> {
  const { options, baseline, path, pathAmi, run, logger, stub } = rig;
  const bareBurst = await run(baseline, BURST, { inFlight: BURST }, true);
  await rig.crmDelay(SLOW_CRM_MS);
  const answeredBefore = stub?.answered ?? 0;
  logger.resetTally();
  const overflowsBefore = listenOverflows();
  const rows: SlowRow[] = [];
  const spreadRate = (BURST * 1000) / SLOW_CRM_MS;
  try {
    for (const target of [pathAmi, path]) {
      const memory = await sampleRss(async () => [await run(target, BURST, { ratePerSecond: PACED_RATE }, true)]);
      rows.push({ label: `${target.label}, paced`, runs: memory.result, memory, rate: `${PACED_RATE}/s` });
    }
    for (const target of [pathAmi, path]) {
      const memory = await sampleRss(async () => [await run(target, BURST, { ratePerSecond: spreadRate }, true)]);
      rows.push({ label: `${target.label}, spread over ${SLOW_CRM_MS} ms`, runs: memory.result, memory, rate: `${spreadRate.toFixed(0)}/s` });
    }
    // Twice: the first burst opens every connection (to the CRM over HTTPS too), the second
    // finds them kept alive, as calls do in steady use.
    const memory = await sampleRss(async () => [await run(path, BURST, { inFlight: BURST }, true), await run(path, BURST, { inFlight: BURST }, true)]);
    rows.push({ label: `${path.label}, at once (x2)`, runs: memory.result, memory, rate: 'all at once' });
  } finally {
    await rig.crmDelay(0);
  }
  const overflows = overflowsBefore === undefined ? undefined : (listenOverflows() ?? 0) - overflowsBefore;
  const fast = summarize(bareBurst.result.latenciesMs);
  console.log(`\nc. ${BURST} calls against a CRM that answers in ${SLOW_CRM_MS} ms (${options.mode === 'stub' ? 'stub connector with a delay' : 'fake Custom CRM over HTTPS with a delay'}); ms per call: header sent -> server's close; server CPU as % of one core (the server is one thread)`);
  console.log(`   paced: ${PACED_RATE} calls/s for ${BURST / PACED_RATE} s, so about ${PACED_RATE * SLOW_CRM_MS / 1000} in flight (rate x ${SLOW_CRM_MS} ms)` +
    (rig.cpuPerCallUs === undefined ? '' : `; at phase a's CPU per call (AMI path) that keeps the server's one thread ${((PACED_RATE * rig.cpuPerCallUs.server) / 1e4).toFixed(0)}% busy, the client ${((PACED_RATE * rig.cpuPerCallUs.client) / 1e4).toFixed(0)}%`) + '.');
  console.log(`   ${BURST} in flight at once needs ${spreadRate.toFixed(0)} arrivals/s for ${SLOW_CRM_MS} ms (Little's law: ${BURST} / ${SLOW_CRM_MS} ms)` +
    (rig.saturatedRate === undefined ? '' : `, ${(spreadRate / rig.saturatedRate).toFixed(1)}x the ${rig.saturatedRate.toFixed(0)} calls/s this machine sustains flat out with the AMI path (a)`) + ': a burst here, shown as "spread over 300 ms" and "at once".');
  console.log(table([
    ['handler', 'arrivals', 'in flight (max)', 'failed', 'min', 'p50', 'p99', 'max', 'wall time', 'server CPU', 'loop delay max', 'RSS before', 'RSS peak', 'heap peak'],
    ...rows.flatMap(({ label, runs, memory, rate }) => runs.map((done, i) => {
      const summary = summarize(done.result.latenciesMs);
      const name = runs.length > 1 ? `${label.replace(' (x2)', '')}, ${i === 0 ? 'first burst' : 'second burst'}` : label;
      const mem = i === 0 ? [mb(memory.before), mb(memory.peak), mb(memory.heapPeak)] : ['', '', ''];
      return [
        name, rate, String(done.result.maxInFlight), String(done.result.failures), ms(summary.min), ms(summary.p50), ms(summary.p99), ms(summary.max), ms(done.result.wallMs),
        `${((done.serverCpuMs / done.result.wallMs) * 100).toFixed(0)}%`, ms(done.loopMaxMs, 1), ...mem,
      ];
    })),
    [
      `${baseline.label}, no CRM, at once`, 'all at once', String(bareBurst.result.maxInFlight), String(bareBurst.result.failures), ms(fast.min), ms(fast.p50), ms(fast.p99), ms(fast.max), ms(bareBurst.result.wallMs),
      `${((bareBurst.serverCpuMs / bareBurst.result.wallMs) * 100).toFixed(0)}%`, ms(bareBurst.loopMaxMs, 1), '', '', '',
    ],
  ]));
  console.log(`Outcomes (from the plugin's log): ${[...logger.tally].map(([what, count]) => `${what} ${count}`).join(', ')}`);
  if (overflows !== undefined) console.log(`Listen queue overflows (kernel counter, whole machine): ${overflows}`);
  if (stub) console.log(`Stub lookups: ${stub.answered - answeredBefore} answered; ${stub.aborted} cut short in the whole run (deadline, hang-up).`);
  for (const { label, runs } of rows) {
    const worst = Math.max(...runs.map((done) => summarize(done.result.latenciesMs).max));
    const failed = runs.reduce((sum, done) => sum + done.result.failures, 0);
    const ok = failed === 0 && runs.every((done) => done.result.latenciesMs.length === BURST) && worst <= SLOW_CRM_MS + TARGETS.slowSlackMs;
    console.log(`All ${BURST} within ${SLOW_CRM_MS} + ${TARGETS.slowSlackMs} ms, ${label}: worst ${ms(worst)} ms${failed > 0 ? `, ${failed} calls failed (closed without a command)` : ''}: ${ok ? 'PASS' : 'FAIL'}`);
  }
  const full = rows.filter(({ runs }) => runs.some((done) => done.result.maxInFlight >= BURST * 0.9));
  const peak = Math.max(...full.map(({ memory }) => memory.peak));
  console.log(`This process's RSS peak with ~${BURST} in flight: ${mb(peak)} MB (it holds two call paths, the bare handlers and the peers' code)`);
  console.log(`  for scale: an empty process with these exec arguments has RSS ${mb(emptyProcessRss(true))} MB, plain node ${mb(emptyProcessRss(false))} MB`);
  const alone = await runAloneMemory({ asterisk: rig.asterisk, ami: rig.ami, crmDelayMs: SLOW_CRM_MS, burst: BURST, spreadRate, warmup: options.warmup, callerId: CALLER });
  for (const [flags, alonePeak] of alone) {
    console.log(`Plugin alone, RSS peak with ~${BURST} in flight, ${flags}: ${mb(alonePeak)} MB (target < ${TARGETS.rssMb} MB${tsxNote()}): ${alonePeak < TARGETS.rssMb * MB ? 'PASS' : 'FAIL'}`);
  }
}

/** The RSS target is for compiled code: under tsx every process carries the compiler too. */
function tsxNote(): string {
  return process.execArgv.some((arg) => arg.includes('tsx')) ? '; under tsx, run compiled for the real figure' : '';
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
  console.log(`Check call, AGI path, through the full simulator: landed at ${ended.context},${ended.exten},${ended.priority} (${ended.via}); ${variables}; ${result.commands} AGI commands`);
  return result.commands;
}

/** One call on the AMI path must be moved by the Redirect (the plugin's log says method ami); returns its AGI commands. */
async function checkAmiCall(asterisk: BenchWorker, logger: FormattingLogger, port: number, script: string): Promise<number> {
  const before = logger.tally.get('method ami') ?? 0;
  const { result } = await asterisk.load({ port, script, calls: 1, concurrency: 1, callerId: CALLER });
  if ((logger.tally.get('method ami') ?? 0) !== before + 1) throw new Error(`The AMI check call was not moved by AMI: ${logger.problems.join('; ')}`);
  console.log(`Check call, AMI path: moved by the fake AMI's Redirect (method ami); ${result.commands} AGI command`);
  return result.commands;
}

interface Memory {
  before: number;
  peak: number;
  after: number;
  heapBefore: number;
  heapPeak: number;
}

/** Memory of this process (after a GC when --expose-gc is on) before, at its highest while `work` runs (sampled every 5 ms), and 1 s after. */
async function sampleRss<T>(work: () => Promise<T>): Promise<Memory & { result: T }> {
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

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1);
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
