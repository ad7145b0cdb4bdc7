/**
 * SuiteCRM (crm-apis.md §7): one definition, two protocols chosen by the `apiVersion` setting.
 * - V8 JSON:API (7.10+ and 8.x, default, in this file): OAuth2 password grant at
 *   `{site}/Api/access_token` (7.x) or `{site}/legacy/Api/access_token` (8.x); "auto" tries 7.x
 *   first and keeps whichever answers. V8 filters only match exactly, and `filter[operator]=or`
 *   also ORs in the hidden `deleted = 0` term (so it returns every record): each phone field and
 *   each stored format the caller may have (up to 10) gets its own AND request, at most 8 in flight.
 * - Legacy REST v4_1 (suitecrm-v4.ts): `login` with md5(password), `get_entry_list` with a SQL
 *   WHERE that strips punctuation with REPLACE and matches `LIKE '%{last digits}'`.
 * This file also holds what both share: settings, phone columns, re-check and the pick rule.
 *
 * Several matches: the most recently modified (date_modified), then the lowest id.
 */
import { z } from 'zod';
import { isSamePhone, phoneVariants, type PhoneVariants } from '../domain/phone';
import { isHttpsUrl, regionField, regionSchema } from './common-settings';
import { runConnectionTest, sampleRequest } from './connection-test';
import type { LookupRequest, LookupResult } from './connector';
import { CrmError } from './crm-error';
import { fieldValueToText } from './field-value';
import type { HttpClient } from './http-client';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from './integration';
import { pickMostRecent } from './record-pick';
import { requiredCredentials, sessionKey } from './session-key';
import { SuiteCrmV4Protocol } from './suitecrm-v4';
import type { CachedToken } from './token-cache';
import { lookupResult, requestJson, withSession } from './vendor-call';

export const SUITECRM = 'SuiteCRM';
/** Phone columns per module, in both APIs (fax left out). */
export const SUITECRM_PHONE_FIELDS: Record<string, string[]> = {
  Contacts: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other'],
  Leads: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other'],
  Prospects: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other'],
  Accounts: ['phone_office', 'phone_alternate'],
};
export const META_LIMITS = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };
const MAX_VARIANTS = 10;
const MAX_IN_FLIGHT = 8;

/** What a protocol needs to search one module for the caller. */
export interface SuiteCrmSearch {
  module: string;
  field: string;
  phoneFields: string[];
  phone: PhoneVariants;
  signal: AbortSignal;
}

/** A protocol speaks its API; the connector re-checks, picks and caches sessions. */
export interface SuiteCrmProtocol<S extends CachedToken> {
  login(credentials: Credentials, signal: AbortSignal): Promise<S>;
  /** Candidate records: id, date_modified, the field and the phone fields, each as returned. */
  search(session: S, search: SuiteCrmSearch): Promise<Array<Record<string, unknown>>>;
  listModules(session: S, signal: AbortSignal): Promise<string[]>;
  listFields(session: S, module: string, signal: AbortSignal): Promise<CrmField[]>;
}

const httpsSite = z.string({ error: 'Enter the SuiteCRM address, starting with https://.' }).trim().refine(isHttpsUrl, { message: 'Enter the SuiteCRM address, starting with https:// (e.g. https://crm.example.com).' });
export const suitecrmSchema = z
  .object({
    site: httpsSite.transform((url) => url.replace(/\/+$/, '')),
    apiVersion: z.enum(['v8', 'v4_1'], { error: 'Choose the API: V8 (SuiteCRM 7.10+ and 8) or legacy v4_1.' }).default('v8'),
    apiPath: z.enum(['auto', 'Api', 'legacy/Api'], { error: 'Choose where the V8 API lives: auto, Api (7.x) or legacy/Api (8.x).' }).default('auto'),
    clientId: z.string().trim().default(''),
    clientSecret: z.string().trim().default(''),
    username: z.string().trim().default(''),
    password: z.string().default(''),
    region: regionSchema,
  })
  .superRefine((s, ctx) => {
    if (s.apiVersion !== 'v8') return;
    if (!s.clientId) ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'The V8 API needs the OAuth2 client id (Admin > OAuth2 Clients and Tokens).' });
    if (!s.clientSecret) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'The V8 API needs the OAuth2 client secret.' });
  });
export type SuiteCrmSettings = z.infer<typeof suitecrmSchema>;

class SuiteCrmConnector<S extends CachedToken> implements IntegrationConnector {
  constructor(private readonly settings: SuiteCrmSettings, private readonly services: ConnectorServices, private readonly protocol: SuiteCrmProtocol<S>) {}

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(SUITECRM, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(SUITECRM, signal, async () => {
      const result = await this.find(sampleRequest('Contacts', 'id', credentials), signal);
      return `Signed in to SuiteCRM (${this.settings.apiVersion}) and searched Contacts for a sample number (${result.kind === 'value' ? 'a record matched' : 'no match, as expected'}).`;
    });
  }

