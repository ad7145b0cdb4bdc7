/**
 * Request templates for the Proprietary CRM connectors: placeholders such as {e164} filled with
 * the call's values, escaped for where they land, never inserted raw.
 * - URL: percent-encoded (encodeURIComponent); not allowed in the scheme, host or port.
 * - Query parameters and headers: one per line, `name=value` / `Name: value`; query values are
 *   percent-encoded, header values lose control characters (no CR/LF can split a header).
 * - JSON body: the template must be valid JSON with placeholders inside strings ("{e164}"); it
 *   is parsed once, placeholders are replaced inside string values and keys, and the result is
 *   serialised again, so a value can never close a string or add a member.
 * Pure: no I/O.
 */
import type { PhoneVariants } from '../../domain/phone';

export const PLACEHOLDERS = ['e164', 'national', 'international', 'digits', 'last7', 'last8', 'last9', 'last10', 'field', 'module', 'dtmf', 'did'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Record<Placeholder, string>;

const TOKEN = /\{([A-Za-z0-9_]+)\}/g;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Set by the request itself, never by a template. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'proxy-connection']);

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export function placeholderValues(phone: PhoneVariants, call: { field: string; module: string; dtmf: string; did: string }): PlaceholderValues {
  const tail = (n: number) => phone.national.slice(-n);
  return {
    e164: phone.e164, national: phone.national, international: phone.international, digits: phone.rawDigits,
    last7: tail(7), last8: tail(8), last9: tail(9), last10: tail(10),
    field: call.field, module: call.module, dtmf: call.dtmf, did: call.did,
  };
}

/** Placeholders that `texts` use. */
export function usedPlaceholders(texts: string[]): Set<Placeholder> {
  const known = PLACEHOLDERS as readonly string[];
  return new Set(texts.flatMap((t) => [...t.matchAll(TOKEN)].map((m) => m[1] as string)).filter((n): n is Placeholder => known.includes(n)));
}

/** Names used in `text` that are not placeholders (typos such as {E164}); `known` defaults to the lookup's. */
export function unknownPlaceholders(text: string, known: readonly string[] = PLACEHOLDERS): string[] {
  return [...text.matchAll(TOKEN)].map((m) => m[1] as string).filter((name) => !known.includes(name));
}

/** Template values by placeholder name: the lookup's PlaceholderValues, or the call log's. */
export type TemplateValues = Readonly<Record<string, string>>;

function fill(text: string, values: TemplateValues, escape: (value: string) => string): string {
  return text.replace(TOKEN, (whole, name: string) => (Object.hasOwn(values, name) ? escape(values[name]!) : whole));
}

/** Checks a URL template: https, and no placeholder before the path. */
export function checkUrlTemplate(template: string, known: readonly string[] = PLACEHOLDERS, what = 'lookup URL'): string | undefined {
  const match = /^https:\/\/([^/?#]*)/i.exec(template.trim());
  if (!match) return `Enter the ${what}, starting with https://`;
  if (/[{}]/.test(match[1] as string)) return 'Placeholders may appear in the path and query of the URL, not in its host.';
  const unknown = unknownPlaceholders(template, known);
  if (unknown.length > 0) return unknownMessage(unknown, known);
  return undefined;
}

export function unknownMessage(names: string[], known: readonly string[] = PLACEHOLDERS): string {
  return `Unknown placeholder {${names[0]}}: use ${known.map((p) => `{${p}}`).join(', ')}.`;
}

export interface QueryLine {
  name: string;
  value: string;
}

export interface HeaderLine {
  name: string;
  value: string;
}

/** `name=value` lines (blank lines skipped). */
export function parseQueryLines(text: string): QueryLine[] {
  return lines(text).map((line) => {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new TemplateError(`Query parameter line "${line}" must look like name=value.`);
    return { name: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() };
  });
}

/** `Name: value` lines (blank lines skipped); reserved and malformed names refused. */
export function parseHeaderLines(text: string): HeaderLine[] {
  return lines(text).map((line) => {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!HEADER_NAME.test(name)) throw new TemplateError(`Header line "${line}" must look like Name: value.`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new TemplateError(`The ${name} header is set by the request itself and cannot be given.`);
    return { name, value: line.slice(colon + 1).trim() };
  });
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}

/** encodeURIComponent plus ! ' ( ) *, which it leaves alone but query languages care about. */
export function encodeStrict(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function renderUrl(template: string, query: QueryLine[], values: TemplateValues): URL {
  const url = new URL(fill(template.trim(), values, encodeStrict));
  const extra = query.map((q) => `${encodeStrict(fill(q.name, values, (v) => v))}=${encodeStrict(fill(q.value, values, (v) => v))}`);
  if (extra.length > 0) url.search = url.search ? `${url.search}&${extra.join('&')}` : `?${extra.join('&')}`;
  return url;
}

export function renderHeaders(headers: HeaderLine[], values: TemplateValues): Record<string, string> {
  // eslint-disable-next-line no-control-regex
  const clean = (v: string) => v.replace(/[\x00-\x1f\x7f]/g, '');
  return Object.fromEntries(headers.map((h) => [h.name, fill(h.value, values, clean)]));
}

/** Parses a JSON body template once (throws TemplateError naming the problem). */
export function parseBodyTemplate(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TemplateError(`The body template is not valid JSON (${(err as Error).message}); put placeholders inside quotes, e.g. {"phone": "{e164}"}.`);
  }
}

/** The body with placeholders filled inside strings: JSON.stringify does all the escaping. */
export function renderBody(template: unknown, values: TemplateValues): string {
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return fill(node, values, (v) => v);
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [fill(k, values, (x) => x), walk(v)]));
    }
    return node;
  };
  return JSON.stringify(walk(template));
}
