/**
 * SuiteCRM's V8 JSON:API (7.10+ and 8.x): OAuth2 password grant at `{site}/Api/access_token`
 * (7.x) or `{site}/legacy/Api/access_token` (8.x); "auto" tries 7.x first and keeps whichever
 * answers.
 *
 * How a lookup filters depends on the server (`Api/V8/JsonApi/Repository/Filter.php`):
 * - 7.12.5 and later ("or"): `like` exists and `filter[operator]=or` builds `(a OR b) AND
 *   deleted = '0'` (fix #8366), so ONE request searches every phone field:
 *   `filter[operator]=or&filter[phone_work][like]=%5%5%5%0%0%0%5%5%5%5%&filter[phone_mobile][like]=...`.
 * - 7.11.19 to 7.12.4 ("like"): `like` exists (commit 25fbab204b) but `or` also ORs in the
 *   hidden `deleted = 0` term and returns every record, so one AND request per phone field.
 * - Before 7.11.19 ("exact"): only `eq`, so one request per phone field and stored format.
 * The `like` pattern puts `%` between the last ten digits (and at both ends), so any punctuation
 * people store between digits, and an extension after them, matches; every number is re-checked.
 *
 * Which one a server is, is found out, not configured: one probe per integration, after the
 * first sign-in, `filter[operator]=or&filter[id][like]={an id no record has}&page[size]=1`.
 * A 400 "Filter operator like is invalid" means "exact"; records in the answer mean the OR trap
 * ("like"); no record, while the module does hold records (one more request), means "or". An
 * empty module proves nothing: that lookup uses "like" and the next one probes again.
 *
 * V8 writes date_modified in the user's format, rounded to the minute, so every request sorts
 * on the full-precision column (`sort=-date_modified`) and the records come back in that order:
 * their rank is the finer clock that breaks a tie within a minute.
 */
import { z } from 'zod';
import { CrmError, errorForStatus } from '../shared/crm-error';
import type { HttpClient, HttpResponse } from '../shared/http-client';
import type { CrmField, Credentials } from '../integration';
import type { CachedToken } from '../shared/token-cache';
import { parseJsonBody, retryAfterMs } from '../shared/vendor-call';
import { OWNER_READ } from '../owner-lookup';
import { v8UserAnswer, v8UserEmail, v8UserPath } from './owners';
import { META_LIMITS, SUITECRM, type SuiteCrmProtocol, type SuiteCrmSearch } from './protocol';
import type { SuiteCrmSettings } from './settings';

const MAX_VARIANTS = 10;
const MAX_IN_FLIGHT = 8;
const PAGE_SIZE = '10';
/** An id no record has (SuiteCRM ids are UUIDs). */
const PROBE_ID = 'pbx-crm-routing-probe';

/** How the server filters: see the header comment. */
export type V8FilterMode = 'or' | 'like' | 'exact';

interface V8Session extends CachedToken {
  accessToken: string;
  /** `{site}/Api` or `{site}/legacy/Api`, whichever issued the token. */
  apiBase: string;
}

const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive().default(3600) });
const recordsSchema = z.object({ data: z.array(z.object({ id: z.string(), attributes: z.record(z.string(), z.unknown()).default({}) })).default([]) });
const metaSchema = z.object({ data: z.object({ attributes: z.record(z.string(), z.unknown()) }) });
const oauthErrorSchema = z.object({ error: z.string().optional(), error_description: z.string().optional(), message: z.string().optional() });

export class SuiteCrmV8Protocol implements SuiteCrmProtocol<V8Session> {
  private mode?: Promise<V8FilterMode>;

  constructor(private readonly settings: SuiteCrmSettings, private readonly http: HttpClient) {}

  async login(credentials: Credentials, signal: AbortSignal): Promise<V8Session> {
    const paths = this.settings.apiPath === 'auto' ? ['Api', 'legacy/Api'] : [this.settings.apiPath];
    const body = new URLSearchParams({ grant_type: 'password', client_id: this.settings.clientId, client_secret: this.settings.clientSecret, username: credentials.username, password: credentials.password });
    for (const [index, path] of paths.entries()) {
      const apiBase = `${this.settings.site}/${path}`;
      try {
        const res = await this.http.request({
          method: 'POST', url: `${apiBase}/access_token`, body: body.toString(), signal, what: TOKEN_ENDPOINT,
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        });
        const token = readToken(res);
        return { accessToken: token.access_token, apiBase, expiresAt: Date.now() + token.expires_in * 1000 };
      } catch (err) {
        // Auto: a 404 or a page that is not JSON means "not this layout"; try the 8.x one.
        const wrongPlace = err instanceof CrmError && (err.code === 'NOT_FOUND_URL' || err.code === 'BAD_RESPONSE');
        if (!wrongPlace || index === paths.length - 1) throw err;
      }
    }
    throw new CrmError('CONFIG', 'No SuiteCRM API location to try.');
  }

