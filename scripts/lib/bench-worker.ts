/**
 * The far side of bench:agi, flood:agi and fuzz:agi, forked into a process of its own so it
 * shares neither the event loop nor the core of the server under test: "Asterisk" (runs AGI load
 * with agi-load-client), fuzzed streams (agi-fuzz-streams.ts), connections that never speak
 * (silent-connections.ts), or, on request, a fake CRM over HTTPS (the Custom CRM contract, test
 * CA) and a fake AMI that answers every Redirect at once (scripts/lib/fake-ami.ts, the measured
 * bytes). Spoken to through BenchWorker (bench-worker-handle.ts).
 */
import { FakeHttpsServer } from '../../test/support/fake-https';
import { testCa } from '../../test/support/test-ca';
import { runAgiLoad } from './agi-load-client';
import type { AmiStarted, CrmStarted, LoadReply, SilentStats, WorkerReply, WorkerRequest } from './bench-worker-handle';
import { runAgiFuzz, type AgiFuzzResult } from './agi-fuzz-streams';
import { SilentConnections } from './silent-connections';
import { FakeAmiServer } from './fake-ami';

interface FakeCrm {
  delayMs: number;
  requests: number;
}

if (!process.send) throw new Error('bench-worker.ts runs under scripts/bench-agi.ts (forked with an IPC channel).');

let crm: FakeCrm | undefined;
let silent: SilentConnections | undefined;

process.on('message', (request: WorkerRequest) => {
  void answer(request).then(
    (value): WorkerReply => ({ id: request.id, ok: true, value }),
    (err: unknown): WorkerReply => ({ id: request.id, ok: false, error: (err as Error)?.stack ?? String(err) }),
  ).then((reply) => process.send!(reply));
});

async function answer(request: WorkerRequest): Promise<LoadReply | CrmStarted | AmiStarted | SilentStats | AgiFuzzResult | number> {
  switch (request.kind) {
    case 'load': {
      const before = process.cpuUsage();
      const result = await runAgiLoad(request.options);
      const cpu = process.cpuUsage(before);
      return { result, cpuMs: (cpu.user + cpu.system) / 1000 };
    }
    case 'crm-start':
      return startCrm();
    case 'crm-delay':
      if (!crm) throw new Error('The fake CRM is not started.');
      crm.delayMs = request.delayMs;
      return crm.requests;
    case 'ami-start':
      return startAmi();
    case 'silent-start':
      silent?.stop();
      silent = new SilentConnections(request.options);
      return silent.start();
    case 'silent-stats':
      if (!silent) throw new Error('No silent connections are open.');
      return silent.snapshot();
    case 'silent-stop':
      if (!silent) throw new Error('No silent connections are open.');
      return silent.stop();
    case 'agi-fuzz':
      return runAgiFuzz(request.options);
  }
}

/**
 * Asterisk's AMI as the production call path uses it: Redirect answers `Response: Success` /
 * `Message: Redirect successful` at once. Real Asterisk then writes HANGUP on the FastAGI socket;
 * the plugin closes as soon as the Redirect is answered, and the load client writes HANGUP as it
 * answers the server's FIN, so the AGI side stays as measured.
 */
async function startAmi(): Promise<AmiStarted> {
  const ami = await FakeAmiServer.create({ channels: { redirect: () => 'ok', hangup: () => 'ok' } });
  // The fake keeps every action for tests to read; a benchmark does not.
  setInterval(() => ami.actions.splice(0), 1000).unref();
  return { host: '127.0.0.1', port: ami.port, username: 'crm', secret: 'crmsecret' };
}

/** The Custom CRM answering {"value": "Gold"} to every lookup, after `delayMs`. */
async function startCrm(): Promise<CrmStarted> {
  const state: FakeCrm = { delayMs: 0, requests: 0 };
  const server = await FakeHttpsServer.start(() => {
    state.requests += 1;
    return { body: { value: 'Gold' }, delayMs: state.delayMs };
  });
  crm = state;
  // The fake keeps every request for tests to read; a benchmark only counts them.
  setInterval(() => server.requests.splice(0), 1000).unref();
  return { url: `${server.url}/lookup`, caPem: testCa().caPem };
}
