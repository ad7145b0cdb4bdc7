/**
 * Pipedrive, API v2 throughout (records, search and field metadata; no v1 request is left: the
 * only v1-only endpoint nearby, /v1/leadFields, is not needed because leads are not searched).
 *
 * Auth: the API token (Personal preferences > API) in the `x-api-token` header: the rule's CRM
 * Password when set, else the integration's. It does not expire; a 401 is sent once more (the
 * house rule's one re-login, which for a fixed token is a re-read), then reported AUTH. Or OAuth
 * (`authMode` oauth, after "Connect", oauth.ts): a Bearer access token from the stored refresh
 * token, refreshed near expiry and once on a 401.
 * Base URL: https://{companydomain}.pipedrive.com (or the full https:// address given; with OAuth
 * the api_domain Pipedrive answered at Connect).
 *
 * Lookup, two requests:
 * 1. `GET /api/v2/persons/search?term={national digits}&fields=phone&exact_match=false&limit=100`
 *    (search ranks by relevance and cannot sort, so it asks for up to 100 hits, as many as step 2 reads)
 *    (organizations: `/api/v2/organizations/search` with fields=custom_fields, as organisations
 *    have no standard phone field). The term is digits only; Pipedrive matches it anywhere.
 * 2. `GET /api/v2/persons?ids=...&sort_by=update_time&sort_direction=desc` for those records
 *    (newest first): every phone (persons' `phones`, plus custom fields of type phone) is
 *    re-checked, and the field is read from the full record.
 *
 * The rule's CRM Field Name may be a field key (`name`, `org_id`, or a custom field's 40-character
 * hash) or a field's name as shown in Pipedrive ("Customer tier", any case). Names are resolved
 * through `GET /api/v2/personFields` / `/api/v2/organizationFields` (`field_code`, `field_name`,
 * `field_type`, `options`; `limit=500`, following `additional_data.next_cursor`; cached 10 minutes
 * per token; client-nodejs 30.7.0+). Standard fields are read at the record's root (the v1-style
 * codes phone, email, label map to v2's phones, emails, label_ids), custom fields under
 * `custom_fields` by hash. `org_id` gives the organisation's name.
 * Option ids of single and multiple option fields are turned into their labels.
 *
 * Several matches: the most recently updated record (update_time), then the lowest id.
 */
import { z } from 'zod';
import { isSamePhone, phoneVariants, type PhoneVariants } from '../../domain/phone';
import { regionField, regionSchema } from '../shared/common-settings';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import type { LookupRequest, LookupResult } from '../connector';
import { withCallLog } from '../shared/call-log-result';
import { CrmError, errorForStatus } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { HttpResponse } from '../shared/http-client';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { MetadataCache } from '../shared/metadata-cache';
import { pickMostRecent } from '../shared/record-pick';
import { sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, parseJsonBody, retryAfterMs, withSession } from '../shared/vendor-call';
import { PipedriveCallLog } from './call-log';
import { pipedriveConnect, refreshPipedriveToken } from './oauth';
import { PIPEDRIVE_USER_ID, pipedriveUserAnswer, pipedriveUserEmail, pipedriveUserPath } from './owners';
import { OWNER_READ, OwnerEmailCache, type OwnerEmailResult } from '../owner-lookup';

const WHAT = 'Pipedrive';
const META = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };
const FIELDS_TTL_MS = 10 * 60_000;
const HASH = /^[0-9a-f]{40}$/;
const V2_NAMES: Record<string, string> = { phone: 'phones', email: 'emails', label: 'label_ids' };

interface ModuleApi {
  search: string;
  searchFields: string;
  list: string;
  fields: string;
  noun: string;
}
const MODULES: Record<'persons' | 'organizations', ModuleApi> = {
  persons: { search: '/api/v2/persons/search', searchFields: 'phone', list: '/api/v2/persons', fields: '/api/v2/personFields', noun: 'person' },
  organizations: { search: '/api/v2/organizations/search', searchFields: 'custom_fields', list: '/api/v2/organizations', fields: '/api/v2/organizationFields', noun: 'organization' },
};

const COMPANY_DOMAIN = 'Enter your company domain: the part before .pipedrive.com in your Pipedrive address (e.g. acme), or the full https:// address.';