  async listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    const modules = await this.withSession(credentials, signal, Date.now() + 10_000, (session) => this.protocol.listModules(session, signal));
    // Only modules whose phone columns are known can be a rule's module.
    return modules.filter((module) => module in SUITECRM_PHONE_FIELDS);
  }

  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const name = checkName(module, 'module');
    return this.withSession(credentials, signal, Date.now() + 10_000, (session) => this.protocol.listFields(session, name, signal));
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national.length < 5) return { kind: 'not_found' };
    const module = checkModule(request.module || 'Contacts');
    const field = checkName(request.fieldName, 'field');
    const phoneFields = SUITECRM_PHONE_FIELDS[module]!;
    return this.withSession(request.credentials, signal, request.deadlineAt, async (session) => {
      const records = await this.protocol.search(session, { module, field, phoneFields, phone, signal });
      const matches = records.filter((record) => phoneFields.some((name) => typeof record[name] === 'string' && isSamePhone(record[name], phone)));
      const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: modified(record.date_modified), id: String(record.id) })));
      if (!best) return { kind: 'not_found' };
      return { kind: 'value', value: fieldValueToText(best.record[field]), matches: matches.length };
    });
  }

  private async withSession<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (session: S) => Promise<R>): Promise<R> {
    const creds = requiredCredentials(credentials, this.settings, "SuiteCRM needs a user name and password: set them on the rule or as the integration's defaults.");
    const key = sessionKey('suitecrm', this.settings.site, [this.settings.apiVersion, this.settings.clientId], [creds.username, creds.password, this.settings.clientSecret]);
    return withSession({ tokens: this.services.tokens, key, login: (_previous, loginSignal) => this.protocol.login(creds, loginSignal), signal, deadlineAt }, attempt);
  }
}

interface V8Session extends CachedToken {
  accessToken: string;
  /** `{site}/Api` or `{site}/legacy/Api`, whichever issued the token. */
  apiBase: string;
}

const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive().default(3600) });
const recordsSchema = z.object({ data: z.array(z.object({ id: z.string(), attributes: z.record(z.string(), z.unknown()).default({}) })).default([]) });
const metaSchema = z.object({ data: z.object({ attributes: z.record(z.string(), z.unknown()) }) });

/** The V8 JSON:API: Bearer token, one exact-match request per phone field and stored format. */
class SuiteCrmV8Protocol implements SuiteCrmProtocol<V8Session> {
  constructor(private readonly settings: SuiteCrmSettings, private readonly http: HttpClient) {}

