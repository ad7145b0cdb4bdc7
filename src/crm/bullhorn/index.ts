/**
 * Bullhorn REST (crm-apis.md §1). Sign-in is OAuth2's authorization-code grant run without a
 * browser: `loginInfo` names the data centre, `oauth/authorize?action=Login` answers 302 with the
 * code in its Location, `oauth/token` trades it for an access + refresh token, and
 * `rest-services/login` turns that into a BhRestToken and the corporation's restUrl. Later sessions
 * use the refresh-token grant; a refresh token works once, and the TokenCache runs one refresh at a
 * time per key, so two calls never spend the same one; the key is durable, so every process of the
 * host shares the session and spends each refresh token once. A refused refresh token falls back
 * to a full sign-in.
 * After "Connect" (connect.ts: the same flow in the administrator's browser), the stored refresh
 * token starts the session instead of the API user's password (a rule's own CRM Username /
 * CRM Password still sign in headless).
 *
 * Lookup: FastFind (`find?query=`) recognises phone patterns (+E.164, or 123-456-7890 for NANP)
 * and searches phone, phone2, phone3, mobile (Candidate, ClientContact, Lead) or phone,
 * billingPhone (ClientCorporation). Bare digits are never sent: FastFind reads them as a record id.
 * The hits of the rule's entity are read in one `entity/{Entity}/{id,id}` request and every number
 * is re-checked here.
 *
 * Several matches: the most recently modified (dateLastModified), then the lowest id.
 */
import { z } from 'zod';
import { isSamePhone, phoneVariants, type PhoneVariants } from '../../domain/phone';
import { isHttpsUrl, regionField, regionSchema } from '../shared/common-settings';
import { runConnectionTest, sampleRequest } from '../shared/connection-test';
import type { LookupRequest, LookupResult } from '../connector';
import { CrmError, errorForStatus } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import { OWNER_READ, OwnerEmailCache, type OwnerEmailResult } from '../owner-lookup';
import { BULLHORN_USER_ID, corporateUserAnswer, corporateUserEmail, corporateUserPath } from './owners';
import type { HttpRequest, HttpResponse } from '../shared/http-client';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { pickMostRecent } from '../shared/record-pick';
import { requiredCredentials, sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, parseJsonBody, requestJson, retryAfterMs, withSession } from '../shared/vendor-call';
import { consentUrl } from '../shared/authorization-code';
import { bullhornConnect } from './connect';

const WHAT = 'Bullhorn';
export const BULLHORN_LOGIN_INFO_URL = 'https://rest.bullhornstaffing.com';
/** Fields FastFind searches for a phone query, per entity (rest-api-docs `_find.md`). */
const PHONE_FIELDS: Record<string, string[]> = {
  Candidate: ['phone', 'phone2', 'phone3', 'mobile'],
  ClientContact: ['phone', 'phone2', 'phone3', 'mobile'],
  Lead: ['phone', 'phone2', 'phone3', 'mobile'],
  ClientCorporation: ['phone', 'billingPhone'],
};
/** Bullhorn returns no session lifetime; renewing after 10 min keeps renewals off most calls [U]. */
const SESSION_MS = 10 * 60_000;
const META_LIMITS = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };

const required = (message: string) => z.string({ error: message }).trim().min(1, message);
const httpsUrl = z.string().trim().refine(isHttpsUrl, { message: 'Enter the Bullhorn login URL, starting with https:// (usually https://rest.bullhornstaffing.com).' });

export const bullhornSchema = z.object({
  clientId: required('Enter the OAuth client id Bullhorn Support issued.'),
  clientSecret: required('Enter the OAuth client secret Bullhorn Support issued.'),
  username: z.string().trim().default(''),
  password: z.string().default(''),
  refreshToken: z.string().trim().default(''),
  loginInfoUrl: httpsUrl.default(BULLHORN_LOGIN_INFO_URL).transform((url) => url.replace(/\/+$/, '').replace(/\/rest-services$/, '')),
  region: regionSchema,
});
export type BullhornSettings = z.infer<typeof bullhornSchema>;

