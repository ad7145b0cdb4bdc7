/**
 * Zoho CRM (REST v8), in any Zoho data centre.
 *
 * Auth: OAuth2 refresh-token flow of a Self Client. `POST {accounts}/oauth/v2/token` with a form
 * body (grant_type=refresh_token, client_id, client_secret, refresh_token): Zoho's Accounts page
 * lists these as query parameters, but Zoho's own SDKs send them in the body, which keeps the
 * secret out of URLs and access logs. Calls go to the `api_domain` of the token answer (checked
 * to be a zohoapis.* host), with `Authorization: Zoho-oauthtoken {token}`; the token is reused
 * until `expires_in` runs out, and refreshed once on 401 INVALID_TOKEN.
 *
 * Lookup: `GET {api_domain}/crm/v8/{Module}/search?phone={digits}&fields=...&per_page=10&page=1`
 * (Zoho's `phone` search covers every phone field of the module). The national digits are sent:
 * only digits ever reach Zoho. `fields` holds the rule's field, the module's phone fields (for the
 * re-check), Modified_Time (for the pick) and id. 204 No Content is "not found". Every returned
 * phone field is re-checked; phone fields come from a built-in list for Leads/Contacts/Accounts
 * and from `GET /crm/v8/settings/fields` (cached) for other modules.
 *
 * Several matches: the most recently modified record (Modified_Time), then the lowest id.
 *
 * Data centres: `ZOHO_DATA_CENTRES` (com, eu, in, com.au, jp, ca, sa, com.cn; add a line for a new
 * one). Tests serve Zoho from fake servers through `ConnectorServices.resolveOrigin` (the host's
 * `resolveCrmOrigin`), which maps a real origin (https://accounts.zoho.eu, https://www.zohoapis.eu)
 * to the server standing in for it, so the per-data-centre choice of hosts is still what is tested.
 * Production leaves it unset.
 */
import { z } from 'zod';
import { phoneVariants, isSamePhone, type PhoneVariants } from '../../domain/phone';
import { regionField, regionSchema } from '../shared/common-settings';
import type { LookupRequest, LookupResult } from '../connector';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import { CrmError, errorForStatus } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { HttpResponse } from '../shared/http-client';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { MetadataCache } from '../shared/metadata-cache';
import { pickMostRecent } from '../shared/record-pick';
import { sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, parseJsonBody, retryAfterMs, withSession } from '../shared/vendor-call';

export interface ZohoDataCentre {
  label: string;
  /** Accounts server (OAuth). */
  accounts: string;
  /** Domain the API hosts of this data centre end with. */
  apiDomain: string;
}

export const ZOHO_DATA_CENTRES = {
  com: { label: 'United States (zoho.com)', accounts: 'https://accounts.zoho.com', apiDomain: 'zohoapis.com' },
  eu: { label: 'Europe (zoho.eu)', accounts: 'https://accounts.zoho.eu', apiDomain: 'zohoapis.eu' },
  in: { label: 'India (zoho.in)', accounts: 'https://accounts.zoho.in', apiDomain: 'zohoapis.in' },
  'com.au': { label: 'Australia (zoho.com.au)', accounts: 'https://accounts.zoho.com.au', apiDomain: 'zohoapis.com.au' },
  jp: { label: 'Japan (zoho.jp)', accounts: 'https://accounts.zoho.jp', apiDomain: 'zohoapis.jp' },
  ca: { label: 'Canada (zohocloud.ca)', accounts: 'https://accounts.zohocloud.ca', apiDomain: 'zohoapis.ca' },
  sa: { label: 'Saudi Arabia (zoho.sa)', accounts: 'https://accounts.zoho.sa', apiDomain: 'zohoapis.sa' },
  'com.cn': { label: 'China (zoho.com.cn)', accounts: 'https://accounts.zoho.com.cn', apiDomain: 'zohoapis.com.cn' },
} as const satisfies Record<string, ZohoDataCentre>;
export type ZohoDataCentreId = keyof typeof ZOHO_DATA_CENTRES;
const DC_IDS = Object.keys(ZOHO_DATA_CENTRES) as [ZohoDataCentreId, ...ZohoDataCentreId[]];

