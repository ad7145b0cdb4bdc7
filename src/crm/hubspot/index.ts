/**
 * HubSpot CRM (v3 objects API).
 *
 * Auth, one of:
 * - a private app / static access token (`Authorization: Bearer {token}`): the rule's CRM
 *   Password when set, else the integration's token. It does not expire.
 * - OAuth: client id, client secret and a refresh token; `POST {base}/oauth/v1/token` with a form
 *   body (grant_type=refresh_token...). The access token is renewed from `expires_in` (the token
 *   cache renews a minute early), as HubSpot asks: a 401 is not its signal to refresh.
 * The house rule "one re-login on 401, then AUTH" still applies and is reconciled so: a 401 means
 * the token was revoked or the clocks disagree; with OAuth the one re-login is one refresh (which
 * heals a token revoked and re-issued); with a static token it re-reads the same token and sends
 * the request once more, then reports AUTH. No refresh ever happens per call.
 *
 * Lookup: `POST {base}/crm/v3/objects/{type}/search`, filter groups OR-ed:
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
import { regionField, regionSchema } from '../shared/common-settings';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import type { LookupRequest, LookupResult } from '../connector';
import { CrmError, errorForStatus } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { HttpResponse } from '../shared/http-client';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { pickMostRecent } from '../shared/record-pick';
import { sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, parseJsonBody, retryAfterMs, withSession } from '../shared/vendor-call';

const WHAT = 'HubSpot';
const DEFAULT_BASE_URL = 'https://api.hubapi.com';
const META = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };
const PROPERTY = /^[A-Za-z0-9_]{1,100}$/;
const OBJECT_TYPE = /^[A-Za-z0-9_-]{1,64}$/;
/** The phone properties each object type is searched and re-checked on. */
const PHONE_PROPERTIES: Record<string, string[]> = { contacts: ['phone', 'mobilephone'] };
const DEFAULT_PHONE_PROPERTIES = ['phone'];

const baseUrlSchema = z
  .string()
  .trim()
  .default(DEFAULT_BASE_URL)
  .transform((value) => value || DEFAULT_BASE_URL)
  .refine((value) => /^https:\/\/[^/?#\s]+\/?$/.test(value), { message: 'Enter the API base URL, starting with https:// and without a path (normally https://api.hubapi.com).' })
  .transform((value) => value.replace(/\/$/, ''));

const settingsSchema = z
  .object({
    region: regionSchema,
    baseUrl: baseUrlSchema,
    authMode: z.enum(['token', 'oauth'], { message: 'Choose how to sign in: a private app token, or an OAuth app.' }).default('token'),
    accessToken: z.string().trim().default(''),
    clientId: z.string().trim().default(''),
    clientSecret: z.string().trim().default(''),
    refreshToken: z.string().trim().default(''),
  })
  .superRefine((s, ctx) => {
    if (s.authMode !== 'oauth') return;
    if (!s.clientId) ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'Enter the Client ID of your HubSpot app (Auth tab of the app).' });
    if (!s.clientSecret) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'Enter the Client secret of your HubSpot app.' });
    if (!s.refreshToken) ctx.addIssue({ code: 'custom', path: ['refreshToken'], message: 'Enter the refresh token HubSpot gave when the app was installed.' });
  });
export type HubSpotSettings = z.infer<typeof settingsSchema>;

interface HubSpotToken extends CachedToken {
  accessToken: string;
  refreshToken?: string;
}

const tokenAnswer = z.looseObject({ access_token: z.string().min(1), refresh_token: z.string().optional(), expires_in: z.number().positive() });
const searchAnswer = z.looseObject({
  results: z.array(z.looseObject({ id: z.string(), properties: z.record(z.string(), z.unknown()).default({}), updatedAt: z.string().optional() })),
});
const propertiesAnswer = z.looseObject({ results: z.array(z.looseObject({ name: z.string(), label: z.string().optional(), type: z.string().optional() })) });

type Auth = { mode: 'token'; token: string } | { mode: 'oauth' };

