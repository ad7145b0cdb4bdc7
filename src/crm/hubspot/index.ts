/**
 * HubSpot CRM, on the date-based API (api-version.ts: one constant for every path).
 *
 * Auth (settings.ts), one of:
 * - a static token (`Authorization: Bearer {token}`): a service key or an app's static access
 *   token; the rule's CRM Password when set, else the integration's. It does not expire.
 * - an OAuth app: client id, client secret and a refresh token (from Connect, connect.ts),
 *   refreshed at the dated token endpoint (oauth.ts). The access token is renewed from
 *   `expires_in` (the token cache renews a minute early), as HubSpot recommends; it never waits
 *   for a 401. The house rule "one re-login on 401, then AUTH" still applies: with OAuth that one
 *   re-login is one refresh (which heals a token revoked and re-issued; HubSpot's changelog
 *   names a refresh on 401 acceptable too); with a static token it re-reads the same token and
 *   sends the request once more, then reports AUTH. No refresh ever happens per call.
 *
 * Lookup: `POST {base}/crm/objects/{version}/{type}/search`, filter groups OR-ed, sorted by the
 * last modification, newest first (`sorts`: lastmodifieddate for contacts, hs_lastmodifieddate
 * for other objects; HubSpot applies one sort), 10 results:
 * - contacts: hs_searchable_calculated_phone_number / hs_searchable_calculated_mobile_number EQ
 *   the national digits (HubSpot's digits-only copies, which match any stored format), plus phone
 *   / mobilephone EQ the E.164 form: 4 groups of 1 filter, inside the 5 groups / 25 filters limit.
 * - companies (and other types): phone IN the usual written forms of the number (1 group).
 * Every phone / mobilephone returned is re-checked. The base URL is a setting (default
 * https://api.hubapi.com) so a proxy, or a test's fake, can stand in.
 *
 * Several matches: the most recently updated record (updatedAt), then the lowest id.
 */
import { z } from 'zod';
import { isSamePhone, phoneVariants, type PhoneVariants } from '../../domain/phone';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import type { LookupRequest, LookupResult } from '../connector';
import { withCallLog } from '../shared/call-log-result';
import { CrmError } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { pickMostRecent } from '../shared/record-pick';
import { sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, parseJsonBody, withSession } from '../shared/vendor-call';
import { hubspotPaths } from './api-version';
import { HubSpotCallLog } from './call-log';
import { hubspotConnect } from './connect';
import { hubSpotError } from './errors';
import { hubspotTokenRequest } from './oauth';
import { HUBSPOT_OWNER_ID, hubspotOwnerAnswer, hubspotOwnerEmail, hubspotOwnerIdOf, hubspotOwnerList, hubspotOwnerPath, hubspotOwnersByEmailPath } from './owners';
import { OWNER_CACHE_ENTRIES, OWNER_CACHE_TTL_MS, OWNER_READ, OwnerEmailCache, type OwnerEmailResult } from '../owner-lookup';
import { MetadataCache } from '../shared/metadata-cache';
import { hubspotCredentialsHelp, hubspotFields, hubspotSettingsSchema, type HubSpotSettings } from './settings';

export { HUBSPOT_API_VERSION, HUBSPOT_SCOPES, hubspotPaths } from './api-version';
export type { HubSpotSettings } from './settings';

const WHAT = 'HubSpot';
const META = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };
const SEARCH_LIMIT = 10;
const PROPERTY = /^[A-Za-z0-9_]{1,100}$/;
const OBJECT_TYPE = /^[A-Za-z0-9_-]{1,64}$/;
/** The phone properties each object type is searched and re-checked on. */
const PHONE_PROPERTIES: Record<string, string[]> = { contacts: ['phone', 'mobilephone'] };
const DEFAULT_PHONE_PROPERTIES = ['phone'];

export interface HubSpotToken extends CachedToken {
  accessToken: string;
  refreshToken?: string;
}

const searchAnswer = z.looseObject({
  results: z.array(z.looseObject({ id: z.string(), properties: z.record(z.string(), z.unknown()).default({}), updatedAt: z.string().optional() })),
});
const propertiesAnswer = z.looseObject({ results: z.array(z.looseObject({ name: z.string(), label: z.string().optional(), type: z.string().optional() })) });

export type Auth = { mode: 'token'; token: string } | { mode: 'oauth' };
type RequestLimits = { timeoutMs?: number; maxBodyBytes?: number };
export type HubSpotRecord = z.infer<typeof searchAnswer>['results'][number];

export class HubSpotConnector implements IntegrationConnector {
  private readonly owners = new OwnerEmailCache(WHAT);
  /** The call log's other direction (e-mail -> owner id), with the same bounds and lifetime. */
  private readonly ownerIds = new MetadataCache<string | null>(OWNER_CACHE_ENTRIES, OWNER_CACHE_TTL_MS);

  constructor(private readonly settings: HubSpotSettings, private readonly services: ConnectorServices) {}

