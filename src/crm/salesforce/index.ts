/**
 * Salesforce (REST API v60.0).
 *
 * Auth: OAuth 2.0 against `POST {login}/services/oauth2/token` (form body), one of:
 * - username-password flow: grant_type=password, client_id, client_secret, username, and
 *   password = password followed by the security token (Salesforce is deprecating this flow);
 * - client credentials: grant_type=client_credentials with the connected app's "Run As" user;
 *   it needs the My Domain login URL (https://{domain}.my.salesforce.com).
 * Calls go to the `instance_url` of the token answer with `Authorization: Bearer`. There is no
 * refresh token and no expiry in the answer: a session lives until the org's inactivity timeout
 * (15 minutes at the shortest), so it is reused for 14 minutes, and one re-login follows a 401
 * INVALID_SESSION_ID.
 *
 * Lookup: SOSL `FIND {national OR international OR trunk-form digits} IN PHONE FIELDS RETURNING
 * {Object}(Id, {Field}, {phone fields}, LastModifiedDate) LIMIT 10`. Only digits reach the
 * query, and they are SOSL-escaped anyway. Related fields such as Account.Name are read from the
 * nested objects of `searchRecords`. Every phone field returned is re-checked; phone fields come
 * from a built-in list for Contact, Lead and Account and from `describe` (cached) for others.
 *
 * Several matches: the most recently modified record (LastModifiedDate), then the lowest Id.
 * The org's daily API allowance used up (403 REQUEST_LIMIT_EXCEEDED) is reported RATE_LIMITED.
 */
import { z } from 'zod';
import { isSamePhone, phoneVariants, type PhoneVariants } from '../../domain/phone';
import { regionField, regionSchema } from '../shared/common-settings';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import type { LookupRequest, LookupResult } from '../connector';
import { CrmError, errorForStatus, type CrmErrorCode } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { HttpResponse } from '../shared/http-client';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { MetadataCache } from '../shared/metadata-cache';
import { pickMostRecent } from '../shared/record-pick';
import { requiredCredentials, sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, parseJsonBody, retryAfterMs, withSession } from '../shared/vendor-call';

const WHAT = 'Salesforce';
const LOGIN_WHAT = 'Salesforce login';
const API = '/services/data/v60.0';
const SESSION_REUSE_MS = 14 * 60_000;
const META = { timeoutMs: 10_000, maxBodyBytes: 4 * 1024 * 1024 };
const OBJECT = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;
const FIELD_PATH = /^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}$/;
const STANDARD_PHONE_FIELDS: Record<string, string[]> = {
  contact: ['Phone', 'MobilePhone', 'HomePhone', 'OtherPhone', 'AssistantPhone'],
  lead: ['Phone', 'MobilePhone'],
  account: ['Phone'],
};