/** `resolveOrigin` maps a Zoho origin to the server standing in for it (a fake, a proxy). */
export type ZohoServices = ConnectorServices;

const WHAT = 'Zoho CRM';
const ACCOUNTS_WHAT = 'Zoho Accounts';
const API = '/crm/v8';
const META = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };
/** Phone fields of the standard modules; other modules' come from field metadata. */
const STANDARD_PHONE_FIELDS: Record<string, string[]> = {
  Contacts: ['Phone', 'Mobile', 'Home_Phone', 'Other_Phone', 'Asst_Phone'],
  Leads: ['Phone', 'Mobile'],
  Accounts: ['Phone'],
};
const API_NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

const settingsSchema = z.object({
  region: regionSchema,
  dataCentre: z.enum(DC_IDS, { message: 'Choose the data centre of your Zoho account: the domain you sign in at (zoho.com, zoho.eu, zoho.in...).' }),
  clientId: z.string().trim().min(1, 'Enter the Client ID of your Self Client (API console of your data centre).'),
  clientSecret: z.string().trim().min(1, 'Enter the Client Secret of your Self Client.'),
  refreshToken: z.string().trim().default(''),
});
export type ZohoSettings = z.infer<typeof settingsSchema>;

interface ZohoToken extends CachedToken {
  accessToken: string;
  apiOrigin: string;
}

const tokenAnswer = z.looseObject({
  access_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
  api_domain: z.string().optional(),
  error: z.string().optional(),
});
const searchAnswer = z.looseObject({ data: z.array(z.record(z.string(), z.unknown())) });
const modulesAnswer = z.looseObject({ modules: z.array(z.looseObject({ api_name: z.string(), api_supported: z.boolean().optional() })) });
const fieldsAnswer = z.looseObject({ fields: z.array(z.looseObject({ api_name: z.string(), field_label: z.string().optional(), data_type: z.string().optional() })) });

export class ZohoConnector implements IntegrationConnector {
  /** Phone fields of non-standard modules, per API origin and module. */
  private readonly phoneFieldCache = new MetadataCache<string[]>(200);

