/**
 * The Custom CRM: a rule whose CRM To Use is "Custom CRM" asks the customer's own middleware for
 * the value, over HTTPS, with no login and no phone search of ours: the middleware does both.
 *
 * The contract, for an administrator writing that middleware:
 *
 * Request (one per call, sent while the caller waits: answer within the rule's deadline, 3 s by default)
 * - HTTP Method POST = No: `GET {Custom URL}?field_name=...&dtmf=...&caller_id=...&did=...`
 *   The URL's own query parameters are kept as written and ours are appended, form-URL-encoded
 *   (`+` in a caller ID arrives as %2B, a space as +). If the URL already has a parameter named
 *   field_name, dtmf, caller_id or did, ours replaces it, so each name arrives exactly once.
 * - HTTP Method POST = Yes: `POST {Custom URL}` (its own query kept, none of ours added) with
 *   `Content-Type: application/json` and the body `{"field_name":"...","dtmf":"...","caller_id":"...","did":"..."}`.
 * - field_name: the rule's CRM Field Name. dtmf: digits the caller typed at the greeting ('' without
 *   one). caller_id: the caller's number as the PBX received it ('' when unknown: the request is
 *   still sent, so a lookup on the digits alone works). did: the number dialled ('' when unknown).
 * - `Accept: application/json, text/plain;q=0.9`, then each Custom HTTP Header as given (e.g.
 *   `Authorization: Bearer ...`; an Accept header of yours replaces ours). Host, Content-Length,
 *   Content-Type, Transfer-Encoding, Connection, Keep-Alive, Upgrade, Expect, TE, Trailer and
 *   Proxy-Connection cannot be set: the URL and the plugin decide them, and a rule that tries is
 *   refused (CONFIG) rather than sent. Header names are HTTP tokens; values have no line breaks,
 *   NUL or other control characters.
 * - https:// only, with a certificate valid for the host name from a public CA (or the host's
 *   private CA). Connections are kept alive and reused between calls. Redirects are not followed.
 *
 * Answer (UTF-8, at most 64 KiB)
 * - 2xx with `Content-Type: text/plain` (any text/* but text/html) or no Content-Type: the body,
 *   trimmed, is the value.
 * - 2xx with `Content-Type: application/json` (or text/json, or any +json type):
 *     {"found": false}                      -> no record for this caller (the rule's "not found")
 *     {"value": ...}                        -> the value ("value" is read first)
 *     {"<field_name>": ...}                 -> the value, e.g. {"Account_Name": "ACME"}
 *     a bare string, number, boolean, array -> the value ("Gold", 42, true; arrays join with "; ")
 *     null, {"value": null}                 -> the empty value ''
 *   Values may be objects like {"name": "ACME", "id": 7} (the name is used). Send ids longer than
 *   15 digits as strings: JSON numbers lose precision beyond that. Any other object is an error
 *   (BAD_RESPONSE).
 * - 2xx with an empty body, or 204: the empty value ''.
 * - 404 with the JSON body {"found": false} (and a JSON Content-Type): no record, as above. Any
 *   other 404 (a web server's page) means the URL is wrong: error NOT_FOUND_URL.
 * - 401 AUTH, 403 FORBIDDEN, 429 RATE_LIMITED (Retry-After reported, not waited for), any other
 *   status HTTP_ERROR; a redirect, an HTML page, another content type, or invalid JSON BAD_RESPONSE.
 *   Every error sends the call to the rule's default destination, as does a missed deadline.
 * Rows see "no record" as the empty value too; the call's decision log records them apart
 * (NOT_FOUND vs EMPTY_VALUE), so answer {"found": false} when the caller is unknown to you.
 */
import { z } from 'zod';
import type { CrmConnector, LookupRequest, LookupResult } from '../connector';
import { CrmError, errorForStatus } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { HttpClient, HttpRequest, HttpResponse } from '../shared/http-client';
import { lookupResult, parseJsonBody, retryAfterMs } from '../shared/vendor-call';
import type { CustomHeader } from '../../domain/rule';

const WHAT = 'The Custom CRM';
/** The HttpClient's own default; a rule's deadline (1..10 s) normally ends the request first. */
const MAX_REQUEST_MS = 10_000;
const ACCEPT = 'application/json, text/plain;q=0.9';
const OUR_PARAMS = ['field_name', 'dtmf', 'caller_id', 'did'] as const;

