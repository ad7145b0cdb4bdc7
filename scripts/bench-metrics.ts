/**
 * `npm run bench:metrics`: what the metrics cost. Per call: the tally a routed call bumps
 * (PluginMetrics.called) against prom-client's own labelled inc, in ns and bytes allocated. Per
 * scrape: the time and size of /metrics with one series per rule and outcome for many rules.
 */
import { Counter, Registry } from 'prom-client';
import { PluginMetrics } from '../src/metrics/plugin-metrics';
import type { Outcome } from '../src/domain/decide';

const CALLS = 2_000_000;
const OUTCOMES: Outcome[] = ['MATCH', 'NO_MATCH', 'NOT_FOUND', 'CRM_ERROR'];

function perCall(label: string, run: (i: number) => void): void {
  for (let i = 0; i < 100_000; i += 1) run(i); // warm up, and make every series once
  global.gc?.();
  const heap = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i += 1) run(i);
  const ns = Number(process.hrtime.bigint() - started) / CALLS;
  const bytes = (process.memoryUsage().heapUsed - heap) / CALLS;
  console.log(`${label}: ${ns.toFixed(1)} ns per call, ~${Math.max(0, bytes).toFixed(1)} bytes allocated per call${global.gc ? '' : ' (run with --expose-gc for the bytes)'}`);
}

async function main(): Promise<void> {
  const metrics = new PluginMetrics();
  perCall('PluginMetrics.called (tally)', (i) => metrics.called(1 + (i % 50), OUTCOMES[i % 4]!, 'ami'));
  const registry = new Registry();
  const counter = new Counter({ name: 'x_total', help: 'x', labelNames: ['rule', 'outcome', 'method'], registers: [registry] });
  const children = Array.from({ length: 50 }, (_, r) => OUTCOMES.map((o) => counter.labels(String(r + 1), o, 'ami')));
  perCall('prom-client labels(...).inc (bound child)', (i) => children[i % 50]![i % 4]!.inc());

  for (const rules of [1_000, 10_000]) {
    const scraped = new PluginMetrics();
    for (let r = 1; r <= rules; r += 1) for (const outcome of OUTCOMES.slice(0, 2)) scraped.called(r, outcome, 'ami');
    await scraped.text();
    const started = performance.now();
    const { body } = await scraped.text();
    console.log(`/metrics with ${rules} rules x 2 outcomes (${rules * 2} call series): ${(performance.now() - started).toFixed(1)} ms, ${(body.length / 1024).toFixed(0)} KiB`);
  }
}

void main();