const settingsSchema = z.object({
  region: regionSchema,
  // A form that leaves the choice out (or empty) means the API token, as before the choice existed.
  authMode: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['api_token', 'oauth'], { message: 'Choose how the plugin signs in to Pipedrive.' }).default('api_token')),
  companyDomain: z
    .string()
    .trim()
    .default('')
    .transform((v) => v.replace(/\/$/, ''))
    .refine((v) => v === '' || /^[a-z0-9][a-z0-9-]{0,62}(\.pipedrive\.com)?$/i.test(v) || /^https:\/\/[^/?#\s]+$/.test(v), { message: COMPANY_DOMAIN }),
  apiToken: z.string().trim().default(''),
  clientId: z.string().trim().default(''),
  clientSecret: z.string().trim().default(''),
  refreshToken: z.string().trim().default(''),
}).superRefine((s, ctx) => {
  // With OAuth, Connect fills the company domain from Pipedrive's answer.
  if (s.authMode === 'api_token' && s.companyDomain === '') ctx.addIssue({ code: 'custom', path: ['companyDomain'], message: COMPANY_DOMAIN });
  if (s.authMode === 'oauth' && (s.clientId === '' || s.clientSecret === '')) ctx.addIssue({ code: 'custom', path: [s.clientId === '' ? 'clientId' : 'clientSecret'], message: "Enter the OAuth app's client ID and client secret (Pipedrive Developer Hub)." });
});
export type PipedriveSettings = z.infer<typeof settingsSchema>;

export type RequestLimits = { timeoutMs?: number; maxBodyBytes?: number };

export interface PipedriveToken extends CachedToken {
  /** What identifies the credentials (the API token, or the access token) for the field cache key. */
  token: string;
  headers: Record<string, string>;
}

export interface PipedriveField {
  key: string;
  name: string;
  field_type?: string;
  options?: Array<{ id: number | string; label: string }> | null;
}

/** GET /api/v2/{person|organization}Fields (client-nodejs GetPersonFields200Response). */
const fieldsAnswer = z.looseObject({
  data: z.array(z.looseObject({ field_code: z.string(), field_name: z.string(), field_type: z.string().optional(), options: z.array(z.looseObject({ id: z.union([z.number(), z.string()]), label: z.string() })).nullable().optional() })).nullable(),
  additional_data: z.looseObject({ next_cursor: z.string().nullable().optional() }).nullable().optional(),
});
/** Pages of field metadata read at most (500 fields each). */
const MAX_FIELD_PAGES = 10;
const SEARCH_LIMIT = '100';
const searchAnswer = z.looseObject({ data: z.looseObject({ items: z.array(z.looseObject({ item: z.looseObject({ id: z.number(), organization: z.looseObject({ name: z.string().nullable().optional() }).nullable().optional() }) })) }) });
const listAnswer = z.looseObject({ data: z.array(z.record(z.string(), z.unknown())).nullable() });

export class PipedriveConnector implements IntegrationConnector {
  readonly baseUrl: string;
  private readonly fieldCache = new MetadataCache<PipedriveField[]>(100, FIELDS_TTL_MS);
  private readonly owners = new OwnerEmailCache(WHAT);