export class HubSpotConnector implements IntegrationConnector {
  constructor(private readonly settings: HubSpotSettings, private readonly services: ConnectorServices) {}

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(WHAT, signal, async () => {
      const auth = this.auth(credentials);
      this.services.tokens.invalidate(this.tokenKey(auth));
      const result = await this.find(sampleRequest('contacts', 'firstname', credentials), AbortSignal.any([signal, AbortSignal.timeout(META.timeoutMs)]));
      const how = auth.mode === 'oauth' ? 'Refreshed the OAuth token' : 'Used the access token';
      return `${how} and searched contacts: ${sampleOutcome(result)}.`;
    });
  }

  /** HubSpot has no single list of object types a token can search; these are the ones with phone properties. */
  async listModules(): Promise<string[]> {
    return ['contacts', 'companies'];
  }

  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const type = objectType(module);
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (token) => {
      const answer = await this.send(token, 'GET', `/crm/v3/properties/${type}`, undefined, signal, propertiesAnswer, META);
      return (answer?.results ?? []).map((p) => ({ name: p.name, label: p.label ?? p.name, type: p.type ?? '' }));
    });
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national === '') return { kind: 'not_found' };
    const type = objectType(request.module || 'contacts');
    const field = request.fieldName.trim();
    if (!PROPERTY.test(field)) throw new CrmError('CONFIG', `"${field.slice(0, 60)}" is not a HubSpot property internal name (letters, digits and _, e.g. lifecyclestage).`);
    return this.session(request.credentials, signal, request.deadlineAt, (token) => this.search(token, type, field, phone, signal));
  }

  private async search(token: HubSpotToken, type: string, field: string, phone: PhoneVariants, signal: AbortSignal): Promise<LookupResult> {
    const phoneProps = PHONE_PROPERTIES[type] ?? DEFAULT_PHONE_PROPERTIES;
    const body = { filterGroups: phoneFilterGroups(type, phone), properties: [...new Set([field, ...phoneProps, modifiedProperty(type)])], limit: 10 };
    const answer = await this.send(token, 'POST', `/crm/v3/objects/${type}/search`, body, signal, searchAnswer);
    const matches = (answer?.results ?? []).filter((r) => phoneProps.some((p) => typeof r.properties[p] === 'string' && isSamePhone(r.properties[p], phone)));
    const modified = modifiedProperty(type);
    const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: Date.parse(record.updatedAt ?? String(record.properties[modified])), id: record.id.padStart(24, '0') })));
    if (!best) return { kind: 'not_found' };
    return { kind: 'value', value: fieldValueToText(best.record.properties[field]), matches: matches.length };
  }

  private auth(credentials: Credentials): Auth {
    const ruleToken = credentials.password.trim();
    if (ruleToken) return { mode: 'token', token: ruleToken };
    if (this.settings.authMode === 'oauth') return { mode: 'oauth' };
    if (!this.settings.accessToken) throw new CrmError('CONFIG', 'No HubSpot access token: enter a private app token in CRM > Integration or in the rule\'s CRM Password.');
    return { mode: 'token', token: this.settings.accessToken };
  }

  private session<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (token: HubSpotToken) => Promise<R>): Promise<R> {
    const auth = this.auth(credentials);
    const login = auth.mode === 'token'
      ? async (): Promise<HubSpotToken> => ({ accessToken: auth.token, expiresAt: Number.POSITIVE_INFINITY })
      : (previous: HubSpotToken | undefined, loginSignal: AbortSignal) => this.refresh(previous?.refreshToken ?? this.settings.refreshToken, loginSignal);
    return withSession({ tokens: this.services.tokens, key: this.tokenKey(auth), login, signal, deadlineAt }, attempt);
  }

  private tokenKey(auth: Auth): string {
    return auth.mode === 'token'
      ? sessionKey('hubspot', this.settings.baseUrl, ['token'], [auth.token])
      : sessionKey('hubspot', this.settings.baseUrl, ['oauth', this.settings.clientId], [this.settings.clientSecret, this.settings.refreshToken]);
  }

  private async refresh(refreshToken: string, signal: AbortSignal): Promise<HubSpotToken> {
    const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: this.settings.clientId, client_secret: this.settings.clientSecret, refresh_token: refreshToken });
    const res = await this.services.http.request({
      method: 'POST', url: `${this.settings.baseUrl}/oauth/v1/token`, body: body.toString(), signal, what: `${WHAT} OAuth`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    });
    if (res.status === 400) throw hubSpotError(res, `${WHAT} OAuth`, 'AUTH');
    if (res.status < 200 || res.status >= 300) throw hubSpotError(res, `${WHAT} OAuth`);
    const answer = parseJsonBody(res, `${WHAT} OAuth`, tokenAnswer)!;
    return { accessToken: answer.access_token, refreshToken: answer.refresh_token ?? refreshToken, expiresAt: Date.now() + answer.expires_in * 1000 };
  }

  private async send<T>(token: HubSpotToken, method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal, schema: z.ZodType<T>, limits: { timeoutMs?: number; maxBodyBytes?: number } = {}): Promise<T | null> {
    const headers: Record<string, string> = { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.services.http.request({ method, url: `${this.settings.baseUrl}${path}`, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal, what: WHAT, ...limits });
    if (res.status < 200 || res.status >= 300) throw hubSpotError(res, WHAT);
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

/** HubSpot errors: {"status":"error","message":"...","category":"MISSING_SCOPES"|"EXPIRED_AUTHENTICATION"|...}. */
function hubSpotError(res: HttpResponse, what: string, codeFor400?: 'AUTH'): CrmError {
  const base = errorForStatus(res.status, what, retryAfterMs(res));
  let category = '';
  let message = '';
  try {
    const body = JSON.parse(res.body) as { category?: unknown; status?: unknown; error?: unknown; message?: unknown };
    const tag = body.category ?? (body.status !== 'error' ? body.status : undefined) ?? body.error;
    category = typeof tag === 'string' ? tag : '';
    message = typeof body.message === 'string' ? body.message.slice(0, 160) : '';
  } catch { /* not JSON: the status says enough */ }
  const detail = category || message ? ` HubSpot said: ${[category, message].filter(Boolean).join(': ')}` : '';
  if (codeFor400 === 'AUTH') {
    return new CrmError('AUTH', `${what} refused the token refresh (400): check the Client ID, Client secret and refresh token.${detail}`, { status: res.status });
  }
  if (category === 'MISSING_SCOPES') {
    return new CrmError('FORBIDDEN', `${what} refused access (403 MISSING_SCOPES): give the app the crm.objects.contacts.read and crm.objects.companies.read scopes.${message ? ` HubSpot said: ${message}` : ''}`, { status: res.status });
  }
  return new CrmError(base.code, `${base.message}${detail}`, base.details);
}

export const hubspotDefinition: CrmDefinition<HubSpotSettings> = {
  kind: 'hubspot',
  label: 'HubSpot',
  credentialsHelp: 'Username: not used. Password: a private app (or static) access token, used instead of the integration\'s sign-in.',
  modules: ['contacts', 'companies'],
  fields: [
    regionField,
    {
      name: 'authMode', label: 'Sign in with', type: 'select', secret: false, required: true, defaultValue: 'token',
      help: 'A private app access token (one HubSpot account), or an OAuth app with a refresh token.',
      options: [{ value: 'token', label: 'Private app access token' }, { value: 'oauth', label: 'OAuth app (refresh token)' }],
    },
    { name: 'accessToken', label: 'Access token', type: 'secret', secret: true, required: false, help: 'Private app token (Settings > Integrations > Private apps) with crm.objects.contacts.read and crm.objects.companies.read.' },
    { name: 'clientId', label: 'Client ID', type: 'text', secret: false, required: false, help: 'OAuth only: the Client ID of your HubSpot app.' },
    { name: 'clientSecret', label: 'Client secret', type: 'secret', secret: true, required: false, help: 'OAuth only: the Client secret of your HubSpot app.' },
    { name: 'refreshToken', label: 'Refresh token', type: 'secret', secret: true, required: false, help: 'OAuth only: the refresh token HubSpot returned when the app was installed.' },
    { name: 'baseUrl', label: 'API base URL', type: 'url', secret: false, required: false, defaultValue: DEFAULT_BASE_URL, placeholder: DEFAULT_BASE_URL, help: 'Leave as https://api.hubapi.com unless your requests go through a proxy.' },
  ],
  schema: settingsSchema,
  create: (settings, services) => new HubSpotConnector(settings, services),
};