const settingsSchema = z
  .object({
    region: regionSchema,
    loginUrl: z
      .string()
      .trim()
      .default('https://login.salesforce.com')
      .refine((v) => /^https:\/\/[^/?#\s]+\/?$/.test(v), { message: 'Enter the login URL, starting with https:// and without a path: https://login.salesforce.com, https://test.salesforce.com (sandbox) or your My Domain.' })
      .transform((v) => v.replace(/\/$/, '')),
    authFlow: z.enum(['password', 'client_credentials'], { message: 'Choose the sign-in flow: username-password or client credentials.' }).default('password'),
    clientId: z.string().trim().min(1, 'Enter the Consumer Key of your connected app.'),
    clientSecret: z.string().trim().min(1, 'Enter the Consumer Secret of your connected app.'),
    username: z.string().trim().default(''),
    password: z.string().default(''),
    securityToken: z.string().trim().default(''),
  })
  .superRefine((s, ctx) => {
    if (s.authFlow === 'client_credentials' && /^https:\/\/(login|test)\.salesforce\.com$/i.test(s.loginUrl)) {
      ctx.addIssue({ code: 'custom', path: ['loginUrl'], message: 'Client credentials need your My Domain login URL, e.g. https://acme.my.salesforce.com.' });
    }
  });
export type SalesforceSettings = z.infer<typeof settingsSchema>;

interface SalesforceSession extends CachedToken {
  accessToken: string;
  instanceUrl: string;
}

const tokenAnswer = z.looseObject({ access_token: z.string().min(1), instance_url: z.string() });
const record = z.record(z.string(), z.unknown());
const searchAnswer = z.looseObject({ searchRecords: z.array(record) });
const sobjectsAnswer = z.looseObject({ sobjects: z.array(z.looseObject({ name: z.string(), searchable: z.boolean().optional() })) });
const describeAnswer = z.looseObject({
  fields: z.array(z.looseObject({ name: z.string(), label: z.string().optional(), type: z.string().optional(), relationshipName: z.string().nullable().optional() })),
});

export class SalesforceConnector implements IntegrationConnector {
  /** Phone fields of objects outside the built-in list, per instance and object. */
  private readonly phoneFieldCache = new MetadataCache<string[]>(200);

  constructor(private readonly settings: SalesforceSettings, private readonly services: ConnectorServices) {}

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(WHAT, signal, async () => {
      this.services.tokens.invalidate(this.tokenKey(this.credentials(credentials)));
      const result = await this.find(sampleRequest('Contact', 'Name', credentials), AbortSignal.any([signal, AbortSignal.timeout(META.timeoutMs)]));
      return `Signed in at ${this.settings.loginUrl} and searched Contact phones: ${sampleOutcome(result)}.`;
    });
  }

  listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (session) => {
      const answer = await this.get(session, `${API}/sobjects/`, signal, sobjectsAnswer, META);
      return (answer?.sobjects ?? []).filter((o) => o.searchable !== false).map((o) => o.name);
    });
  }

  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const object = objectName(module);
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (session) => {
      const answer = await this.get(session, `${API}/sobjects/${object}/describe`, signal, describeAnswer, META);
      return (answer?.fields ?? []).flatMap((f) => {
        const field = { name: f.name, label: f.label ?? f.name, type: f.type ?? '' };
        // A lookup's Id is rarely what routes a call; its record's name is (Account.Name).
        return f.relationshipName ? [field, { name: `${f.relationshipName}.Name`, label: `${field.label} (name)`, type: 'reference' }] : [field];
      });
    });
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national.length < 2) return { kind: 'not_found' }; // SOSL needs two characters to search
    const object = objectName(request.module || 'Contact');
    const field = request.fieldName.trim();
    if (!FIELD_PATH.test(field)) throw new CrmError('CONFIG', `"${field.slice(0, 60)}" is not a Salesforce field API name (e.g. Industry, Rating__c or Account.Name).`);
    return this.session(request.credentials, signal, request.deadlineAt, async (session) => {
      const phoneFields = await this.phoneFields(session, object, signal);
      const answer = await this.get(session, `${API}/search/?q=${encodeURIComponent(soslQuery(phone, object, field, phoneFields))}`, signal, searchAnswer);
      const matches = (answer?.searchRecords ?? []).filter((r) => phoneFields.some((f) => isPhoneOf(readPath(r, f), phone)));
      const best = pickMostRecent(matches.map((r) => ({ record: r, modifiedAt: Date.parse(String(readPath(r, 'LastModifiedDate'))), id: String(readPath(r, 'Id') ?? '') })));
      if (!best) return { kind: 'not_found' };
      return { kind: 'value', value: fieldValueToText(readPath(best.record, field)), matches: matches.length };
    });
  }

  private phoneFields(session: SalesforceSession, object: string, signal: AbortSignal): Promise<string[]> {
    const standard = STANDARD_PHONE_FIELDS[object.toLowerCase()];
    if (standard) return Promise.resolve(standard);
    return this.phoneFieldCache.get(`${session.instanceUrl}|${object}`, async () => {
      const answer = await this.get(session, `${API}/sobjects/${object}/describe`, signal, describeAnswer, META);
      const phones = (answer?.fields ?? []).filter((f) => f.type === 'phone').map((f) => f.name);
      if (phones.length === 0) throw new CrmError('CONFIG', `Salesforce object ${object} has no phone field to search.`);
      return phones;
    });
  }

  private credentials(rule: Credentials): Credentials {
    if (this.settings.authFlow === 'client_credentials') return { username: '', password: '' };
    const defaults = { username: this.settings.username, password: this.settings.password ? this.settings.password + this.settings.securityToken : '' };
    return requiredCredentials(rule, defaults, 'No Salesforce username and password: enter them in CRM > Integration or in the rule\'s CRM Username and CRM Password.');
  }

  private tokenKey(credentials: Credentials): string {
    return sessionKey('salesforce', this.settings.loginUrl, [this.settings.authFlow, this.settings.clientId, credentials.username], [this.settings.clientSecret, credentials.password]);
  }

  private session<R>(rule: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (session: SalesforceSession) => Promise<R>): Promise<R> {
    const credentials = this.credentials(rule);
    const login = (_previous: SalesforceSession | undefined, loginSignal: AbortSignal) => this.login(credentials, loginSignal);
    return withSession({ tokens: this.services.tokens, key: this.tokenKey(credentials), login, signal, deadlineAt }, attempt);
  }

  private async login(credentials: Credentials, signal: AbortSignal): Promise<SalesforceSession> {
    const form = new URLSearchParams({ grant_type: this.settings.authFlow, client_id: this.settings.clientId, client_secret: this.settings.clientSecret });
    if (this.settings.authFlow === 'password') {
      form.set('username', credentials.username);
      form.set('password', credentials.password);
    }
    const res = await this.services.http.request({
      method: 'POST', url: `${this.settings.loginUrl}/services/oauth2/token`, body: form.toString(), signal, what: LOGIN_WHAT,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    });
    if (res.status < 200 || res.status >= 300) throw loginError(res);
    const answer = parseJsonBody(res, LOGIN_WHAT, tokenAnswer)!;
    let instance: URL | undefined;
    try { instance = new URL(answer.instance_url); } catch { instance = undefined; }
    if (instance?.protocol !== 'https:') throw new CrmError('BAD_RESPONSE', `${LOGIN_WHAT} answered with an instance URL that is not https://.`);
    return { accessToken: answer.access_token, instanceUrl: instance.origin, expiresAt: Date.now() + SESSION_REUSE_MS };
  }

  private async get<T>(session: SalesforceSession, path: string, signal: AbortSignal, schema: z.ZodType<T>, limits: { timeoutMs?: number; maxBodyBytes?: number } = {}): Promise<T | null> {
    const res = await this.services.http.request({ method: 'GET', url: `${session.instanceUrl}${path}`, headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' }, signal, what: WHAT, ...limits });
    if (res.status < 200 || res.status >= 300) throw salesforceError(res);
    return parseJsonBody(res, WHAT, schema);
  }
}

/** Backslash before every SOSL reserved character: ? & | ! { } [ ] ( ) ^ ~ * : \ " ' + - */
export function escapeSosl(term: string): string {
  return term.replace(/[?&|!{}[\]()^~*:\\"'+-]/g, (c) => `\\${c}`);
}

export function soslQuery(phone: PhoneVariants, object: string, field: string, phoneFields: string[]): string {
  const terms = [...new Set([phone.national, phone.international, phone.nationalWithTrunk])].filter((t) => /^\d{2,}$/.test(t)).map(escapeSosl);
  const seen = new Set<string>();
  const fields = ['Id', field, ...phoneFields, 'LastModifiedDate'].filter((f) => !seen.has(f.toLowerCase()) && seen.add(f.toLowerCase()));
  return `FIND {${terms.join(' OR ')}} IN PHONE FIELDS RETURNING ${object}(${fields.join(', ')}) LIMIT 10`;
}

/** Reads `Account.Name` from {"Account": {"Name": ...}}; names match case-insensitively, as in SOSL. */
function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    const obj = current as Record<string, unknown>;
    const key = part in obj ? part : Object.keys(obj).find((k) => k.toLowerCase() === part.toLowerCase());
    current = key === undefined ? undefined : obj[key];
  }
  return current;
}

function isPhoneOf(value: unknown, phone: PhoneVariants): boolean {
  return typeof value === 'string' && isSamePhone(value, phone);
}

function objectName(module: string): string {
  const name = module.trim();
  if (!OBJECT.test(name)) throw new CrmError('CONFIG', `"${name.slice(0, 60)}" is not a Salesforce object API name (e.g. Contact, Lead, Account or Invoice__c).`);
  return name;
}

/** Salesforce API errors: [{"message": "...", "errorCode": "INVALID_SESSION_ID"}]. */
function salesforceError(res: HttpResponse): CrmError {
  const base = errorForStatus(res.status, WHAT, retryAfterMs(res));
  let errorCode = '';
  let message = '';
  try {
    const body = JSON.parse(res.body) as unknown;
    const first = (Array.isArray(body) ? body[0] : body) as { errorCode?: unknown; message?: unknown } | undefined;
    errorCode = typeof first?.errorCode === 'string' ? first.errorCode : '';
    message = typeof first?.message === 'string' ? first.message.slice(0, 200) : '';
  } catch { /* not JSON: the status says enough */ }
  const said = errorCode ? ` Salesforce said: ${errorCode}${message ? `: ${message}` : ''}` : '';
  const as = (code: CrmErrorCode, text: string) => new CrmError(code, text, { status: res.status });
  if (errorCode === 'REQUEST_LIMIT_EXCEEDED') {
    return as('RATE_LIMITED', 'Salesforce refused the request: the org\'s 24-hour API request allowance is used up (REQUEST_LIMIT_EXCEEDED). Calls go to the default destination until it recovers; see Setup > Company Information > API Requests.');
  }
  if (errorCode === 'INVALID_FIELD' || errorCode === 'INVALID_TYPE' || errorCode === 'NOT_FOUND') return as('NOT_FOUND_URL', `Salesforce does not know the object or field asked for.${said}`);
  if (errorCode === 'API_DISABLED_FOR_ORG' || errorCode === 'INSUFFICIENT_ACCESS') return as('FORBIDDEN', `Salesforce refused access: the user or org may not use the API.${said}`);
  return new CrmError(base.code, `${base.message}${said}`, base.details);
}

/** Token endpoint errors: {"error": "invalid_grant", "error_description": "authentication failure"}. */
function loginError(res: HttpResponse): CrmError {
  let error = '';
  let description = '';
  try {
    const body = JSON.parse(res.body) as { error?: unknown; error_description?: unknown };
    error = typeof body.error === 'string' ? body.error : '';
    description = typeof body.error_description === 'string' ? body.error_description.slice(0, 160) : '';
  } catch { /* not JSON */ }
  const said = error ? ` (${error}${description ? `: ${description}` : ''})` : '';
  if (res.status === 400 || res.status === 401) {
    if (error === 'unsupported_grant_type') return new CrmError('CONFIG', `${LOGIN_WHAT}: the connected app does not allow this sign-in flow${said}.`, { status: res.status });
    if (error.startsWith('invalid_client')) return new CrmError('AUTH', `${LOGIN_WHAT} rejected the Consumer Key or Consumer Secret${said}.`, { status: res.status });
    return new CrmError('AUTH', `${LOGIN_WHAT} rejected the credentials${said}: check the username, and the password followed by the security token.`, { status: res.status });
  }
  const base = errorForStatus(res.status, LOGIN_WHAT, retryAfterMs(res));
  return new CrmError(base.code, `${base.message}${said}`, base.details);
}

export const salesforceDefinition: CrmDefinition<SalesforceSettings> = {
  kind: 'salesforce',
  label: 'Salesforce',
  credentialsHelp: 'Username: the Salesforce username. Password: the password followed by the security token (if your org requires one). Both unused with client credentials.',
  modules: ['Contact', 'Lead', 'Account'],
  fields: [
    regionField,
    { name: 'loginUrl', label: 'Login URL', type: 'url', secret: false, required: true, defaultValue: 'https://login.salesforce.com', placeholder: 'https://login.salesforce.com', help: 'https://login.salesforce.com, https://test.salesforce.com for a sandbox, or your My Domain (needed for client credentials).' },
    {
      name: 'authFlow', label: 'Sign-in flow', type: 'select', secret: false, required: true, defaultValue: 'password',
      help: 'Username-password (being retired by Salesforce) or client credentials with a "Run As" user on the connected app.',
      options: [{ value: 'password', label: 'Username and password' }, { value: 'client_credentials', label: 'Client credentials' }],
    },
    { name: 'clientId', label: 'Consumer Key', type: 'text', secret: false, required: true, help: 'Consumer Key of the connected app (App Manager > View > Manage Consumer Details).' },
    { name: 'clientSecret', label: 'Consumer Secret', type: 'secret', secret: true, required: true, help: 'Consumer Secret of the same connected app.' },
    { name: 'username', label: 'Default username', type: 'text', secret: false, required: false, help: 'Username-password flow: used when a rule leaves CRM Username empty.' },
    { name: 'password', label: 'Default password', type: 'secret', secret: true, required: false, help: 'Username-password flow: that user\'s password, used when a rule leaves CRM Password empty.' },
    { name: 'securityToken', label: 'Security token', type: 'secret', secret: true, required: false, help: 'Appended to the default password; leave empty if your org trusts this server\'s IP range.' },
  ],
  schema: settingsSchema,
  create: (settings, services) => new SalesforceConnector(settings, services),
};