  constructor(private readonly settings: PipedriveSettings, private readonly services: ConnectorServices) {
    const domain = settings.companyDomain;
    this.baseUrl = domain.startsWith('https://') ? domain : `https://${domain.replace(/\.pipedrive\.com$/i, '').toLowerCase()}.pipedrive.com`;
  }

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(WHAT, signal, async () => {
      const result = await this.find(sampleRequest('Persons', 'name', credentials), AbortSignal.any([signal, AbortSignal.timeout(META.timeoutMs)]));
      return `Read the person fields of ${this.baseUrl} and searched persons: ${sampleOutcome(result)}.`;
    });
  }

  async listModules(): Promise<string[]> {
    return ['Persons', 'Organizations'];
  }

  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const api = moduleApi(module);
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (token) => {
      const fields = await this.fieldsOf(token, api, signal);
      return fields.map((f) => ({ name: f.key, label: f.name, type: f.field_type ?? '' }));
    });
  }

  /** The e-mail of the user an owner_id names (owners.ts); 404 is a user Pipedrive does not know. */
  ownerEmail(ownerId: string, credentials: Credentials, signal: AbortSignal): Promise<OwnerEmailResult> {
    return this.owners.get(ownerId, PIPEDRIVE_USER_ID, signal, (id) => this.session(credentials, signal, Date.now() + OWNER_READ.timeoutMs, async (token) => {
      try {
        return pipedriveUserEmail(await this.get(token, pipedriveUserPath(id), {}, signal, pipedriveUserAnswer, OWNER_READ));
      } catch (err) {
        if (err instanceof CrmError && err.code === 'NOT_FOUND_URL') return null;
        throw err;
      }
    }));
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national.length < 2) return { kind: 'not_found' }; // Pipedrive searches two characters at least
    const api = moduleApi(request.module || 'Persons');
    return this.session(request.credentials, signal, request.deadlineAt, async (token) => {
      const fields = await this.fieldsOf(token, api, signal);
      const field = resolveField(request.fieldName, fields, api.noun);
      const found = await this.findByPhone(token, api, phone, fields, HASH.test(field.key) ? [field.key] : [], signal);
      if (!found) return { kind: 'not_found' };
      return { kind: 'value', value: fieldValueToText(readField(found.record, field, found.organizationName)), matches: found.matches };
    });
  }

  /** The person carrying the caller's number (the lookup's own search), for the call log: its id and organisation. */
  async findPerson(token: PipedriveToken, phone: PhoneVariants, signal: AbortSignal, limits: RequestLimits = {}): Promise<{ id: number; orgId?: number } | undefined> {
    if (phone.national.length < 2) return undefined;
    const fields = await this.fieldsOf(token, MODULES.persons, signal);
    const found = await this.findByPhone(token, MODULES.persons, phone, fields, [], signal, limits);
    if (!found) return undefined;
    const org = found.record.org_id;
    const orgId = typeof org === 'number' ? org : org && typeof org === 'object' && typeof (org as { id?: unknown }).id === 'number' ? (org as { id: number }).id : undefined;
    return { id: Number(found.record.id), ...(orgId !== undefined ? { orgId } : {}) };
  }

  /**
   * Search, then the full records newest first: the most recently updated one whose phones
   * (standard and custom phone fields) really are the caller's, with `customKeys` read.
   */
  private async findByPhone(token: PipedriveToken, api: ModuleApi, phone: PhoneVariants, fields: PipedriveField[], customKeys: string[], signal: AbortSignal, limits: RequestLimits = {}): Promise<{ record: Record<string, unknown>; matches: number; organizationName?: string | null } | undefined> {
    const found = await this.get(token, api.search, { term: phone.national, fields: api.searchFields, exact_match: 'false', limit: SEARCH_LIMIT }, signal, searchAnswer, limits);
    const items = found?.data.items.map((i) => i.item) ?? [];
    if (items.length === 0) return undefined;
    const phoneKeys = fields.filter((f) => f.field_type === 'phone' && HASH.test(f.key)).map((f) => f.key);
    const keys = [...new Set([...customKeys, ...phoneKeys])].slice(0, 15);
    const query: Record<string, string> = { ids: items.slice(0, 100).map((i) => i.id).join(','), sort_by: 'update_time', sort_direction: 'desc', limit: '100' };
    if (keys.length > 0) query.custom_fields = keys.join(',');
    const records = (await this.get(token, api.list, query, signal, listAnswer, limits))?.data ?? [];
    const matches = records.filter((r) => phonesOf(r, phoneKeys).some((p) => isSamePhone(p, phone)));
    const best = pickMostRecent(matches.map((r) => ({ record: r, modifiedAt: Date.parse(String(r.update_time ?? '').replace(' ', 'T')), id: String(r.id ?? '').padStart(20, '0') })));
    if (!best) return undefined;
    const item = items.find((i) => i.id === best.record.id);
    return { record: best.record, matches: matches.length, organizationName: item?.organization?.name };
  }

  /** Field metadata, shared by concurrent lookups and kept FIELDS_TTL_MS per token and module. */
  private fieldsOf(token: PipedriveToken, api: ModuleApi, signal: AbortSignal): Promise<PipedriveField[]> {
    const key = sessionKey('pipedrive', this.baseUrl, [api.fields], [token.token]);
    return this.fieldCache.get(key, async () => {
      const fields: PipedriveField[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_FIELD_PAGES; page += 1) {
        const answer = await this.get(token, api.fields, { limit: '500', ...(cursor ? { cursor } : {}) }, signal, fieldsAnswer, META);
        for (const f of answer?.data ?? []) fields.push({ key: f.field_code, name: f.field_name, ...(f.field_type ? { field_type: f.field_type } : {}), options: f.options ?? null });
        cursor = answer?.additional_data?.next_cursor ?? undefined;
        if (!cursor) break;
      }
      return fields;
    });
  }

  /** Runs `attempt` with the API token or the OAuth access token; also the call log's sign-in. */
  session<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (token: PipedriveToken) => Promise<R>): Promise<R> {
    const ruleToken = credentials.password.trim();
    const { settings } = this;
    if (!ruleToken && settings.authMode === 'oauth') {
      if (!settings.refreshToken || !settings.companyDomain) throw new CrmError('CONFIG', 'Pipedrive is not connected: press Connect under CRM > Integration > Pipedrive (or paste a refresh token and the company domain).');
      const key = sessionKey('pipedrive', this.baseUrl, ['oauth', settings.clientId], [settings.clientSecret, settings.refreshToken]);
      const login = async (previous: (PipedriveToken & { refreshToken?: string }) | undefined, loginSignal: AbortSignal) => {
        const fresh = await refreshPipedriveToken(this.services, settings, previous?.refreshToken ? { accessToken: previous.token, refreshToken: previous.refreshToken, expiresAt: previous.expiresAt } : undefined, loginSignal);
        return { token: fresh.accessToken, refreshToken: fresh.refreshToken, headers: { authorization: `Bearer ${fresh.accessToken}` }, expiresAt: fresh.expiresAt };
      };
      return withSession({ tokens: this.services.tokens, key, login, signal, deadlineAt, durable: true }, attempt);
    }
    const token = ruleToken || settings.apiToken;
    if (!token) throw new CrmError('CONFIG', 'No Pipedrive API token: enter one in CRM > Integration or in the rule\'s CRM Password.');
    const login = async (): Promise<PipedriveToken> => ({ token, headers: { 'x-api-token': token }, expiresAt: Number.POSITIVE_INFINITY });
    return withSession({ tokens: this.services.tokens, key: sessionKey('pipedrive', this.baseUrl, [], [token]), login, signal, deadlineAt }, attempt);
  }

  /** A GET with the token; a refusal becomes Pipedrive's CrmError. */
  get<T>(token: PipedriveToken, path: string, query: Record<string, string>, signal: AbortSignal, schema: z.ZodType<T>, limits: RequestLimits = {}): Promise<T | null> {
    return this.send(token, 'GET', path, query, undefined, signal, schema, limits);
  }

  /** One API request with the token (the call log's creates are POSTs). */
  async send<T>(token: PipedriveToken, method: 'GET' | 'POST', path: string, query: Record<string, string>, body: unknown, signal: AbortSignal, schema: z.ZodType<T>, limits: RequestLimits = {}): Promise<T | null> {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const headers: Record<string, string> = { ...token.headers, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.services.http.request({ method, url, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal, what: WHAT, ...limits });
    if (res.status < 200 || res.status >= 300) throw pipedriveError(res);
    return parseJsonBody(res, WHAT, schema);
  }
}

