/**
 * Zoho CRM (REST v8), in any Zoho data centre.
 *
 * Auth: a refresh token (from Connect, or a Self Client) refreshed at the Accounts server of the
 * integration's data centre (accounts.ts); calls go to the `api_domain` of the token answer with
 * `Authorization: Zoho-oauthtoken {token}`. The token is reused until `expires_in` runs out and
 * refreshed once on 401 INVALID_TOKEN. Scopes: scopes.ts (the search API needs
 * ZohoSearch.securesearch.READ besides a records scope); a missing one is reported by name.
 *
 * Lookup: `GET {api_domain}/crm/v8/{Module}/search?phone={digits}&fields=...&per_page=200&page=1`.
 * Zoho's `phone` search covers every phone field of the module; only the national digits are
 * sent. `fields` holds the rule's field, the module's phone fields (for the re-check),
 * Modified_Time (for the pick) and id. A field with one part after a dot reads that part of a
 * lookup: `Owner.email` asks for `Owner` ({name, id, email}) and gives its e-mail (the record
 * owner, for "Owner's extension" rows; `Owner` alone gives the name). 204 No Content is "not
 * found". Phone fields come from a
 * built-in list for Leads/Contacts/Accounts and from `GET /crm/v8/settings/fields` (cached).
 *
 * Several matches: the most recently modified record (Modified_Time), then the lowest id. Zoho's
 * search API takes no sort parameter (v8: criteria, email, phone, word, converted, approved,
 * page, per_page, fields, cvid, type; zoho/crm-oas v8.0/record.json), so the newest record is
 * picked here among a full page of 200 (Zoho's maximum): every record sharing a number, unless
 * more than 200 do.
 *
 * Data centres: data-centres.ts. Tests serve Zoho from fake servers through
 * `ConnectorServices.resolveOrigin` (the host's `resolveCrmOrigin`), which maps a real origin
 * (https://accounts.zoho.eu, https://www.zohoapis.eu) to the server standing in for it, so the
 * per-data-centre choice of hosts is still what is tested. Production leaves it unset.
 */
import type { z } from 'zod';
import { phoneVariants, isSamePhone, type PhoneVariants } from '../../domain/phone';
import type { LookupRequest, LookupResult } from '../connector';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import { withCallLog } from '../shared/call-log-result';
import { CrmError } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { mapConcurrently } from '../shared/map-concurrently';
import { MetadataCache } from '../shared/metadata-cache';
import { pickMostRecent } from '../shared/record-pick';
import { sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, parseJsonBody, withSession } from '../shared/vendor-call';
import { zohoTokenRequest } from './accounts';
import { ZohoCallLog } from './call-log';
import { zohoConnect } from './connect';
import { ZOHO_DATA_CENTRES, type ZohoDataCentre } from './data-centres';
import { zohoError } from './errors';
import { fieldsAnswer, modulesAnswer, searchAnswer } from './answers';
import { FIELDS_SCOPES, MODULES_SCOPES, searchScopes, ZOHO_SCOPES, type ScopeNeed } from './scopes';
import { zohoCredentialsHelp, zohoFields, zohoSettingsSchema, type ZohoSettings } from './settings';

export { ZOHO_DATA_CENTRES, type ZohoDataCentre, type ZohoDataCentreId } from './data-centres';
export { ZOHO_SCOPE_LIST, ZOHO_SCOPES } from './scopes';
export type { ZohoSettings } from './settings';

/** `resolveOrigin` maps a Zoho origin to the server standing in for it (a fake, a proxy). */
export type ZohoServices = ConnectorServices;

const WHAT = 'Zoho CRM';
export const API = '/crm/v8';
/** Zoho's largest search page: the newest record is picked among all of them. */
export const ZOHO_SEARCH_PAGE = 200;
const SEARCH_LIMITS = { maxBodyBytes: 1024 * 1024 };
const META = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };
/** Phone fields of the standard modules; other modules' come from field metadata. */
const STANDARD_PHONE_FIELDS: Record<string, string[]> = {
  Contacts: ['Phone', 'Mobile', 'Home_Phone', 'Other_Phone', 'Asst_Phone'],
  Leads: ['Phone', 'Mobile'],
  Accounts: ['Phone'],
};
/** Kinds of module a record search works on (linking modules and subforms have no search). */
const SEARCHABLE_KINDS = new Set([undefined, 'default', 'custom']);
const API_NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

export type RequestLimits = { timeoutMs?: number; maxBodyBytes?: number };

export interface ZohoToken extends CachedToken {
  accessToken: string;
  apiOrigin: string;
}

export class ZohoConnector implements IntegrationConnector {
  /** Phone fields of non-standard modules (possibly none; null: no such module), per API origin and module. */
  private readonly phoneFieldCache = new MetadataCache<string[] | null>(200);

