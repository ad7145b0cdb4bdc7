/**
 * Which rule a FastAGI request asks for: `agi://host:port/crm-routing?rule=<id>` (the id in
 * agi_network_script's query), or the first dialplan argument, `AGI(agi://host/crm-routing,<id>)`.
 */
import type { AgiRequest } from './agi-request';

const ID = /^[1-9]\d{0,9}$/;

export function ruleIdOf(request: Pick<AgiRequest, 'networkScript' | 'args'>, agiPath: string): number | undefined {
  const script = request.networkScript;
  const mark = script.indexOf('?');
  const path = mark === -1 ? script : script.slice(0, mark);
  if (trimSlashes(path) !== agiPath) return undefined;
  const fromQuery = mark === -1 ? null : queryParam(script.slice(mark + 1), 'rule');
  const id = fromQuery ?? request.args[0] ?? '';
  return ID.test(id) ? Number(id) : undefined;
}

/**
 * The first value of `name` in a query string, as `new URLSearchParams(query).get(name)` gives
 * it. A plain query (no `%` or `+` to decode) is read directly: it is every call's, and
 * URLSearchParams costs more than the rest of this file.
 */
export function queryParam(query: string, name: string): string | null {
  if (query.includes('%') || query.includes('+')) return new URLSearchParams(query).get(name);
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    if (end > start) {
      const equals = query.indexOf('=', start);
      const keyEnd = equals === -1 || equals > end ? end : equals;
      if (keyEnd - start === name.length && query.startsWith(name, start)) return keyEnd === end ? '' : query.slice(keyEnd + 1, end);
    }
    start = end + 1;
  }
  return null;
}

function trimSlashes(path: string): string {
  let start = 0;
  let end = path.length;
  while (start < end && path.charCodeAt(start) === 0x2f) start += 1;
  while (end > start && path.charCodeAt(end - 1) === 0x2f) end -= 1;
  return start === 0 && end === path.length ? path : path.slice(start, end);
}