/** Headers the request itself decides: the URL, the body, or the connection pool. */
const RESERVED_HEADERS = new Map<string, string>([
  ['host', 'the host comes from the Custom URL'],
  ['content-length', 'the length comes from the body'],
  ['content-type', 'a POST body is always JSON (application/json) and a GET has none'],
  ['transfer-encoding', 'the length comes from the body'],
  ['connection', 'the plugin keeps connections alive itself'],
  ['keep-alive', 'the plugin keeps connections alive itself'],
  ['proxy-connection', 'the plugin keeps connections alive itself'],
  ['upgrade', 'the connection is not upgraded'],
  ['te', 'the transfer coding is not negotiated'],
  ['trailer', 'no trailers are sent'],
  ['expect', 'the body is sent at once'],
]);
/** RFC 9110 token: what a header name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 field-value octets: tab, printable ASCII, Latin-1; never CR, LF, NUL or controls. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export interface CustomCrmSettings {
  url: string;
  post: boolean;
  headers: CustomHeader[];
}

function checkUrl(url: string, ctx: z.RefinementCtx): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'Enter the Custom URL, starting with https://' });
    return;
  }
  if (parsed.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `The Custom URL must start with https:// (got ${parsed.protocol}//).` });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // They would be dropped silently (and shown wherever the URL is): a header carries them instead.
    ctx.addIssue({ code: 'custom', message: 'The Custom URL must not contain a user name or password: send them in a Custom HTTP Header (e.g. Authorization).' });
  }
}

function checkHeader(header: CustomHeader, ctx: z.RefinementCtx): void {
  // Messages name the header, never its value: the value may be a secret.
  const name = header.name;
  if (!TOKEN.test(name)) {
    ctx.addIssue({ code: 'custom', message: name === '' ? 'Enter a name for each Custom HTTP Header.' : `Custom HTTP Header ${JSON.stringify(name)}: a name may only use letters, digits and !#$%&'*+-.^_\`|~ (no spaces or colons).` });
    return;
  }
  const reserved = RESERVED_HEADERS.get(name.toLowerCase());
  if (reserved !== undefined) ctx.addIssue({ code: 'custom', message: `Custom HTTP Header ${name} cannot be set: ${reserved}.` });
  if (!FIELD_VALUE.test(header.value)) {
    ctx.addIssue({ code: 'custom', message: `Custom HTTP Header ${name}: the value contains a line break, NUL or another control character (or a character outside Latin-1); remove it.` });
  }
}

function checkDuplicates(headers: CustomHeader[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const { name } of headers) {
    const key = name.toLowerCase();
    if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `Custom HTTP Header ${name} is given twice; keep one.` });
    seen.add(key);
  }
}

/** The rule form's Custom CRM settings, checked as the connector needs them (the form uses it too). */
export const customCrmSettingsSchema = z.object({
  url: z.string().trim().superRefine(checkUrl),
  post: z.boolean(),
  headers: z
    .array(z.object({ name: z.string(), value: z.string(), secret: z.boolean() }).superRefine(checkHeader))
    .superRefine(checkDuplicates),
});

/**
 * The GET URL: the configured URL's query kept byte for byte, then ours form-URL-encoded. A
 * parameter of the URL with one of our names is dropped, so the middleware never sees two.
 */
export function customCrmGetUrl(base: string | URL, params: LookupParams): URL {
  return new URL(`${customCrmGetPrefix(base)}${formEncoded(params)}`);
}

type LookupParams = Record<(typeof OUR_PARAMS)[number], string>;

/** The GET URL up to our parameters: the URL without its fragment or our names, ending in ? or &. */
function customCrmGetPrefix(base: string | URL): string {
  const url = new URL(base);
  url.hash = '';
  const ours = new Set<string>(OUR_PARAMS);
  const kept = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && !ours.has(new URLSearchParams(pair).keys().next().value ?? ''));
  url.search = '';
  return `${url.href}?${kept.map((pair) => `${pair}&`).join('')}`;
}

/** Our four parameters as URLSearchParams serializes them (application/x-www-form-urlencoded). */
function formEncoded(params: LookupParams): string {
  return `field_name=${formComponent(params.field_name)}&dtmf=${formComponent(params.dtmf)}&caller_id=${formComponent(params.caller_id)}&did=${formComponent(params.did)}`;
}