  constructor(private readonly settings: ZohoSettings, private readonly services: ZohoServices) {}

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  /** Signs in, then proves every scope the integration needs, one request each. */
  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(WHAT, signal, async () => {
      this.services.tokens.invalidate(this.tokenKey(this.refreshToken(credentials)));
      const bounded = AbortSignal.any([signal, AbortSignal.timeout(META.timeoutMs)]);
      const result = await this.find(sampleRequest('Contacts', 'Last_Name', credentials), bounded);
      await this.session(credentials, bounded, Date.now() + META.timeoutMs, async (token) => {
        await this.get(token, `${API}/settings/fields`, { module: 'Contacts' }, bounded, fieldsAnswer, FIELDS_SCOPES, META);
        await this.get(token, `${API}/settings/modules`, {}, bounded, modulesAnswer, MODULES_SCOPES, META);
      });
      const scopes = [ZOHO_SCOPES.records, ZOHO_SCOPES.search, ZOHO_SCOPES.fields, ZOHO_SCOPES.modules].join(', ');
      return `Signed in at ${this.dataCentre.accounts}; the token has every scope needed (${scopes}); searched Contacts: ${sampleOutcome(result)}.`;
    });
  }

  /** Modules a rule can search: those Zoho's API serves that have a phone field. */
  listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (token) => {
      const answer = await this.get(token, `${API}/settings/modules`, {}, signal, modulesAnswer, MODULES_SCOPES, META);
      const candidates = (answer?.modules ?? []).filter((m) => m.api_supported !== false && SEARCHABLE_KINDS.has(m.generated_type)).map((m) => m.api_name);
      const phones = await mapConcurrently(candidates, 4, (module) => this.phoneFieldsOf(token, module, signal));
      return candidates.filter((_, i) => (phones[i]?.length ?? 0) > 0);
    });
  }

  /** Fields of a module the lookup can search (one with a phone field). */
  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (token) => {
      const name = apiName(module, 'module');
      const answer = await this.get(token, `${API}/settings/fields`, { module: name }, signal, fieldsAnswer, FIELDS_SCOPES, META);
      const fields = answer?.fields ?? [];
      if (!fields.some((f) => f.data_type === 'phone')) throw new CrmError('CONFIG', `Zoho CRM module ${name} has no phone field: a rule cannot find callers in it.`);
      return fields.map((f) => ({ name: f.api_name, label: f.field_label ?? f.api_name, type: f.data_type ?? '' }));
    });
  }

  /** The lookup itself; throws CrmErrors (lookup() turns them into results). */
  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national === '') return { kind: 'not_found' };
    const module = apiName(request.module || 'Contacts', 'module');
    // A lookup field's part: "Owner.email" reads the e-mail inside Owner ({name, id, email}).
    const [field, part] = request.fieldName.trim().split(/\.(.*)/s, 2) as [string, string | undefined];
    apiName(field, 'field');
    if (part !== undefined && !/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(part)) throw new CrmError('CONFIG', `"${request.fieldName.trim().slice(0, 60)}" reaches too far: Zoho CRM reads one part of a lookup field, e.g. Owner.email.`);
    return this.session(request.credentials, signal, request.deadlineAt, (token) => this.search(token, module, field, part, phone, signal));
  }

  private async search(token: ZohoToken, module: string, field: string, part: string | undefined, phone: PhoneVariants, signal: AbortSignal): Promise<LookupResult> {
    const found = await this.findByPhone(token, module, phone, [field], signal);
    if (!found) return { kind: 'not_found' };
    const value = part === undefined ? found.record[field] : partOf(found.record[field], part);
    return { kind: 'value', value: fieldValueToText(value), matches: found.matches };
  }

  /**
   * The `module` record carrying the caller's number (the lookup's phone search; the call log
   * links its call to it): the most recently modified of the re-checked matches, `fields` read.
   */
  async findByPhone(token: ZohoToken, module: string, phone: PhoneVariants, fields: string[], signal: AbortSignal, limits: RequestLimits = SEARCH_LIMITS): Promise<{ record: Record<string, unknown>; id: string; matches: number } | undefined> {
    const phoneFields = await this.phoneFields(token, module, signal);
    const query = { phone: phone.national, fields: unique([...fields, ...phoneFields, 'Modified_Time', 'id']).join(','), per_page: String(ZOHO_SEARCH_PAGE), page: '1' };
    const answer = await this.get(token, `${API}/${module}/search`, query, signal, searchAnswer, searchScopes(module), { ...SEARCH_LIMITS, ...limits });
    const matches = (answer?.data ?? []).filter((record) => phoneFields.some((f) => typeof record[f] === 'string' && isSamePhone(record[f], phone)));
    // Zoho ids are long digit strings: padded, their text order is their number order.
    const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: Date.parse(String(record.Modified_Time)), id: String(record.id ?? '').padStart(24, '0') })));
    return best && { record: best.record, id: String(best.record.id), matches: matches.length };
  }

  private async phoneFields(token: ZohoToken, module: string, signal: AbortSignal): Promise<string[]> {
    const phones = await this.phoneFieldsOf(token, module, signal);
    if (phones === null) throw new CrmError('NOT_FOUND_URL', `Zoho CRM does not know the module ${module} (INVALID_MODULE): use its API name, e.g. Contacts.`);
    if (phones.length === 0) throw new CrmError('CONFIG', `Zoho CRM module ${module} has no phone field to search.`);
    return phones;
  }

  /** A module's phone fields; null for a module Zoho does not know. */
  private phoneFieldsOf(token: ZohoToken, module: string, signal: AbortSignal): Promise<string[] | null> {
    const standard = STANDARD_PHONE_FIELDS[module];
    if (standard) return Promise.resolve(standard);
    return this.phoneFieldCache.get(`${token.apiOrigin}|${module}`, async () => {
      try {
        const answer = await this.get(token, `${API}/settings/fields`, { module }, signal, fieldsAnswer, FIELDS_SCOPES, META);
        return (answer?.fields ?? []).filter((f) => f.data_type === 'phone').map((f) => f.api_name);
      } catch (err) {
        if (err instanceof CrmError && err.code === 'NOT_FOUND_URL') return null;
        throw err;
      }
    });
  }

  /** Runs `attempt` with a fresh or cached access token (one refresh after a 401); also the call log's sign-in. */
  session<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (token: ZohoToken) => Promise<R>): Promise<R> {
    const refreshToken = this.refreshToken(credentials);
    const login = (_previous: ZohoToken | undefined, loginSignal: AbortSignal) => this.refresh(refreshToken, loginSignal);
    return withSession({ tokens: this.services.tokens, key: this.tokenKey(refreshToken), login, signal, deadlineAt }, attempt);
  }

  private async refresh(refreshToken: string, signal: AbortSignal): Promise<ZohoToken> {
    const form = { grant_type: 'refresh_token', client_id: this.settings.clientId, client_secret: this.settings.clientSecret, refresh_token: refreshToken };
    const answer = await zohoTokenRequest(this.services, this.settings.dataCentre, form, signal);
    return { accessToken: answer.accessToken, apiOrigin: answer.apiOrigin, expiresAt: Date.now() + answer.expiresInS * 1000 };
  }

  /** A GET of the API with the token; a refusal becomes Zoho's CrmError naming the scopes `need`ed. */
  get<T>(token: ZohoToken, path: string, query: Record<string, string>, signal: AbortSignal, schema: z.ZodType<T>, need: ScopeNeed, limits: RequestLimits = {}): Promise<T | null> {
    return this.send(token, 'GET', path, query, undefined, signal, schema, need, limits);
  }

  /** One API request with the token (the call log's inserts are POSTs). */
  async send<T>(token: ZohoToken, method: 'GET' | 'POST', path: string, query: Record<string, string>, body: unknown, signal: AbortSignal, schema: z.ZodType<T>, need: ScopeNeed, limits: RequestLimits = {}): Promise<T | null> {
    const url = new URL(path, this.resolve(token.apiOrigin));
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const headers: Record<string, string> = { authorization: `Zoho-oauthtoken ${token.accessToken}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.services.http.request({ method, url, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal, what: WHAT, ...limits });
    if (res.status < 200 || res.status >= 300) throw zohoError(res, WHAT, need);
    return parseJsonBody(res, WHAT, schema);
  }

  private refreshToken(credentials: Credentials): string {
    const token = credentials.password.trim() || this.settings.refreshToken;
    if (!token) throw new CrmError('CONFIG', 'Zoho CRM is not connected: press Connect in CRM > Integration, or enter a refresh token there or in the rule\'s CRM Password.');
    return token;
  }

  /** Data centre, client and a SHA-256 of the secrets: never the secrets themselves. */
  private tokenKey(refreshToken: string): string {
    return sessionKey('zoho', this.dataCentre.accounts, [this.settings.clientId], [this.settings.clientSecret, refreshToken]);
  }

  private get dataCentre(): ZohoDataCentre {
    return ZOHO_DATA_CENTRES[this.settings.dataCentre];
  }

  private resolve(origin: string): string {
    return this.services.resolveOrigin ? this.services.resolveOrigin(origin) : origin;
  }
}

function apiName(value: string, kind: 'module' | 'field'): string {
  const name = value.trim();
  if (!API_NAME.test(name)) throw new CrmError('CONFIG', `"${name.slice(0, 60)}" is not a Zoho CRM ${kind} API name (letters, digits and _, e.g. ${kind === 'module' ? 'Contacts' : 'Account_Name'}).`);
  return name;
}

function partOf(value: unknown, part: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[part] : undefined;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export const zohoDefinition: CrmDefinition<ZohoSettings> = {
  kind: 'zoho',
  label: 'Zoho CRM',
  credentialsHelp: zohoCredentialsHelp,
  modules: ['Contacts', 'Leads', 'Accounts'],
  fields: zohoFields,
  schema: zohoSettingsSchema,
  create: (settings, services) => {
    const connector = new ZohoConnector(settings, services);
    return withCallLog(connector, new ZohoCallLog(connector, settings));
  },
  connect: zohoConnect,
};
