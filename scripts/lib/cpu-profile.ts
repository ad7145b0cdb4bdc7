/**
 * Reads a V8 .cpuprofile (node --cpu-prof, or node:inspector's Profiler) and says where the time
 * went: self time (the function was on top of the stack) and inclusive time (it was anywhere on
 * the stack, counted once per sample), per function and per source file, as a share of the
 * profile's busy time (idle and GC shown on their own lines). Also reads a sampling heap profile
 * (node:inspector's HeapProfiler.startSampling): bytes allocated per function, self and inclusive.
 */
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummaryOptions {
  /** Rows per table. Default 30. */
  top?: number;
  /** Source paths are shown relative to this folder. Default the working directory. */
  root?: string;
  /** Only stacks that pass through a function whose label contains this text. */
  focus?: string;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

export function summarizeCpuProfile(profile: CpuProfile, options: ProfileSummaryOptions = {}): string {
  const top = options.top ?? 30;
  const root = options.root ?? process.cwd();
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const label = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    if (!url) return name;
    return `${name} ${shortUrl(url, root)}:${lineNumber + 1}`;
  };
  const fileOf = (node: ProfileNode) => (node.callFrame.url ? shortUrl(node.callFrame.url, root).replace(/:\d+$/, '') : node.callFrame.functionName || '(native)');

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  let focused = 0;
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);

  for (let i = 0; i < profile.samples.length; i += 1) {
    // timeDeltas[i] is the time before sample i; the sample's own time is the next delta.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(profile.samples[i]!);
    if (!leaf) continue;
    total += us;
    const leafName = leaf.callFrame.functionName;
    if (leafName === '(idle)') {
      idle += us;
      continue;
    }
    if (leafName === '(garbage collector)') gc += us;
    const stack: ProfileNode[] = [];
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!);
    const labels = stack.map(label);
    if (options.focus && !labels.some((text) => text.includes(options.focus!))) continue;
    focused += us;
    add(self, labels[0]!, us);
    add(files, fileOf(leaf), us);
    for (const text of new Set(labels)) if (!SPECIAL.has(text)) add(inclusive, text, us);
  }
  const busy = total - idle;
  const share = (us: number) => `${((us / (options.focus ? focused : busy)) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms`;
  const rows = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => `  ${share(us)}  ${name}`).join('\n');
  return [
    `Profile: ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms busy (${((busy / total) * 100).toFixed(0)}%), GC ${(gc / 1000).toFixed(0)} ms (${((gc / busy) * 100).toFixed(1)}% of busy)` +
      (options.focus ? `; stacks through "${options.focus}": ${(focused / 1000).toFixed(0)} ms` : ''),
    `Self time by file (share of ${options.focus ? 'focused' : 'busy'} time):`, rows(files),
    'Self time by function:', rows(self),
    'Inclusive time by function:', rows(inclusive),
  ].join('\n');
}

function shortUrl(url: string, root: string): string {
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  if (!path.isAbsolute(file)) return file;
  const relative = path.relative(root, file);
  return relative.startsWith('..') ? file : relative;
}

interface HeapProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapProfileNode[];
}

export interface SamplingHeapProfile {
  head: HeapProfileNode;
}

/** Bytes allocated (sampled) per function, self and inclusive, per `divisor` (e.g. per call). */
export function summarizeHeapProfile(profile: SamplingHeapProfile, options: { top?: number; root?: string; divisor?: number } = {}): string {
  const top = options.top ?? 30;
  const root = options.root ?? process.cwd();
  const divisor = options.divisor ?? 1;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const files = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes);
  let total = 0;
  const walk = (node: HeapProfileNode, stack: string[]): number => {
    const { functionName, url, lineNumber } = node.callFrame;
    const label = `${functionName || '(anonymous)'}${url ? ` ${shortUrl(url, root)}:${lineNumber + 1}` : ''}`;
    const here = [...stack, label];
    let sum = node.selfSize;
    total += node.selfSize;
    if (node.selfSize > 0) {
      add(self, label, node.selfSize);
      add(files, url ? shortUrl(url, root) : functionName || '(native)', node.selfSize);
    }
    for (const child of node.children) sum += walk(child, here);
    if (!stack.includes(label) && !SPECIAL.has(label)) add(inclusive, label, sum);
    return sum;
  };
  walk(profile.head, []);
  const unit = divisor === 1 ? 'bytes' : 'bytes per call';
  const rows = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, bytes]) => `  ${((bytes / total) * 100).toFixed(1).padStart(5)}%  ${(bytes / divisor).toFixed(0).padStart(8)}  ${name}`).join('\n');
  return [
    `Heap allocations (sampled): ${(total / divisor).toFixed(0)} ${unit} in all`,
    `By file (${unit}):`, rows(files),
    `Self by function (${unit}):`, rows(self),
    `Inclusive by function (${unit}):`, rows(inclusive),
  ].join('\n');
}