/** encodeURIComponent leaves !'()~ as they are and writes a space as %20; the form encoding does neither. */
function formComponent(value: string): string {
  return encodeURIComponent(value).replace(/%20|[!'()~]/g, (c) => (c === '%20' ? '+' : `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
}

/** What every lookup of one rule sends alike, worked out once: where, and which headers. */
interface PreparedRequest {
  /** GET: the URL up to our parameters. POST: the whole URL. */
  url: string;
  headers: Record<string, string>;
}

function prepareRequest(settings: CustomCrmSettings): PreparedRequest {
  const custom = Object.fromEntries(settings.headers.map((h) => [h.name, h.value]));
  const overridesAccept = settings.headers.some((h) => h.name.toLowerCase() === 'accept');
  const headers: Record<string, string> = { ...(overridesAccept ? {} : { accept: ACCEPT }), ...custom };
  if (!settings.post) return { url: customCrmGetPrefix(settings.url), headers };
  const url = new URL(settings.url);
  url.hash = '';
  return { url: url.href, headers: { ...headers, 'content-type': 'application/json' } };
}

/** The request for one lookup (no I/O): method, URL, headers and body exactly as the contract says. */
export function customCrmRequest(settings: CustomCrmSettings, request: LookupRequest, signal: AbortSignal, prepared = prepareRequest(settings)): HttpRequest {
  const params = { field_name: request.fieldName, dtmf: request.dtmf, caller_id: request.callerId, did: request.did };
  const remaining = request.deadlineAt - Date.now();
  const timeoutMs = Number.isFinite(remaining) ? Math.min(Math.max(1, remaining), MAX_REQUEST_MS) : MAX_REQUEST_MS;
  if (!settings.post) return { signal, timeoutMs, what: WHAT, method: 'GET', url: `${prepared.url}${formEncoded(params)}`, headers: prepared.headers };
  return { signal, timeoutMs, what: WHAT, method: 'POST', url: prepared.url, headers: prepared.headers, body: JSON.stringify(params) };
}

/** Reads the middleware's answer (pure) as the contract says; throws CrmError for anything else. */
export function readCustomCrmAnswer(res: HttpResponse, fieldName: string): LookupResult {
  const type = mediaType(res.headers['content-type']);
  const json = isJsonType(type);
  if (res.status === 404) {
    if (json && isFoundFalse(tryParse(res.body))) return { kind: 'not_found' };
    throw new CrmError('NOT_FOUND_URL', `${WHAT} answered 404: check the Custom URL (for a caller with no record, answer {"found": false}).`, { status: 404 });
  }
  if (res.status < 200 || res.status >= 300) throw errorForStatus(res.status, WHAT, retryAfterMs(res));
  if (res.status === 204 || res.body.trim() === '') return { kind: 'value', value: '' };
  if (json) return fromJson(parseJsonBody({ ...res, body: withoutBom(res.body) }, WHAT), fieldName);
  if (type === '' || (type.startsWith('text/') && type !== 'text/html')) return { kind: 'value', value: res.body.trim() };
  // An HTML page is a proxy's or a framework's error page far more often than a value.
  throw new CrmError('BAD_RESPONSE', `${WHAT} answered with Content-Type ${type}; answer text/plain or application/json.`, { status: res.status });
}

function fromJson(body: unknown, fieldName: string): LookupResult {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { kind: 'value', value: fieldValueToText(body) };
  const record = body as Record<string, unknown>;
  if (record.found === false) return { kind: 'not_found' };
  if (Object.hasOwn(record, 'value')) return { kind: 'value', value: fieldValueToText(record.value) };
  if (Object.hasOwn(record, fieldName)) return { kind: 'value', value: fieldValueToText(record[fieldName]) };
  throw new CrmError('BAD_RESPONSE', `${WHAT} answered a JSON object without "value" or ${JSON.stringify(fieldName)} (or "found": false).`);
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

function tryParse(body: string): unknown {
  try {
    return JSON.parse(withoutBom(body));
  } catch {
    return undefined;
  }
}

function isFoundFalse(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as Record<string, unknown>).found === false;
}

/** Some middleware (PHP, .NET) starts UTF-8 with a byte order mark, which JSON.parse refuses. */
function withoutBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** Asks the customer's middleware for the rule's field; one HTTPS request per lookup, never a throw. */
export class CustomCrmConnector implements CrmConnector {
  /** The settings as checked once, or why they cannot be used (each lookup reports it, sending nothing). */
  private readonly settings: CustomCrmSettings | CrmError;
  private readonly prepared: PreparedRequest | undefined;

  constructor(settings: CustomCrmSettings, private readonly http: HttpClient) {
    const checked = customCrmSettingsSchema.safeParse(settings);
    this.settings = checked.success
      ? checked.data
      : new CrmError('CONFIG', checked.error.issues.map((issue) => issue.message).join(' '));
    if (checked.success) this.prepared = prepareRequest(checked.data);
  }

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, async () => {
      if (this.settings instanceof CrmError) throw this.settings;
      const res = await this.http.request(customCrmRequest(this.settings, request, signal, this.prepared));
      return readCustomCrmAnswer(res, request.fieldName);
    });
  }
}