  /** The e-mail of the owner a hubspot_owner_id names (owners.ts); 404 is an owner HubSpot does not know. */
  ownerEmail(ownerId: string, credentials: Credentials, signal: AbortSignal): Promise<OwnerEmailResult> {
    return this.owners.get(ownerId, HUBSPOT_OWNER_ID, signal, (id) => this.session(credentials, signal, Date.now() + OWNER_READ.timeoutMs, async (token, auth) => {
      try {
        return hubspotOwnerEmail(await this.send(token, auth, 'GET', hubspotOwnerPath(id), undefined, signal, hubspotOwnerAnswer, OWNER_READ));
      } catch (err) {
        if (err instanceof CrmError && err.code === 'NOT_FOUND_URL') return null;
        throw err;
      }
    }));
  }

  /**
   * The id of the owner whose e-mail is `email` (the call log's hubspot_owner_id), read from the
   * same owners API as ownerEmail inside the caller's session; undefined when HubSpot has none.
   */
  async ownerIdByEmail(email: string, token: HubSpotToken, auth: Auth, signal: AbortSignal, limits: RequestLimits = OWNER_READ): Promise<string | undefined> {
    const key = email.trim().toLowerCase();
    const id = await this.ownerIds.get(`${this.settings.baseUrl}|${key}`, async () =>
      hubspotOwnerIdOf(await this.send(token, auth, 'GET', hubspotOwnersByEmailPath(key), undefined, signal, hubspotOwnerList, { ...OWNER_READ, ...limits }), key));
    return id ?? undefined;
  }

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(WHAT, signal, async () => {
      const auth = this.auth(credentials);
      this.services.tokens.invalidate(this.tokenKey(auth));
      const result = await this.find(sampleRequest('contacts', 'firstname', credentials), AbortSignal.any([signal, AbortSignal.timeout(META.timeoutMs)]));
      const how = auth.mode === 'oauth' ? 'Refreshed the OAuth app\'s token' : 'Used the service key (or access token)';
      return `${how} and searched contacts: ${sampleOutcome(result)}.`;
    });
  }

  /** The object types with phone properties the lookup searches; HubSpot has no list of them per token. */
  async listModules(): Promise<string[]> {
    return ['contacts', 'companies'];
  }

  /** Properties of an object type the lookup can search (one with the phone properties it searches). */
  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const type = objectType(module);
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (token, auth) => {
      const answer = await this.send(token, auth, 'GET', hubspotPaths.properties(type), undefined, signal, propertiesAnswer, META);
      const properties = answer?.results ?? [];
      const searched = PHONE_PROPERTIES[type] ?? DEFAULT_PHONE_PROPERTIES;
      if (!properties.some((p) => searched.includes(p.name))) throw new CrmError('CONFIG', `HubSpot ${type} have no ${searched.join(' or ')} property: a rule cannot find callers in them.`);
      return properties.map((p) => ({ name: p.name, label: p.label ?? p.name, type: p.type ?? '' }));
    });
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national === '') return { kind: 'not_found' };
    const type = objectType(request.module || 'contacts');
    const field = request.fieldName.trim();
    if (!PROPERTY.test(field)) throw new CrmError('CONFIG', `"${field.slice(0, 60)}" is not a HubSpot property internal name (letters, digits and _, e.g. lifecyclestage).`);
    return this.session(request.credentials, signal, request.deadlineAt, (token, auth) => this.search(token, auth, type, field, phone, signal));
  }

  private async search(token: HubSpotToken, auth: Auth, type: string, field: string, phone: PhoneVariants, signal: AbortSignal): Promise<LookupResult> {
    const found = await this.findByPhone(token, auth, type, phone, [field], signal);
    if (!found) return { kind: 'not_found' };
    return { kind: 'value', value: fieldValueToText(found.record.properties[field]), matches: found.matches };
  }

  /**
   * The record of `type` carrying the caller's number (the lookup's search; the call log links
   * its call to it): the most recently updated of the re-checked matches, with `properties` read.
   */
  async findByPhone(token: HubSpotToken, auth: Auth, type: string, phone: PhoneVariants, properties: string[], signal: AbortSignal, limits: RequestLimits = {}): Promise<{ record: HubSpotRecord; matches: number } | undefined> {
    const phoneProps = PHONE_PROPERTIES[type] ?? DEFAULT_PHONE_PROPERTIES;
    const modified = modifiedProperty(type);
    const body = {
      filterGroups: phoneFilterGroups(type, phone),
      sorts: [{ propertyName: modified, direction: 'DESCENDING' }],
      properties: [...new Set([...properties, ...phoneProps, modified])],
      limit: SEARCH_LIMIT,
    };
    const answer = await this.send(token, auth, 'POST', hubspotPaths.search(type), body, signal, searchAnswer, limits);
    const matches = (answer?.results ?? []).filter((r) => phoneProps.some((p) => typeof r.properties[p] === 'string' && isSamePhone(r.properties[p], phone)));
    const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: Date.parse(record.updatedAt ?? String(record.properties[modified])), id: record.id.padStart(24, '0') })));
    return best && { record: best.record, matches: matches.length };
  }

  private auth(credentials: Credentials): Auth {
    const ruleToken = credentials.password.trim();
    if (ruleToken) return { mode: 'token', token: ruleToken };
    if (this.settings.authMode === 'oauth') return { mode: 'oauth' };
    if (!this.settings.accessToken) throw new CrmError('CONFIG', 'No HubSpot access token: enter a service key (or app access token) in CRM > Integration or in the rule\'s CRM Password.');
    return { mode: 'token', token: this.settings.accessToken };
  }

  /** Runs `attempt` signed in (a static token, or the OAuth app's refreshed access token); also the call log's sign-in. */
  session<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (token: HubSpotToken, auth: Auth) => Promise<R>): Promise<R> {
    const auth = this.auth(credentials);
    const login = auth.mode === 'token'
      ? async (): Promise<HubSpotToken> => ({ accessToken: auth.token, expiresAt: Number.POSITIVE_INFINITY })
      : (previous: HubSpotToken | undefined, loginSignal: AbortSignal) => this.refresh(previous?.refreshToken ?? this.settings.refreshToken, loginSignal);
    return withSession({ tokens: this.services.tokens, key: this.tokenKey(auth), login, signal, deadlineAt }, (token) => attempt(token, auth));
  }

  private tokenKey(auth: Auth): string {
    return auth.mode === 'token'
      ? sessionKey('hubspot', this.settings.baseUrl, ['token'], [auth.token])
      : sessionKey('hubspot', this.settings.baseUrl, ['oauth', this.settings.clientId], [this.settings.clientSecret, this.settings.refreshToken]);
  }

  private async refresh(refreshToken: string, signal: AbortSignal): Promise<HubSpotToken> {
    if (!refreshToken) throw new CrmError('CONFIG', 'HubSpot is not connected yet: press Connect in CRM > Integration (or paste the refresh token of an installation of the app).');
    const form = { grant_type: 'refresh_token', client_id: this.settings.clientId, client_secret: this.settings.clientSecret, refresh_token: refreshToken };
    const answer = await hubspotTokenRequest(this.services, this.settings.baseUrl, form, signal);
    return { accessToken: answer.accessToken, refreshToken: answer.refreshToken ?? refreshToken, expiresAt: Date.now() + answer.expiresInS * 1000 };
  }

  /** One API request with the session's token; a refusal becomes HubSpot's CrmError. Also the call log's. */
  async send<T>(token: HubSpotToken, auth: Auth, method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal, schema: z.ZodType<T>, limits: RequestLimits = {}): Promise<T | null> {
    const headers: Record<string, string> = { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.services.http.request({ method, url: `${this.settings.baseUrl}${path}`, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal, what: WHAT, ...limits });
    if (res.status < 200 || res.status >= 300) throw hubSpotError(res, WHAT, auth.mode);
    return parseJsonBody(res, WHAT, schema);
  }
}