function moduleApi(module: string): ModuleApi {
  const name = module.trim().toLowerCase();
  if (name === 'persons' || name === 'person' || name === 'people') return MODULES.persons;
  if (name === 'organizations' || name === 'organization' || name === 'organisations') return MODULES.organizations;
  throw new CrmError('CONFIG', `Pipedrive lookups search Persons or Organizations, not "${module.slice(0, 40)}".`);
}

/** A field key as is (name, org_id, a 40-character hash), else a field's name in any case. */
export function resolveField(fieldName: string, fields: PipedriveField[], noun: string): PipedriveField {
  const wanted = fieldName.trim();
  const byKey = fields.find((f) => f.key === wanted);
  if (byKey) return byKey;
  const byName = fields.filter((f) => f.name.trim().toLowerCase() === wanted.toLowerCase());
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new CrmError('CONFIG', `Several Pipedrive ${noun} fields are named "${wanted.slice(0, 60)}": use one's key instead (${byName.map((f) => f.key).join(', ')}).`);
  if (HASH.test(wanted)) return { key: wanted, name: wanted };
  throw new CrmError('CONFIG', `Pipedrive has no ${noun} field "${wanted.slice(0, 60)}": use a field's key or its exact name (Settings > Data fields).`);
}

function readField(record: Record<string, unknown>, field: PipedriveField, organizationName: string | null | undefined): unknown {
  let raw: unknown;
  if (HASH.test(field.key)) raw = (record.custom_fields as Record<string, unknown> | undefined)?.[field.key];
  else if (field.key === 'org_id' && organizationName) raw = organizationName;
  else raw = record[V2_NAMES[field.key] ?? field.key];
  return withOptionLabels(raw, field.options);
}

