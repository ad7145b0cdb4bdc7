/**
 * Counters the call path bumps with a plain `+= 1`: a call costs no label hashing, no object and
 * no string. Each series is a Tally created once (per rule, outcome and method; per CRM) and kept
 * by the caller; prom-client reads the tallies only when /metrics is scraped, through the
 * counter's `collect()`.
 */
import { Counter, type Registry } from 'prom-client';

export interface Tally {
  value: number;
}

export class TalliedCounter<L extends string> {
  private readonly series: Array<{ labels: Record<L, string>; tally: Tally }> = [];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    const series = this.series;
    new Counter<L>({
      name, help, labelNames, registers: [registry],
      collect() {
        this.reset();
        for (const { labels, tally } of series) this.inc(labels as never, tally.value);
      },
    });
  }

  /** A new series; the caller keeps the tally (one per label set) and adds to `value`. */
  add(labels: Record<L, string>): Tally {
    const tally = { value: 0 };
    this.series.push({ labels, tally });
    return tally;
  }
}
