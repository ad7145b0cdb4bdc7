/**
 * Figures for the benchmark scripts: percentiles of a sample (nearest rank), a fixed-width
 * table, and what machine the figures come from.
 */
import fs from 'node:fs';
import os from 'node:os';

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
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
  return { count: sorted.length, min: sorted[0] ?? NaN, p50: rank(50), p90: rank(90), p95: rank(95), p99: rank(99), max: sorted.at(-1) ?? NaN, mean: sum / sorted.length };
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

/** The whole machine's busy CPU time (every process, every core) in ms, from /proc/stat; undefined where there is none. */
export function machineBusyMs(): number | undefined {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.reduce((sum, value) => sum + value, 0);
    // /proc/stat counts in USER_HZ, 100 per second on Linux.
    return ((total - idle) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** The kernel's count of connections dropped because a listen queue was full (whole machine), from /proc/net/netstat; undefined where there is none. */
export function listenOverflows(): number | undefined {
  try {
    const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.split(' ');
      const column = names.indexOf('ListenOverflows');
      if (column !== -1) return Number(lines[i + 1]!.split(' ')[column]);
    }
  } catch {
    // not Linux
  }
  return undefined;
}
