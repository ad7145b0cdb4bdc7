/**
 * `npx tsx --expose-gc scripts/bench-call-assembler.ts [calls] [speed|memory]`: how fast the call assembler reads
 * the measured end-of-call events (every scenario in turn, each call with its own ids), and the
 * heap it holds for calls that are open (5,000, the default cap) before they end.
 */
import { performance } from 'node:perf_hooks';
import { amiEventOf } from '../src/calllog/ami-event';
import { CallAssembler } from '../src/calllog/call-assembler';
import { END_OF_CALL_TRANSCRIPTS, END_SCENARIOS } from './lib/end-of-call/end-of-call-transcripts';
import { renderEndOfCall } from './lib/end-of-call/end-of-call-player';

const calls = Number(process.argv[2] ?? 10_000);
const assembler = () => new CallAssembler({ isExtension: (n) => ['100', '101', '102', '200'].includes(n), tenantOf: () => 't', graceMs: 1500 });
const rendered = Array.from({ length: calls }, (_, i) => renderEndOfCall(END_OF_CALL_TRANSCRIPTS[END_SCENARIOS[i % END_SCENARIOS.length]!], { startedAt: 1_800_000_000_000 + i * 1000 }))
  .map((r) => r.events.map((e) => ({ at: e.atMs, event: amiEventOf(e.headers) })));
const eventCount = rendered.reduce((n, r) => n + r.length, 0);

const mode = process.argv[3] ?? 'speed';
if (mode === 'speed') speed();
else memory();

function speed(): void {
const a = assembler();
const started = performance.now();
let emitted = 0;
for (const [i, events] of rendered.entries()) {
  for (const e of events) a.push(e.event, i * 10 + e.at);
  // The plugin flushes every 250 ms: here every 25 calls (one call every 10 ms of event time).
  if (i % 25 === 0) emitted += a.flush(i * 10).length;
}
emitted += a.flush(Number.MAX_SAFE_INTEGER).length;
const ms = performance.now() - started;
console.log(`${calls} calls, ${eventCount} events in ${ms.toFixed(0)} ms: ${(eventCount / ms * 1000).toFixed(0)} events/s, ${(ms * 1000 / calls).toFixed(1)} µs per call; emitted ${emitted}`);
}

function memory(): void {
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
gc?.();
const before = process.memoryUsage().heapUsed;
const open = assembler();
for (const [i, events] of rendered.slice(0, 5000).entries()) for (const e of events.filter((x) => x.at < 1000)) open.push(e.event, i);
gc?.();
gc?.();
const held = process.memoryUsage().heapUsed - before;
console.log(`5000 open calls (events before the hang-up) hold ${(held / 1024 / 1024).toFixed(1)} MiB, ${(held / 5000 / 1024).toFixed(1)} KiB per call${gc ? '' : ' (run with --expose-gc for a clean number)'}; open ${open.stats().openCalls}`);
}
