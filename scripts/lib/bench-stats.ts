/**
 * Figures for the benchmark scripts: percentiles of a sample (nearest rank), a fixed-width
 * table, and what machine the figures come from.
 */
import os from 'node:os';

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  let sum = 0;
  for (const value of sorted) sum += value;
  return { count: sorted.length, min: sorted[0] ?? NaN, p50: rank(50), p95: rank(95), p99: rank(99), max: sorted.at(-1) ?? NaN, mean: sum / sorted.length };
}

/** Rows of cells as left-aligned columns, the first row being the heading. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

export function ms(value: number, digits = 2): string {
  return value.toFixed(digits);
}

/** "2 cores (AMD EPYC), 23.5 GiB RAM, Node v20.20.2, linux x64" */
export function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return `${os.availableParallelism()} cores (${model}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}
