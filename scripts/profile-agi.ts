/**
 * `npx tsx scripts/profile-agi.ts [--calls 20000] [--concurrency 100] [--warmup 5000] [--ami] [--crm stub|https] [--target path|bare] [--out file.cpuprofile] [--top 30] [--focus text] [--cpu-only] [--alloc] [--rate 1000]`
 *
 * CPU profile of the server side of one bench:agi load, and only of it: the same rig as
 * `npm run bench:agi` (agi-load-client in a forked worker, the plugin's call path with
 * plugin.json's limits, a 0 ms stub CRM, a SQLite decision log, log lines formatted at info),
 * warmed up first, then V8's sampling profiler (node:inspector) runs just while `--calls` calls
 * go through. Prints self and inclusive time per function and per file; writes the
 * .cpuprofile (open it in Chrome DevTools or VS Code) when `--out` is given.
 * `--ami`: the call path has AMI settings and a fake AMI (in the worker) that answers each
 * Redirect at once, so a call is one AGI command plus the Redirect. `--target bare`: the bare
 * ding-dong handler instead, for comparison. `--cpu-only`: no profiler, just the server's CPU per
 * call (the profiler's sampling adds its own cost), for before/after figures of a change.
 * `--rate`: calls placed at that steady rate (open loop) instead of `--concurrency` kept in flight:
 * the same offered load before and after a change, so CPU per call compares better.
 * `--alloc`: V8's sampling heap profiler instead of the CPU profiler: bytes allocated per call,
 * by function (what each call leaves for the garbage collector).
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import { BareAgiServer } from './lib/bare-agi-server';
import { startBenchCallPath } from './lib/bench-call-path';
import { BenchWorker } from './lib/bench-worker-handle';
import { summarizeCpuProfile, summarizeHeapProfile, type CpuProfile, type SamplingHeapProfile } from './lib/cpu-profile';
import { FormattingLogger } from './lib/formatting-logger';
import { StubCrm } from './lib/stub-crm';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string' }, concurrency: { type: 'string' }, rate: { type: 'string' }, warmup: { type: 'string' }, ami: { type: 'boolean' },
      target: { type: 'string' }, crm: { type: 'string' }, 'cpu-only': { type: 'boolean' }, alloc: { type: 'boolean' }, out: { type: 'string' }, top: { type: 'string' }, focus: { type: 'string' },
    },
  });
  const calls = Number(values.calls ?? 20_000);
  const concurrency = Number(values.concurrency ?? 100);
  const warmup = Number(values.warmup ?? 5000);
  const asterisk = BenchWorker.start('asterisk');
  const ami = values.ami ? await asterisk.startAmi() : undefined;
  const logger = new FormattingLogger('info');
  // --crm https: the rule's Custom CRM over local HTTPS, the fake CRM in a process of its own.
  const crmWorker = values.crm === 'https' ? BenchWorker.start('crm') : undefined;
  const crm = await crmWorker?.startCrm();
  const pipeline = await startBenchCallPath({ logger, ...(crm ? { customUrl: crm.url, crmCa: crm.caPem } : { stub: new StubCrm(0) }), ...(ami ? { ami } : {}) });
  const bare = values.target === 'bare' ? await BareAgiServer.start(1) : undefined;
  const port = bare?.port ?? pipeline.port;
  const script = bare ? 'ding-dong' : pipeline.script;
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) => session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))));
  try {
    await asterisk.load({ port, script, calls: warmup, concurrency, callerId: '+15550001111' });
    const profiling = !values['cpu-only'] && !values.alloc;
    if (values.alloc) {
      // Every 512 bytes on average (V8's default is 32 KB), so a call's small objects show; garbage included.
      await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    }
    if (profiling) {
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 100 });
      await post('Profiler.start');
    }
    const cpu = process.cpuUsage();
    const rate = values.rate === undefined ? undefined : Number(values.rate);
    const { result } = await asterisk.load({ port, script, calls, concurrency: rate === undefined ? concurrency : calls, callerId: '+15550001111', ...(rate === undefined ? {} : { ratePerSecond: rate }) });
    const used = process.cpuUsage(cpu);
    const profile = profiling ? (await post<{ profile: CpuProfile }>('Profiler.stop')).profile : undefined;
    const heap = values.alloc ? (await post<{ profile: SamplingHeapProfile }>('HeapProfiler.stopSampling')).profile : undefined;
    if (result.failures > 0) throw new Error(`${result.failures} calls failed: ${result.failureSamples.join('; ')}`);
    const shape = rate === undefined ? `${concurrency} in flight` : `${rate}/s paced (${result.maxInFlight} in flight at most)`;
    console.log(`${bare ? 'bare ding-dong handler' : `plugin call path${ami ? ' with AMI' : ' (AGI moves)'}`}: ${calls} calls, ${shape}, ${result.commands / calls} AGI commands a call, ` +
      `${((calls * 1000) / result.wallMs).toFixed(0)} calls/s, server CPU ${((used.user + used.system) / calls).toFixed(0)} us/call${profiling ? ' (profiler on)' : ''}`);
    if (heap) {
      if (values.out) fs.writeFileSync(values.out, JSON.stringify(heap));
      console.log(summarizeHeapProfile(heap, { top: Number(values.top ?? 30), divisor: calls }));
    }
    if (!profile) return;
    if (values.out) fs.writeFileSync(values.out, JSON.stringify(profile));
    console.log(summarizeCpuProfile(profile, { top: Number(values.top ?? 30), ...(values.focus ? { focus: values.focus } : {}) }));
  } finally {
    session.disconnect();
    await pipeline.stop();
    await bare?.close();
    asterisk.stop();
    crmWorker?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`profile-agi failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