interface BullhornSession extends CachedToken {
  bhRestToken: string;
  /** Ends with '/': `https://rest{N}.bullhornstaffing.com/rest-services/{corpToken}/`. */
  restUrl: string;
  oauthUrl: string;
  /** The data centre's REST login endpoint, for sessions renewed with a refresh token. */
  loginUrl: string;
  refreshToken?: string;
}

const loginInfoSchema = z.object({ oauthUrl: z.string().min(1), restUrl: z.string().min(1) });
const tokenSchema = z.object({ access_token: z.string().min(1), refresh_token: z.string().optional() });
const restLoginSchema = z.object({ BhRestToken: z.string().min(1), restUrl: z.string().min(1) });
const findSchema = z.object({ data: z.array(z.record(z.string(), z.unknown())).default([]) });
const entitySchema = z.object({ data: z.union([z.array(z.record(z.string(), z.unknown())), z.record(z.string(), z.unknown())]) });
const metaListSchema = z.array(z.object({ entity: z.string() }));
const metaEntitySchema = z.object({
  fields: z.array(z.object({ name: z.string(), label: z.string().optional(), dataType: z.string().optional(), dataSpecialization: z.string().optional(), type: z.string().optional() })).default([]),
});

class BullhornConnector implements IntegrationConnector {
  private readonly owners = new OwnerEmailCache(WHAT);