  constructor(private readonly settings: ZohoSettings, private readonly services: ZohoServices) {}

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(WHAT, signal, async () => {
      this.services.tokens.invalidate(this.tokenKey(this.refreshToken(credentials)));
      const result = await this.find(sampleRequest('Contacts', 'Last_Name', credentials), AbortSignal.any([signal, AbortSignal.timeout(META.timeoutMs)]));
      return `Signed in at ${this.dataCentre.accounts} and searched Contacts: ${sampleOutcome(result)}.`;
    });
  }

  listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (token) => {
      const answer = await this.get(token, `${API}/settings/modules`, {}, signal, modulesAnswer, META);
      return (answer?.modules ?? []).filter((m) => m.api_supported !== false).map((m) => m.api_name);
    });
  }

  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (token) => {
      const answer = await this.get(token, `${API}/settings/fields`, { module: apiName(module, 'module') }, signal, fieldsAnswer, META);
      return (answer?.fields ?? []).map((f) => ({ name: f.api_name, label: f.field_label ?? f.api_name, type: f.data_type ?? '' }));
    });
  }

  /** The lookup itself; throws CrmErrors (lookup() turns them into results). */
  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national === '') return { kind: 'not_found' };
    const module = apiName(request.module || 'Contacts', 'module');
    const field = apiName(request.fieldName, 'field');
    return this.session(request.credentials, signal, request.deadlineAt, (token) => this.search(token, module, field, phone, signal));
  }

  private async search(token: ZohoToken, module: string, field: string, phone: PhoneVariants, signal: AbortSignal): Promise<LookupResult> {
    const phoneFields = await this.phoneFields(token, module, signal);
    const fields = unique([field, ...phoneFields, 'Modified_Time', 'id']).join(',');
    const answer = await this.get(token, `${API}/${module}/search`, { phone: phone.national, fields, per_page: '10', page: '1' }, signal, searchAnswer);
    const matches = (answer?.data ?? []).filter((record) => phoneFields.some((f) => typeof record[f] === 'string' && isSamePhone(record[f], phone)));
    // Zoho ids are long digit strings: padded, their text order is their number order.
    const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: Date.parse(String(record.Modified_Time)), id: String(record.id ?? '').padStart(24, '0') })));
    if (!best) return { kind: 'not_found' };
    return { kind: 'value', value: fieldValueToText(best.record[field]), matches: matches.length };
  }

  private phoneFields(token: ZohoToken, module: string, signal: AbortSignal): Promise<string[]> {
    const standard = STANDARD_PHONE_FIELDS[module];
    if (standard) return Promise.resolve(standard);
    return this.phoneFieldCache.get(`${token.apiOrigin}|${module}`, async () => {
      const answer = await this.get(token, `${API}/settings/fields`, { module }, signal, fieldsAnswer, META);
      const phones = (answer?.fields ?? []).filter((f) => f.data_type === 'phone').map((f) => f.api_name);
      if (phones.length === 0) throw new CrmError('CONFIG', `Zoho CRM module ${module} has no phone field to search.`);
      return phones;
    });
  }

  private session<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (token: ZohoToken) => Promise<R>): Promise<R> {
    const refreshToken = this.refreshToken(credentials);
    const login = (_previous: ZohoToken | undefined, loginSignal: AbortSignal) => this.refresh(refreshToken, loginSignal);
    return withSession({ tokens: this.services.tokens, key: this.tokenKey(refreshToken), login, signal, deadlineAt }, attempt);
  }

  private async refresh(refreshToken: string, signal: AbortSignal): Promise<ZohoToken> {
    const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: this.settings.clientId, client_secret: this.settings.clientSecret, refresh_token: refreshToken });
    const res = await this.services.http.request({
      method: 'POST',
      url: new URL('/oauth/v2/token', this.resolve(this.dataCentre.accounts)),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      signal,
      what: ACCOUNTS_WHAT,
    });
    if (res.status < 200 || res.status >= 300) throw zohoError(res, ACCOUNTS_WHAT);
    const answer = parseJsonBody(res, ACCOUNTS_WHAT, tokenAnswer);
    if (!answer?.access_token) throw accountsRefusal(answer?.error, this.settings.dataCentre);
    return { accessToken: answer.access_token, apiOrigin: checkApiDomain(answer.api_domain), expiresAt: Date.now() + (answer.expires_in ?? 3600) * 1000 };
  }

  private async get<T>(token: ZohoToken, path: string, query: Record<string, string>, signal: AbortSignal, schema: z.ZodType<T>, limits: { timeoutMs?: number; maxBodyBytes?: number } = {}): Promise<T | null> {
    const url = new URL(path, this.resolve(token.apiOrigin));
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const res = await this.services.http.request({ method: 'GET', url, headers: { authorization: `Zoho-oauthtoken ${token.accessToken}`, accept: 'application/json' }, signal, what: WHAT, ...limits });
    if (res.status < 200 || res.status >= 300) throw zohoError(res, WHAT);
    return parseJsonBody(res, WHAT, schema);
  }

  private refreshToken(credentials: Credentials): string {
    const token = credentials.password.trim() || this.settings.refreshToken;
    if (!token) throw new CrmError('CONFIG', 'No Zoho refresh token: enter one in CRM > Integration or in the rule\'s CRM Password.');
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

/** Only a zohoapis.* host gets the access token, whatever the token answer says. */
function checkApiDomain(value: string | undefined): string {
  let url: URL | undefined;
  try { url = new URL(value ?? ''); } catch { url = undefined; }
  const host = url?.hostname ?? '';
  const known = Object.values(ZOHO_DATA_CENTRES).some((dc) => host === dc.apiDomain || host.endsWith(`.${dc.apiDomain}`));
  if (!url || url.protocol !== 'https:' || !known) throw new CrmError('BAD_RESPONSE', `Zoho Accounts answered with an API domain that is not a Zoho API host (${JSON.stringify(String(value ?? '').slice(0, 80))}).`);
  return url.origin;
}

/** Zoho Accounts answers 200 with {"error": ...} when it refuses a refresh. */
function accountsRefusal(error: string | undefined, dc: string): CrmError {
  if (error === 'invalid_client' || error === 'invalid_client_secret') {
    return new CrmError('AUTH', `Zoho Accounts (${dc}) rejected the Client ID or Client Secret (${error}): check them, and that the Self Client belongs to this data centre.`);
  }
  if (error === 'invalid_code') return new CrmError('AUTH', `Zoho Accounts (${dc}) rejected the refresh token (invalid_code): generate a new one from the Self Client of this data centre.`);
  if (error && /access denied|too many/i.test(error)) return new CrmError('RATE_LIMITED', `Zoho Accounts is refusing token refreshes for now (${error}): at most 10 per 10 minutes per refresh token.`);
  return new CrmError('AUTH', `Zoho Accounts refused the token refresh${error ? ` (${error.slice(0, 80)})` : ''}.`);
}

/** Maps a Zoho error answer ({"code","message","status"}) to a code the call flow records. */
function zohoError(res: HttpResponse, what: string): CrmError {
  const base = errorForStatus(res.status, what, retryAfterMs(res));
  let code = '';
  let message = '';
  try {
    const body = JSON.parse(res.body) as { code?: unknown; message?: unknown; error?: unknown };
    code = typeof body.code === 'string' ? body.code : typeof body.error === 'string' ? body.error : '';
    message = typeof body.message === 'string' ? body.message.slice(0, 160) : '';
  } catch { /* not JSON: the status says enough */ }
  const detail = code ? ` ${code}${message ? `: ${message}` : ''}` : '';
  if (code === 'OAUTH_SCOPE_MISMATCH' || code === 'NO_PERMISSION') {
    return new CrmError('FORBIDDEN', `${what} refused access (${code}): the refresh token lacks a scope; generate it with ZohoCRM.modules.READ and ZohoCRM.settings.READ.`, { status: res.status });
  }
  if (code === 'INVALID_MODULE' || code === 'INVALID_URL_PATTERN' || code === 'INVALID_QUERY' || code === 'INVALID_DATA') {
    return new CrmError('NOT_FOUND_URL', `${what} does not know the module or field asked for (${detail.trim()}).`, { status: res.status });
  }
  return new CrmError(base.code, `${base.message}${detail ? ` Zoho said:${detail}` : ''}`, base.details);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export const zohoDefinition: CrmDefinition<ZohoSettings> = {
  kind: 'zoho',
  label: 'Zoho CRM',
  credentialsHelp: 'Username: not used. Password: a Zoho refresh token (Self Client of the same data centre), used instead of the integration\'s.',
  modules: ['Contacts', 'Leads', 'Accounts'],
  fields: [
    regionField,
    {
      name: 'dataCentre', label: 'Data centre', type: 'select', secret: false, required: true, defaultValue: 'com',
      help: 'Where your Zoho account lives: the domain you sign in at (zoho.com, zoho.eu, zoho.in...).',
      options: DC_IDS.map((id) => ({ value: id, label: ZOHO_DATA_CENTRES[id].label })),
    },
    { name: 'clientId', label: 'Client ID', type: 'text', secret: false, required: true, help: 'Client ID of a Self Client created in the Zoho API console of your data centre.' },
    { name: 'clientSecret', label: 'Client Secret', type: 'secret', secret: true, required: true, help: 'Client Secret of the same Self Client.' },
    {
      name: 'refreshToken', label: 'Refresh token', type: 'secret', secret: true, required: false,
      help: 'Generated from the Self Client with scopes ZohoCRM.modules.READ and ZohoCRM.settings.READ; leave empty if every rule enters its own in CRM Password.',
    },
  ],
  schema: settingsSchema,
  create: (settings, services) => new ZohoConnector(settings, services),
};