  async search(session: V8Session, search: SuiteCrmSearch): Promise<Array<Record<string, unknown>>> {
    const mode = await this.filterMode(session, search);
    const { module, field, phoneFields, phone, signal } = search;
    const base = { [`fields[${module}]`]: [...new Set([field, 'date_modified', ...phoneFields])].join(','), sort: '-date_modified', 'page[number]': '1' };
    const pattern = likePattern(phone.national);
    const queries: Array<Record<string, string>> =
      mode === 'or' ? [{ ...base, 'filter[operator]': 'or', ...Object.fromEntries(phoneFields.map((f) => [`filter[${f}][like]`, pattern])), 'page[size]': PAGE_SIZE }]
      : mode === 'like' ? phoneFields.map((f) => ({ ...base, [`filter[${f}][like]`]: pattern, 'page[size]': PAGE_SIZE }))
      : phoneFields.flatMap((f) => phone.exactForms.slice(0, MAX_VARIANTS).map((variant) => ({ ...base, [`filter[${f}][eq]`]: variant, 'page[size]': '5' })));
    const pages = await inBatches(queries, MAX_IN_FLIGHT, (query) => this.get(session, `V8/module/${module}?${new URLSearchParams(query)}`, recordsSchema, signal));
    // Each answer is sorted newest first on the full-precision column: a record's best place is its rank.
    const byId = new Map<string, Record<string, unknown>>();
    for (const page of pages) {
      page.data.forEach((record, rank) => {
        const known = byId.get(record.id);
        if (!known || (known.rank as number) > rank) byId.set(record.id, { ...record.attributes, id: record.id, rank });
      });
    }
    return [...byId.values()];
  }

  async ownerEmail(session: V8Session, userId: string, signal: AbortSignal): Promise<string | null> {
    try {
      return v8UserEmail(await this.get(session, v8UserPath(userId), v8UserAnswer, signal, OWNER_READ));
    } catch (err) {
      // SuiteCRM answers an id no user has with 400 "... is not found" (getBeanSafe's DomainException) or 404.
      if (err instanceof CrmError && (err.code === 'NOT_FOUND_URL' || (err.details.status === 400 && /not found/i.test(err.message)))) return null;
      throw err;
    }
  }

  /** What Test connection says of the lookup, once the filter mode is known. */
  async describe(): Promise<string> {
    const mode = await this.mode?.catch(() => undefined);
    if (mode === 'or') return 'V8, one request per lookup (filter[operator]=or with like: SuiteCRM 7.12.5 or later)';
    if (mode === 'like') return 'V8, one request per phone field (like without or: SuiteCRM 7.11.19 to 7.12.4, or a module without records yet)';
    if (mode === 'exact') return 'V8, one request per phone field and written form (no like: SuiteCRM before 7.11.19)';
    return 'V8';
  }

  async listModules(session: V8Session, signal: AbortSignal): Promise<string[]> {
    return Object.keys((await this.get(session, 'V8/meta/modules', metaSchema, signal, META_LIMITS)).data.attributes);
  }

  async listFields(session: V8Session, module: string, signal: AbortSignal): Promise<CrmField[]> {
    const fields = (await this.get(session, `V8/meta/fields/${module}`, metaSchema, signal, META_LIMITS)).data.attributes;
    return Object.entries(fields).map(([name, def]) => ({ name, label: name, type: typeof (def as { type?: unknown })?.type === 'string' ? (def as { type: string }).type : '' }));
  }

  /** The server's filter mode, probed once per integration (an inconclusive probe is not kept). */
  private filterMode(session: V8Session, search: SuiteCrmSearch): Promise<V8FilterMode> {
    if (!this.mode) {
      const pending = this.probe(session, search.module, search.signal);
      this.mode = pending.then((found) => found ?? 'like');
      // Failed or inconclusive: ask again next time.
      pending.then((found) => { if (found === undefined) this.mode = undefined; }, () => { this.mode = undefined; });
    }
    return this.mode;
  }

  private async probe(session: V8Session, module: string, signal: AbortSignal): Promise<V8FilterMode | undefined> {
    const columns = { [`fields[${module}]`]: 'id', 'page[size]': '1', 'page[number]': '1' };
    const query = new URLSearchParams({ ...columns, 'filter[operator]': 'or', 'filter[id][like]': PROBE_ID });
    let answer;
    try {
      answer = await this.get(session, `V8/module/${module}?${query}`, recordsSchema, signal);
    } catch (err) {
      if (err instanceof CrmError && err.details.status === 400 && /operator like/i.test(err.message)) return 'exact';
      throw err;
    }
    if (answer.data.length > 0) return 'like'; // the OR trap: "id LIKE x OR deleted = 0" returned records
    const any = await this.get(session, `V8/module/${module}?${new URLSearchParams(columns)}`, recordsSchema, signal);
    return any.data.length > 0 ? 'or' : undefined;
  }

