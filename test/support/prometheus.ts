/**
 * /metrics read the way Prometheus reads it: the text exposition parsed by an independent parser
 * (parse-prometheus-text-format), then samples looked up by name and labels.
 */
import assert from 'node:assert/strict';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';

export class Scrape {
  readonly families: MetricFamily[];

  constructor(readonly text: string) {
    this.families = parsePrometheusTextFormat(text);
  }

  family(name: string): MetricFamily {
    const family = this.families.find((f) => f.name === name);
    assert.ok(family, `/metrics has no ${name}`);
    return family;
  }

  /** The sample with exactly these labels (0 when the series is absent: a counter never bumped). */
  value(name: string, labels: Record<string, string> = {}): number {
    const sample = this.family(name).metrics.find((m) => sameLabels(m.labels ?? {}, labels));
    return sample ? Number(sample.value ?? sample.count) : 0;
  }

  /**
   * A histogram's `_count` for these labels. The parser keeps the buckets of a histogram without
   * labels only (it merges labelled series), so the count is read from its own text line.
   */
  histogramCount(name: string, labels: Record<string, string>): number {
    assert.equal(this.family(name).type, 'HISTOGRAM');
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
    const line = this.text.split('\n').find((l) => l.startsWith(`${name}_count{${wanted}} `));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }

  /** Every series of a family, as "label=value,..." -> value. */
  series(name: string): Record<string, number> {
    return Object.fromEntries(this.family(name).metrics.map((m) => [
      Object.entries(m.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','), Number(m.value ?? m.count),
    ]));
  }

  /** Sum of a family's series whose labels include `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.family(name).metrics
      .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
      .reduce((total, m) => total + Number(m.value ?? m.count), 0);
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