  constructor(private readonly settings: BullhornSettings, private readonly services: ConnectorServices) {}

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(WHAT, signal, async () => {
      const result = await this.find(sampleRequest('Candidate', 'id', credentials), signal);
      return `Signed in to Bullhorn and searched Candidates for a sample number (${result.kind === 'value' ? 'a record matched' : 'no match, as expected'}).`;
    });
  }

  async listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    const entities = await this.withSession(credentials, signal, Date.now() + 10_000, async (session) => {
      const res = await requestJson(this.services.http, { method: 'GET', url: `${session.restUrl}meta`, headers: { BhRestToken: session.bhRestToken }, signal, what: WHAT, ...META_LIMITS }, { schema: metaListSchema });
      return (res.body ?? []).map((item) => item.entity);
    });
    // Only entities FastFind searches by phone can be a rule's module.
    return entities.filter((entity) => entity in PHONE_FIELDS);
  }

  async listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const entity = checkEntity(module);
    return this.withSession(credentials, signal, Date.now() + 10_000, async (session) => {
      const res = await requestJson(this.services.http, { method: 'GET', url: `${session.restUrl}meta/${entity}?fields=*`, headers: { BhRestToken: session.bhRestToken }, signal, what: WHAT, ...META_LIMITS }, { schema: metaEntitySchema });
      return (res.body?.fields ?? []).map((f) => ({ name: f.name, label: f.label ?? f.name, type: f.dataSpecialization ?? f.dataType ?? f.type ?? '' }));
    });
  }

  /** The e-mail of the CorporateUser an `owner(id)` names (owners.ts); 404 is a user Bullhorn does not know. */
  ownerEmail(ownerId: string, credentials: Credentials, signal: AbortSignal): Promise<OwnerEmailResult> {
    return this.owners.get(ownerId, BULLHORN_USER_ID, signal, (id) => this.withSession(credentials, signal, Date.now() + OWNER_READ.timeoutMs, async (session) => {
      const res = await requestJson(this.services.http, { method: 'GET', url: corporateUserPath(session.restUrl, id), headers: { BhRestToken: session.bhRestToken }, signal, what: WHAT, ...OWNER_READ }, { schema: corporateUserAnswer, accept: [404] });
      return res.status === 404 ? null : corporateUserEmail(res.body);
    }));
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    // FastFind needs a phone pattern; bare digits would be read as a record id.
    if (phone.e164 === '') return { kind: 'not_found' };
    const entity = checkEntity(request.module || 'Candidate');
    const field = parseField(request.fieldName);
    return this.withSession(request.credentials, signal, request.deadlineAt, (session) => this.search(session, entity, field, phone, signal));
  }

  private async search(session: BullhornSession, entity: string, field: ParsedField, phone: PhoneVariants, signal: AbortSignal): Promise<LookupResult> {
    const headers = { BhRestToken: session.bhRestToken };
    const query = new URLSearchParams({ query: fastFindQuery(phone), countPerEntity: '5' });
    const found = await requestJson(this.services.http, { method: 'GET', url: `${session.restUrl}find?${query}`, headers, signal, what: WHAT }, { schema: findSchema });
    const ids = [...new Set((found.body?.data ?? []).filter((hit) => hit.entityType === entity).map((hit) => hit.entityId ?? hit.id))]
      .filter((id): id is number => Number.isSafeInteger(id));
    if (ids.length === 0) return { kind: 'not_found' };

    const phoneFields = PHONE_FIELDS[entity]!;
    const fields = [...new Set(['id', field.request, ...phoneFields, 'dateLastModified'])].join(',');
    const read = await requestJson(this.services.http, { method: 'GET', url: `${session.restUrl}entity/${entity}/${ids.join(',')}?fields=${encodeURIComponent(fields)}`, headers, signal, what: WHAT }, { schema: entitySchema });
    const data = read.body?.data ?? [];
    const matches = (Array.isArray(data) ? data : [data]).filter((record) => phoneFields.some((name) => typeof record[name] === 'string' && isSamePhone(record[name], phone)));
    // Ids are numbers: padded, their text order is their number order.
    const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: num(record.dateLastModified), id: String(num(record.id)).padStart(20, '0') })));
    if (!best) return { kind: 'not_found' };
    return { kind: 'value', value: readField(best.record, field), matches: matches.length };
  }

  /** The data centre's OAuth address, for "Connect". */
  async oauthUrl(signal: AbortSignal): Promise<string> {
    return (await this.loginInfo(this.connectUsername(), signal)).oauthUrl;
  }

  /** The data centre's consent page for "Connect" (the browser flow; Bullhorn documents no PKCE). */
  consentUrl(oauthUrl: string, params: { redirectUri: string; state: string }): string {
    return consentUrl(oauthEndpoint(oauthUrl, 'authorize'), { client_id: this.settings.clientId, response_type: 'code', redirect_uri: params.redirectUri, state: params.state });
  }

  /** Connect's code for a refresh token (the redirect URI again, as Bullhorn requires when the consent request had one). */
  async exchangeCode(code: string, redirectUri: string, signal: AbortSignal): Promise<string> {
    const info = await this.loginInfo(this.connectUsername(), signal);
    const grant = await this.tokenGrant(info.oauthUrl, { grant_type: 'authorization_code', code, redirect_uri: redirectUri }, signal);
    if (!grant.refresh_token) throw new CrmError('AUTH', 'Bullhorn answered without a refresh token: ask Bullhorn Support to enable refresh tokens on the API key.');
    return grant.refresh_token;
  }

  private withSession<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (session: BullhornSession) => Promise<R>): Promise<R> {
    const { settings } = this;
    const ruleSignsIn = credentials.username.trim() !== '' && credentials.password !== '';
    if (settings.refreshToken && !ruleSignsIn) {
      const key = sessionKey('bullhorn', settings.loginInfoUrl, [settings.clientId, 'connected'], [settings.refreshToken, settings.clientSecret]);
      const fallback = settings.username && settings.password ? { username: settings.username, password: settings.password } : undefined;
      return withSession({ tokens: this.services.tokens, key, login: (previous, loginSignal) => this.login(fallback, previous, loginSignal, settings.refreshToken), signal, deadlineAt, durable: true }, attempt);
    }
    const creds = requiredCredentials(credentials, settings, 'Bullhorn needs the API user\'s username and password (on the rule or as the integration\'s defaults), or Connect under CRM > Integration.');
    const key = sessionKey('bullhorn', settings.loginInfoUrl, [settings.clientId], [creds.username, creds.password, settings.clientSecret]);
    return withSession({ tokens: this.services.tokens, key, login: (previous, loginSignal) => this.login(creds, previous, loginSignal), signal, deadlineAt, durable: true }, attempt);
  }

  /**
   * A session from the current refresh token (the last session's, else `connected`: the one
   * Connect stored); without one, or when Bullhorn refuses it, the headless sign-in with `creds`.
   */
  private async login(creds: Credentials | undefined, previous: BullhornSession | undefined, signal: AbortSignal, connected?: string): Promise<BullhornSession> {
    const refreshToken = previous?.refreshToken ?? connected;
    if (refreshToken) {
      try {
        const where = previous ?? (await this.dataCentre(this.connectUsername(), signal));
        const grant = await this.tokenGrant(where.oauthUrl, { grant_type: 'refresh_token', refresh_token: refreshToken }, signal);
        return await this.restLogin(where.oauthUrl, where.loginUrl, grant, signal);
      } catch (err) {
        if (!(err instanceof CrmError && err.code === 'AUTH')) throw err;
        if (!creds) throw new CrmError('AUTH', `${err.message} Press Connect again under CRM > Integration > Bullhorn.`, err.details);
        this.services.logger.info('Bullhorn refused the refresh token; signing in again.');
      }
    }
    if (!creds) throw new CrmError('CONFIG', 'Bullhorn needs the API user\'s username and password, or Connect under CRM > Integration.');
    const info = await this.loginInfo(creds.username, signal);
    const code = await this.authorize(info.oauthUrl, creds, signal);
    const grant = await this.tokenGrant(info.oauthUrl, { grant_type: 'authorization_code', code }, signal);
    return this.restLogin(info.oauthUrl, restLoginUrl(info.restUrl), grant, signal);
  }

  private loginInfo(username: string, signal: AbortSignal): Promise<z.infer<typeof loginInfoSchema>> {
    const infoUrl = `${this.settings.loginInfoUrl}/rest-services/loginInfo?${new URLSearchParams({ username })}`;
    return this.send({ method: 'GET', url: infoUrl, signal, what: `${WHAT} loginInfo` }).then((res) => readJson(res, `${WHAT} loginInfo`, loginInfoSchema));
  }

  private async dataCentre(username: string, signal: AbortSignal): Promise<{ oauthUrl: string; loginUrl: string }> {
    const info = await this.loginInfo(username, signal);
    return { oauthUrl: info.oauthUrl, loginUrl: restLoginUrl(info.restUrl) };
  }

  /** loginInfo needs a user of the corporation to name its data centre: the integration's API username. */
  private connectUsername(): string {
    if (!this.settings.username) throw new CrmError('CONFIG', 'Bullhorn needs the API username on the integration to find its data centre.');
    return this.settings.username;
  }

  /** The headless sign-in: the code arrives in the Location of a 302; an HTML page means refusal. */
  private async authorize(oauthUrl: string, creds: Credentials, signal: AbortSignal): Promise<string> {
    const what = `${WHAT} sign-in`;
    const params = new URLSearchParams({ client_id: this.settings.clientId, response_type: 'code', action: 'Login', username: creds.username, password: creds.password });
    const url = `${oauthEndpoint(oauthUrl, 'authorize')}?${params}`;
    const res = await this.send({ method: 'GET', url, signal, what, maxBodyBytes: 512 * 1024, headers: { accept: 'text/html,application/json' } });
    if (res.status >= 300 && res.status < 400) {
      const location = new URL(res.headers.location ?? '', url);
      const code = location.searchParams.get('code');
      if (code) return code;
      const error = location.searchParams.get('error_description') ?? location.searchParams.get('error');
      throw new CrmError('AUTH', `${what} gave no authorization code${error ? ` (${error})` : ''}.`, { status: res.status });
    }
    if (res.status !== 200) throw errorForStatus(res.status, what, retryAfterMs(res));
    if (res.body.includes('Invalid Client Id')) throw new CrmError('AUTH', 'Bullhorn does not know the OAuth client id: check the Client ID setting.', { status: 200 });
    if (res.body.includes('class="error"')) throw new CrmError('AUTH', "Bullhorn rejected the API user's username or password.", { status: 200 });
    throw new CrmError('AUTH', 'Bullhorn answered the sign-in without an authorization code: sign in once as the API user in a browser and accept the terms of service.', { status: 200 });
  }

  private async tokenGrant(oauthUrl: string, grant: Record<string, string>, signal: AbortSignal): Promise<z.infer<typeof tokenSchema>> {
    const what = `${WHAT} token endpoint`;
    const params = new URLSearchParams({ ...grant, client_id: this.settings.clientId, client_secret: this.settings.clientSecret });
    const res = await this.send({ method: 'POST', url: `${oauthEndpoint(oauthUrl, 'token')}?${params}`, signal, what, headers: { accept: 'application/json' } });
    if (res.status === 400 || res.status === 401) {
      const body = safeJson(res.body);
      const reason = typeof body?.error_description === 'string' ? body.error_description : typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`;
      throw new CrmError('AUTH', `${what} refused the ${grant.grant_type === 'refresh_token' ? 'refresh token' : 'authorization code or client secret'} (${reason}).`, { status: res.status });
    }
    return readJson(res, what, tokenSchema);
  }

  private async restLogin(oauthUrl: string, loginUrl: string, grant: z.infer<typeof tokenSchema>, signal: AbortSignal): Promise<BullhornSession> {
    const what = `${WHAT} REST login`;
    const params = new URLSearchParams({ version: '*', access_token: grant.access_token });
    const res = await this.send({ method: 'GET', url: `${loginUrl}?${params}`, signal, what });
    const login = readJson(res, what, restLoginSchema);
    return {
      bhRestToken: login.BhRestToken,
      restUrl: login.restUrl.endsWith('/') ? login.restUrl : `${login.restUrl}/`,
      oauthUrl,
      loginUrl,
      ...(grant.refresh_token ? { refreshToken: grant.refresh_token } : {}),
      expiresAt: Date.now() + SESSION_MS,
    };
  }

  /** One request; a 307/308 (wrong data centre) is followed once, by hand, since the client never follows. */
  private async send(req: HttpRequest): Promise<HttpResponse> {
    const first = await this.services.http.request({ ...req, returnRedirects: true });
    if (first.status !== 307 && first.status !== 308) return first;
    if (!first.headers.location) throw new CrmError('BAD_RESPONSE', `${req.what ?? WHAT} answered ${first.status} without a Location.`, { status: first.status });
    const moved = new URL(first.headers.location, req.url);
    const second = await this.services.http.request({ ...req, url: moved, returnRedirects: true });
    if (second.status === 307 || second.status === 308) throw new CrmError('BAD_RESPONSE', `${req.what ?? WHAT} redirected twice (${moved.origin}, then again); check the login URL.`, { status: second.status });
    return second;
  }
}

interface ParsedField {
  /** As sent in `fields=`: `name` or `clientCorporation(name)`. */
  request: string;
  key: string;
  sub?: string;
}

/** `field` or `association(subField)`; anything else never reaches a URL. */
function parseField(name: string): ParsedField {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\(([A-Za-z_][A-Za-z0-9_]*)\))?$/.exec(name.trim());
  if (!match) throw new CrmError('CONFIG', `"${name}" is not a Bullhorn field name: use a name such as status or an association such as clientCorporation(name).`);
  return { request: match[0], key: match[1]!, ...(match[2] ? { sub: match[2] } : {}) };
}

function readField(record: Record<string, unknown>, field: ParsedField): string {
  let value = record[field.key];
  if (field.sub && value !== null && typeof value === 'object') {
    const sub = field.sub;
    // To-one: {id, name}; to-many: {total, data: [{id, name}, ...]}.
    const items = Array.isArray((value as { data?: unknown }).data) ? ((value as { data: unknown[] }).data) : [value];
    value = items.map((item) => (item !== null && typeof item === 'object' ? (item as Record<string, unknown>)[sub] : undefined));
    if ((value as unknown[]).length === 1) value = (value as unknown[])[0];
  }
  return fieldValueToText(value);
}

/** An entity FastFind searches by phone; any other is refused by the lookup and the field picker alike. */
function checkEntity(entity: string): string {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(entity)) throw new CrmError('CONFIG', `"${entity}" is not a Bullhorn entity name (entity names are case-sensitive: Candidate, ClientContact, ClientCorporation, Lead).`);
  if (!(entity in PHONE_FIELDS)) throw new CrmError('CONFIG', `Bullhorn's phone search (FastFind) does not search ${entity}: use ${Object.keys(PHONE_FIELDS).join(', ')}.`);
  return entity;
}

/** FastFind's phone patterns: 123-456-7890 for NANP numbers, +E.164 otherwise. */
function fastFindQuery(phone: PhoneVariants): string {
  if (phone.countryCode === '1' && phone.national.length === 10) return `${phone.national.slice(0, 3)}-${phone.national.slice(3, 6)}-${phone.national.slice(6)}`;
  return phone.e164;
}

function oauthEndpoint(oauthUrl: string, action: 'authorize' | 'token'): string {
  const base = oauthUrl.replace(/\/+$/, '');
  // loginInfo answers e.g. https://auth-emea.bullhornstaffing.com/oauth; accept the bare host too.
  return base.endsWith('/oauth') ? `${base}/${action}` : `${base}/oauth/${action}`;
}

function restLoginUrl(restUrl: string): string {
  const base = restUrl.replace(/\/+$/, '');
  return base.endsWith('/rest-services') ? `${base}/login` : `${base}/rest-services/login`;
}

function readJson<T>(res: HttpResponse, what: string, schema: z.ZodType<T>): T {
  if (res.status < 200 || res.status >= 300) throw errorForStatus(res.status, what, retryAfterMs(res));
  const body = parseJsonBody(res, what, schema);
  if (body === null) throw new CrmError('BAD_RESPONSE', `${what} answered with an empty body.`);
  return body;
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export const bullhornDefinition: CrmDefinition<BullhornSettings> = {
  kind: 'bullhorn',
  label: 'Bullhorn',
  credentialsHelp: "Username: the Bullhorn API user's login name. Password: that user's password (the OAuth client id and secret are set on the integration).",
  modules: ['Candidate', 'ClientContact', 'ClientCorporation', 'Lead'],
  fields: [
    { name: 'clientId', label: 'Client ID', help: 'OAuth client id issued by Bullhorn Support for the REST API.', type: 'text', secret: false, required: true },
    { name: 'clientSecret', label: 'Client secret', help: 'OAuth client secret issued with the client id.', type: 'secret', secret: true, required: true },
    { name: 'username', label: 'Default API username', help: 'Bullhorn API user, used when a rule leaves CRM Username empty.', type: 'text', secret: false, required: false },
    { name: 'password', label: 'Default API password', help: "That user's password, used when a rule leaves CRM Password empty. Not needed after Connect.", type: 'secret', secret: true, required: false },
    { name: 'refreshToken', label: 'Refresh token (Connect)', help: 'Filled by Connect (sign-in in the browser, no password stored). Without a browser path, leave it empty and use the password.', type: 'secret', secret: true, required: false },
    { name: 'loginInfoUrl', label: 'Login URL', help: 'Where Bullhorn tells which data centre holds the account; keep the default unless Bullhorn says otherwise.', type: 'url', secret: false, required: false, defaultValue: BULLHORN_LOGIN_INFO_URL, placeholder: BULLHORN_LOGIN_INFO_URL },
    regionField,
  ],
  schema: bullhornSchema,
  create: (settings, services) => new BullhornConnector(settings, services),
  connect: bullhornConnect((settings, services) => new BullhornConnector(settings, services)),
};
