/**
 * The plugin's call path alone in a process, as a host runs it (bench-alone.ts): one call path
 * with plugin.json's limits, the stub CRM answering after the delay it is given, the AMI settings
 * it is given (the production path), nothing else loaded. Answers how much memory it held while
 * the parent loaded it with calls: RSS and heap sampled every 5 ms between `sample` and `report`.
 */
import type { AmiSettings } from '../../src/host';
import { startBenchCallPath } from './bench-call-path';
import { FormattingLogger } from './formatting-logger';
import { StubCrm } from './stub-crm';

export type AloneRequest = { kind: 'start'; crmDelayMs: number; ami: AmiSettings } | { kind: 'sample' } | { kind: 'report' };
export type AloneReply =
  | { kind: 'started'; port: number; script: string }
  | { kind: 'sampling' }
  | { kind: 'report'; rssBefore: number; rssPeak: number; heapPeak: number };

if (!process.send) throw new Error('bench-alone-worker runs under bench-alone.ts (forked with an IPC channel).');

let sampling: { timer: NodeJS.Timeout; rssBefore: number; rssPeak: number; heapPeak: number } | undefined;

process.on('message', (request: AloneRequest) => {
  void answer(request).then((reply) => process.send!(reply), (err: unknown) => {
    console.error(`bench-alone-worker failed: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  });
});

async function answer(request: AloneRequest): Promise<AloneReply> {
  switch (request.kind) {
    case 'start': {
      const path = await startBenchCallPath({ logger: new FormattingLogger('info'), stub: new StubCrm(request.crmDelayMs), ami: request.ami });
      return { kind: 'started', port: path.port, script: path.script };
    }
    case 'sample': {
      (globalThis as { gc?: () => void }).gc?.();
      const rssBefore = process.memoryUsage.rss();
      const state = { rssBefore, rssPeak: rssBefore, heapPeak: 0, timer: setInterval(() => {
        const now = process.memoryUsage();
        state.rssPeak = Math.max(state.rssPeak, now.rss);
        state.heapPeak = Math.max(state.heapPeak, now.heapUsed);
      }, 5) };
      sampling = state;
      return { kind: 'sampling' };
    }
    case 'report': {
      if (!sampling) throw new Error('report before sample');
      clearInterval(sampling.timer);
      const { rssBefore, rssPeak, heapPeak } = sampling;
      sampling = undefined;
      return { kind: 'report', rssBefore, rssPeak, heapPeak };
    }
  }
}