  async login(credentials: Credentials, signal: AbortSignal): Promise<V8Session> {
    const paths = this.settings.apiPath === 'auto' ? ['Api', 'legacy/Api'] : [this.settings.apiPath];
    const body = new URLSearchParams({ grant_type: 'password', client_id: this.settings.clientId, client_secret: this.settings.clientSecret, username: credentials.username, password: credentials.password });
    for (const [index, path] of paths.entries()) {
      const apiBase = `${this.settings.site}/${path}`;
      const what = `${SUITECRM} token endpoint`;
      try {
        const res = await requestJson(this.http, { method: 'POST', url: `${apiBase}/access_token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString(), signal, what }, { accept: [400, 401] });
        if (res.status === 400 || res.status === 401) throw tokenRefusal(res.body, what);
        const token = tokenSchema.safeParse(res.body);
        if (!token.success) throw new CrmError('BAD_RESPONSE', `${what} answered without an access token.`);
        return { accessToken: token.data.access_token, apiBase, expiresAt: Date.now() + token.data.expires_in * 1000 };
      } catch (err) {
        // Auto: a 404 or a page that is not JSON means "not this layout"; try the 8.x one.
        const wrongPlace = err instanceof CrmError && (err.code === 'NOT_FOUND_URL' || err.code === 'BAD_RESPONSE');
        if (!wrongPlace || index === paths.length - 1) throw err;
      }
    }
    throw new CrmError('CONFIG', 'No SuiteCRM API location to try.');
  }

  async search(session: V8Session, search: SuiteCrmSearch): Promise<Array<Record<string, unknown>>> {
    const { module, field, phoneFields, phone, signal } = search;
    const columns = [...new Set([field, 'date_modified', ...phoneFields])].join(',');
    const variants = phone.exactForms.slice(0, MAX_VARIANTS);
    const requests = phoneFields.flatMap((phoneField) => variants.map((variant) => new URLSearchParams({ [`fields[${module}]`]: columns, [`filter[${phoneField}][eq]`]: variant, 'page[size]': '5', 'page[number]': '1' })));
    const pages = await inBatches(requests, MAX_IN_FLIGHT, (query) => this.get(session, `V8/module/${module}?${query}`, recordsSchema, signal));
    const byId = new Map<string, Record<string, unknown>>();
    for (const page of pages) for (const record of page.data) byId.set(record.id, { ...record.attributes, id: record.id });
    return [...byId.values()];
  }

  async listModules(session: V8Session, signal: AbortSignal): Promise<string[]> {
    return Object.keys((await this.get(session, 'V8/meta/modules', metaSchema, signal, META_LIMITS)).data.attributes);
  }

  async listFields(session: V8Session, module: string, signal: AbortSignal): Promise<CrmField[]> {
    const fields = (await this.get(session, `V8/meta/fields/${module}`, metaSchema, signal, META_LIMITS)).data.attributes;
    return Object.entries(fields).map(([name, def]) => ({ name, label: name, type: typeof (def as { type?: unknown })?.type === 'string' ? (def as { type: string }).type : '' }));
  }

  private async get<T>(session: V8Session, path: string, schema: z.ZodType<T>, signal: AbortSignal, limits = {}): Promise<T> {
    const headers = { authorization: `Bearer ${session.accessToken}`, accept: 'application/vnd.api+json', 'content-type': 'application/vnd.api+json' };
    const res = await requestJson(this.http, { method: 'GET', url: `${session.apiBase}/${path}`, headers, signal, what: SUITECRM, ...limits }, { schema });
    if (res.body === null) throw new CrmError('BAD_RESPONSE', `${SUITECRM} answered ${path} with an empty body.`);
    return res.body;
  }
}

/** league/oauth2-server answers 400/401 with {error, error_description|message, hint}. */
function tokenRefusal(body: unknown, what: string): CrmError {
  const parsed = z.object({ error: z.string().optional(), error_description: z.string().optional(), message: z.string().optional() }).safeParse(body);
  const detail = parsed.success ? parsed.data.error_description ?? parsed.data.message ?? parsed.data.error : undefined;
  const hint = parsed.success && parsed.data.error === 'invalid_client' ? 'check the OAuth2 client id and secret' : 'check the user name and password';
  return new CrmError('AUTH', `${what} refused the sign-in (${detail ?? 'no reason given'}): ${hint}.`);
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

export function checkName(name: string, what: 'module' | 'field'): string {
  const trimmed = name.trim();
  if (/^[A-Za-z0-9_]{1,64}$/.test(trimmed)) return trimmed;
  throw new CrmError('CONFIG', `"${name}" is not a SuiteCRM ${what} name (letters, digits and underscores only).`);
}

function checkModule(module: string): string {
  const name = checkName(module, 'module');
  if (!(name in SUITECRM_PHONE_FIELDS)) throw new CrmError('CONFIG', `SuiteCRM module "${name}" cannot be searched by phone here: use ${Object.keys(SUITECRM_PHONE_FIELDS).join(', ')}.`);
  return name;
}

function modified(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value.includes('T') ? value : value.replace(' ', 'T')) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

export const suitecrmDefinition: CrmDefinition<SuiteCrmSettings> = {
  kind: 'suitecrm',
  label: 'SuiteCRM',
  credentialsHelp: 'Username: the SuiteCRM user name. Password: that user\'s password (V8 also uses the OAuth2 client set on the integration).',
  modules: ['Contacts', 'Leads', 'Accounts', 'Prospects'],
  fields: [
    { name: 'site', label: 'SuiteCRM address', help: 'The address you log in at, e.g. https://crm.example.com.', type: 'url', secret: false, required: true, placeholder: 'https://crm.example.com' },
    { name: 'apiVersion', label: 'API', help: 'V8 for SuiteCRM 7.10 and later (needs an OAuth2 client); v4_1 for older 7.x sites.', type: 'select', secret: false, required: true, defaultValue: 'v8', options: [{ value: 'v8', label: 'V8 (JSON:API)' }, { value: 'v4_1', label: 'Legacy REST v4_1' }] },
    { name: 'apiPath', label: 'V8 API location', help: 'Api for SuiteCRM 7.x, legacy/Api for 8.x; auto tries both.', type: 'select', secret: false, required: false, defaultValue: 'auto', options: [{ value: 'auto', label: 'Auto' }, { value: 'Api', label: 'Api (7.x)' }, { value: 'legacy/Api', label: 'legacy/Api (8.x)' }] },
    { name: 'clientId', label: 'OAuth2 client id', help: 'V8 only: the id of a password-grant client from Admin > OAuth2 Clients and Tokens.', type: 'text', secret: false, required: false },
    { name: 'clientSecret', label: 'OAuth2 client secret', help: 'V8 only: that client\'s secret.', type: 'secret', secret: true, required: false },
    { name: 'username', label: 'Default user name', help: 'Used when a rule leaves CRM Username empty.', type: 'text', secret: false, required: false },
    { name: 'password', label: 'Default password', help: 'Used when a rule leaves CRM Password empty.', type: 'secret', secret: true, required: false },
    regionField,
  ],
  schema: suitecrmSchema,
  create: (settings, services) =>
    settings.apiVersion === 'v4_1'
      ? new SuiteCrmConnector(settings, services, new SuiteCrmV4Protocol(settings.site, services.http))
      : new SuiteCrmConnector(settings, services, new SuiteCrmV8Protocol(settings, services.http)),
};