/** Option ids (12, [12, 14], "12,14") to their labels; anything else as it is. */
function withOptionLabels(raw: unknown, options: PipedriveField['options']): unknown {
  if (!options || options.length === 0) return raw;
  const label = (id: unknown) => options.find((o) => String(o.id) === String(id).trim())?.label ?? id;
  if (Array.isArray(raw)) return raw.map(label);
  if (typeof raw === 'number') return label(raw);
  if (typeof raw === 'string' && /^\d+(,\d+)*$/.test(raw)) return raw.split(',').map(label);
  return raw;
}

/** Every phone number of a v2 record: `phones` [{value}] and custom phone fields (text or {value}). */
function phonesOf(record: Record<string, unknown>, customPhoneKeys: string[]): string[] {
  const standard = Array.isArray(record.phones) ? record.phones : [];
  const custom = customPhoneKeys.map((k) => (record.custom_fields as Record<string, unknown> | undefined)?.[k]);
  return [...standard, ...custom]
    .map((p) => (typeof p === 'string' ? p : p && typeof p === 'object' && typeof (p as { value?: unknown }).value === 'string' ? (p as { value: string }).value : ''))
    .filter((p) => p !== '');
}

/** Pipedrive errors: {"success": false, "error": "...", "error_info": "..."}. */
function pipedriveError(res: HttpResponse): CrmError {
  const reset = Number(res.headers['x-ratelimit-reset']);
  const base = errorForStatus(res.status, WHAT, retryAfterMs(res) ?? (res.status === 429 && Number.isFinite(reset) ? reset * 1000 : undefined));
  let said = '';
  try {
    const body = JSON.parse(res.body) as { error?: unknown };
    if (typeof body.error === 'string') said = ` Pipedrive said: ${body.error.slice(0, 160)}`;
  } catch { /* not JSON: the status says enough */ }
  if (res.status === 401) return new CrmError('AUTH', `${WHAT} rejected the API token (401): copy it again from Personal preferences > API.${said}`, base.details);
  if (res.status === 404) return new CrmError('NOT_FOUND_URL', `${WHAT} answered 404: check the company domain (the part before .pipedrive.com).${said}`, base.details);
  return new CrmError(base.code, `${base.message}${said}`, base.details);
}

export const pipedriveDefinition: CrmDefinition<PipedriveSettings> = {
  kind: 'pipedrive',
  label: 'Pipedrive',
  credentialsHelp: 'Username: not used. Password: a Pipedrive API token (Personal preferences > API), used instead of the integration\'s.',
  modules: ['Persons', 'Organizations'],
  fields: [
    regionField,
    {
      name: 'authMode', label: 'Sign-in', type: 'select', secret: false, required: true, defaultValue: 'api_token',
      help: 'An API token of a Pipedrive user, or OAuth through an app of your company (Connect, no token to copy).',
      options: [{ value: 'api_token', label: 'API token' }, { value: 'oauth', label: 'OAuth app (Connect)' }],
    },
    { name: 'companyDomain', label: 'Company domain', type: 'text', secret: false, required: true, placeholder: 'acme', help: 'The part before .pipedrive.com in your Pipedrive address (acme for https://acme.pipedrive.com). With OAuth, Connect fills it in.' },
    { name: 'apiToken', label: 'API token', type: 'secret', secret: true, required: false, help: 'Personal preferences > API in Pipedrive; leave empty if every rule enters its own in CRM Password.' },
    { name: 'clientId', label: 'OAuth client ID', type: 'text', secret: false, required: false, help: 'OAuth: the app\'s Client ID (Developer Hub > your app > OAuth & access scopes).' },
    { name: 'clientSecret', label: 'OAuth client secret', type: 'secret', secret: true, required: false, help: 'OAuth: the app\'s Client secret.' },
    { name: 'refreshToken', label: 'OAuth refresh token', type: 'secret', secret: true, required: false, help: 'Filled by Connect. Without a browser path, paste one obtained with the same app (and the company domain above).' },
  ],
  schema: settingsSchema,
  create: (settings, services) => {
    const connector = new PipedriveConnector(settings, services);
    return withCallLog(connector, new PipedriveCallLog(connector, settings));
  },
  connect: pipedriveConnect,
};
