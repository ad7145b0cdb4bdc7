/**
 * A small path reader for JSON answers, so an administrator can say where a value sits:
 *   data.0.Account_Name        keys and array indexes separated by dots
 *   records[0].fields.tier     [n] for an index; [-1] is the last element
 *   items["first name"]        ["..."] or ['...'] for a key with dots, spaces or brackets
 *   data[*].phone   data.*.phone   every element of an array (or every value of an object)
 * An empty path is the whole answer. Pure: no I/O, never throws while reading (a missing step
 * reads as undefined); parsePath throws PathSyntaxError with the position of the mistake.
 */
export type PathSegment = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'all' };

export class PathSyntaxError extends Error {
  override readonly name = 'PathSyntaxError';
}

export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let i = 0;
  const fail = (why: string): never => { throw new PathSyntaxError(`${why} at position ${i + 1} of "${path}"`); };
  const text = path.trim();
  if (text === '' || text === '$') return segments;
  if (text.startsWith('$.') || text.startsWith('$[')) i = 1;
  let expectName = !text.startsWith('[', i);
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '.') {
      if (expectName && segments.length > 0) fail('empty step');
      i += 1;
      expectName = true;
      if (i === text.length) fail('path ends with a dot');
      continue;
    }
    if (ch === '[') {
      const close = readBracket(text, i, fail);
      segments.push(close.segment);
      i = close.end;
      expectName = false;
      continue;
    }
    if (!expectName) fail('expected "." or "[" ');
    let end = i;
    while (end < text.length && text[end] !== '.' && text[end] !== '[') end += 1;
    const name = text.slice(i, end);
    if (name === '') fail('empty step');
    if (name === '*') segments.push({ kind: 'all' });
    else if (/^-?\d+$/.test(name)) segments.push({ kind: 'index', index: Number(name) });
    else segments.push({ kind: 'key', key: name });
    i = end;
    expectName = false;
  }
  return segments;
}

function readBracket(text: string, start: number, fail: (why: string) => never): { segment: PathSegment; end: number } {
  const quote = text[start + 1];
  if (quote === '"' || quote === "'") {
    let key = '';
    let i = start + 2;
    for (; i < text.length && text[i] !== quote; i += 1) {
      if (text[i] === '\\' && i + 1 < text.length) i += 1;
      key += text[i];
    }
    if (text[i] !== quote || text[i + 1] !== ']') fail('unclosed quoted key');
    return { segment: { kind: 'key', key }, end: i + 2 };
  }
  const close = text.indexOf(']', start);
  if (close < 0) fail('unclosed "["');
  const inner = text.slice(start + 1, close).trim();
  if (inner === '*') return { segment: { kind: 'all' }, end: close + 1 };
  if (!/^-?\d+$/.test(inner)) fail('"[...]" holds a number, * or a quoted key');
  return { segment: { kind: 'index', index: Number(inner) }, end: close + 1 };
}

/** The value at a path without `*`; undefined where a step is missing. */
export function readPath(root: unknown, segments: PathSegment[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (segment.kind === 'all') return undefined;
    current = step(current, segment);
    if (current === undefined) return undefined;
  }
  return current;
}

/** Every value a path reaches, `*` expanded in order; missing steps are skipped. */
export function readAll(root: unknown, segments: PathSegment[]): unknown[] {
  let current: unknown[] = [root];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      if (segment.kind === 'all') {
        if (Array.isArray(value)) next.push(...value);
        else if (value !== null && typeof value === 'object') next.push(...Object.values(value));
      } else {
        const found = step(value, segment);
        if (found !== undefined) next.push(found);
      }
    }
    current = next;
  }
  return current;
}

function step(value: unknown, segment: Exclude<PathSegment, { kind: 'all' }>): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  if (segment.kind === 'index') {
    if (Array.isArray(value)) return value.at(segment.index);
    return (value as Record<string, unknown>)[String(segment.index)];
  }
  if (Array.isArray(value) && /^-?\d+$/.test(segment.key)) return value.at(Number(segment.key));
  return Object.prototype.hasOwnProperty.call(value, segment.key) ? (value as Record<string, unknown>)[segment.key] : undefined;
}

/** Whether a value means "nothing here": missing, null, false, 0, '', [] or {}. */
export function isEmptyValue(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}