/** The OR-ed filter groups for one caller; only digits and '+' ever reach HubSpot. */
export function phoneFilterGroups(type: string, phone: PhoneVariants): Array<{ filters: Array<Record<string, unknown>> }> {
  const eq = (propertyName: string, value: string) => ({ filters: [{ propertyName, operator: 'EQ', value }] });
  const e164 = phone.e164 || `+${phone.international}`;
  if (type === 'contacts') {
    return [
      eq('hs_searchable_calculated_phone_number', phone.national),
      eq('hs_searchable_calculated_mobile_number', phone.national),
      eq('phone', e164),
      eq('mobilephone', e164),
    ];
  }
  const forms = [...new Set([e164, ...phone.exactForms])].filter((f) => /^[0-9+ ().-]+$/.test(f)).slice(0, 10);
  return [{ filters: [{ propertyName: 'phone', operator: 'IN', values: forms }] }];
}

function modifiedProperty(type: string): string {
  return type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
}

function objectType(module: string): string {
  const type = module.trim();
  if (!OBJECT_TYPE.test(type)) throw new CrmError('CONFIG', `"${type.slice(0, 60)}" is not a HubSpot object type (contacts, companies, or a custom object's type id).`);
  return /^(contacts|companies)$/i.test(type) ? type.toLowerCase() : type;
}

export const hubspotDefinition: CrmDefinition<HubSpotSettings> = {
  kind: 'hubspot',
  label: 'HubSpot',
  credentialsHelp: hubspotCredentialsHelp,
  modules: ['contacts', 'companies'],
  fields: hubspotFields,
  schema: hubspotSettingsSchema,
  create: (settings, services) => {
    const connector = new HubSpotConnector(settings, services);
    return withCallLog(connector, new HubSpotCallLog(connector, settings));
  },
  connect: hubspotConnect,
};