  private async get<T>(session: V8Session, path: string, schema: z.ZodType<T>, signal: AbortSignal, limits = {}): Promise<T> {
    const headers = { authorization: `Bearer ${session.accessToken}`, accept: 'application/vnd.api+json', 'content-type': 'application/vnd.api+json' };
    const res = await this.http.request({ method: 'GET', url: `${session.apiBase}/${path}`, headers, signal, what: SUITECRM, ...limits });
    if (res.status === 400) throw new CrmError('HTTP_ERROR', `${SUITECRM} refused the request (400): ${v8ErrorDetail(res.body) ?? 'no reason given'}.`, { status: 400 });
    if (res.status < 200 || res.status >= 300) throw errorForStatus(res.status, SUITECRM, retryAfterMs(res));
    const checked = parseJsonBody(res, SUITECRM, schema);
    if (checked === null) throw new CrmError('BAD_RESPONSE', `${SUITECRM} answered ${path.split('?')[0]} with an empty body.`);
    return checked;
  }
}

const TOKEN_ENDPOINT = `${SUITECRM} token endpoint`;

/**
 * The token endpoint's answer. league/oauth2-server answers a wrong client secret or grant with
 * 400/401 JSON. SuiteCRM 7 answers an unknown user name, a wrong password or an unknown client
 * id with HTTP 500 (an InvalidArgumentException shown by Slim's error handler, whose text holds
 * the password): recognised as a sign-in error, and its text is never read into a message.
 */
function readToken(res: HttpResponse): z.infer<typeof tokenSchema> {
  if (res.status === 400 || res.status === 401) {
    const parsed = oauthErrorSchema.safeParse(safeJson(res.body));
    const detail = parsed.success ? parsed.data.error_description ?? parsed.data.message ?? parsed.data.error : undefined;
    const hint = parsed.success && parsed.data.error === 'invalid_client' ? 'check the OAuth2 client id and secret' : 'check the user name and password';
    throw new CrmError('AUTH', `${TOKEN_ENDPOINT} refused the sign-in (${(detail ?? 'no reason given').slice(0, 120)}): ${hint}.`, { status: res.status });
  }
  if (res.status === 500 && isSlimSignInFailure(res.body)) {
    throw new CrmError('AUTH', `${TOKEN_ENDPOINT} refused the sign-in with HTTP 500, as SuiteCRM 7 answers an unknown user name, a wrong password or an unknown OAuth2 client id: check the user name and password, and the OAuth2 client id. (SuiteCRM's error text is not shown: it contains the password.)`, { status: 500 });
  }
  if (res.status === 429) throw errorForStatus(429, TOKEN_ENDPOINT, retryAfterMs(res));
  if (res.status >= 500) throw new CrmError('HTTP_ERROR', `${TOKEN_ENDPOINT} answered HTTP ${res.status}.`, { status: res.status });
  if (res.status === 404) throw new CrmError('NOT_FOUND_URL', `${TOKEN_ENDPOINT} answered 404: check the SuiteCRM address and the V8 API location.`, { status: 404 });
  if (res.status < 200 || res.status >= 300) throw new CrmError('HTTP_ERROR', `${TOKEN_ENDPOINT} answered HTTP ${res.status}.`, { status: res.status });
  const token = tokenSchema.safeParse(parseJsonBody(res, TOKEN_ENDPOINT));
  if (!token.success) throw new CrmError('BAD_RESPONSE', `${TOKEN_ENDPOINT} answered without an access token.`);
  return token.data;
}

/** Slim's error page for the user, password and client look-ups of the password grant. */
function isSlimSignInFailure(body: string): boolean {
  const json = z.object({ message: z.literal('Slim Application Error'), exception: z.array(z.object({ type: z.string() })).optional() }).safeParse(safeJson(body));
  if (json.success) return (json.data.exception ?? []).every((e) => /InvalidArgumentException|DomainException/.test(e.type));
  return body.includes('Slim Application Error') && /InvalidArgumentException|DomainException/.test(body);
}

/** The `detail` of a V8 error ({"errors":{"status":400,"title":null,"detail":"..."}}). */
function v8ErrorDetail(body: string): string | undefined {
  const parsed = z.object({ errors: z.object({ detail: z.string() }) }).safeParse(safeJson(body));
  return parsed.success ? parsed.data.errors.detail.slice(0, 160) : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** '%5%5%5%0%0%0%5%5%5%5%' for 5550005555: any punctuation between the digits, an extension after. */
export function likePattern(nationalDigits: string): string {
  const digits = nationalDigits.replace(/\D/g, '').slice(-10);
  return `%${digits.split('').join('%')}%`;
}

/** Runs `run` over `items` with at most `limit` in flight, none started after a failure. */
async function inBatches<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await run(items[index]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
