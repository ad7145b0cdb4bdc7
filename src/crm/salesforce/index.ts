/**
 * Salesforce (REST API v60.0).
 *
 * Sign-in (settings.ts, sign-in.ts): client credentials by default, at the org's My Domain;
 * Connect's refresh token (connect.ts); the username-password flow only as a legacy choice.
 * Calls go to the `instance_url` of the token answer with `Authorization: Bearer`. Salesforce
 * gives no expiry in the answer: a session lives until the org's inactivity timeout (15 minutes
 * at the shortest), so it is reused for 14 minutes, and one new sign-in follows a 401
 * INVALID_SESSION_ID.
 *
 * Lookup: SOSL (sosl.ts) `FIND {national OR international OR trunk-form digits} IN PHONE FIELDS
 * RETURNING {Object}(Id, {Field}, {phone fields}, LastModifiedDate ORDER BY LastModifiedDate DESC
 * LIMIT 10)`. Related fields such as Account.Name are read from the nested objects of
 * `searchRecords`. Every phone field returned is re-checked; phone fields come from a built-in
 * list for Contact, Lead and Account and from `describe` (cached) for others.
 *
 * Several matches: the most recently modified record (LastModifiedDate), then the lowest Id.
 * The org's daily API allowance used up (403 REQUEST_LIMIT_EXCEEDED) is reported RATE_LIMITED.
 */
import type { z } from 'zod';
import { isSamePhone, phoneVariants, type PhoneVariants } from '../../domain/phone';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import type { LookupRequest, LookupResult } from '../connector';
import { withCallLog } from '../shared/call-log-result';
import { CrmError, errorForStatus, type CrmErrorCode } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { HttpResponse } from '../shared/http-client';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { mapConcurrently } from '../shared/map-concurrently';
import { MetadataCache } from '../shared/metadata-cache';
import { pickMostRecent } from '../shared/record-pick';
import { requiredCredentials, sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, parseJsonBody, retryAfterMs, withSession } from '../shared/vendor-call';
import { describeAnswer, searchAnswer, sobjectsAnswer } from './answers';
import { SalesforceCallLog } from './call-log';
import { salesforceConnect } from './connect';
import { salesforceCredentialsHelp, salesforceFields, salesforceSettingsSchema, type SalesforceSettings } from './settings';
import { salesforceTokenRequest } from './sign-in';
import { soslQuery } from './sosl';

export { escapeSosl, soslQuery } from './sosl';
export { salesforceSignsInAlone, type SalesforceSettings } from './settings';

const WHAT = 'Salesforce';
export const API = '/services/data/v60.0';
const SESSION_REUSE_MS = 14 * 60_000;
const META = { timeoutMs: 10_000, maxBodyBytes: 4 * 1024 * 1024 };
const OBJECT = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;
const FIELD_PATH = /^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}$/;
const STANDARD_PHONE_FIELDS: Record<string, string[]> = {
  contact: ['Phone', 'MobilePhone', 'HomePhone', 'OtherPhone', 'AssistantPhone'],
  lead: ['Phone', 'MobilePhone'],
  account: ['Phone'],
};
const FLOW_NAMES = { client_credentials: 'client credentials', refresh_token: 'the refresh token from Connect', password: 'the legacy username and password' } as const;

export type RequestLimits = { timeoutMs?: number; maxBodyBytes?: number };

export interface SalesforceSession extends CachedToken {
  accessToken: string;
  instanceUrl: string;
  /** The refresh token to use next (a rotated one, when the app rotates them). */
  refreshToken?: string;
}

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
      const done = `Signed in at ${this.settings.loginUrl} with ${FLOW_NAMES[this.settings.authFlow]} and searched Contact phones: ${sampleOutcome(result)}.`;
      return this.settings.authFlow === 'password'
        ? `${done} Warning: Salesforce is retiring the username-password flow (help article 000886201) and blocks it by default in orgs created since Summer '23: switch to client credentials.`
        : done;
    });
  }

  /** Objects a rule can search: Contact, Lead, Account and custom objects with a phone field. */
  listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (session) => {
      const answer = await this.get(session, `${API}/sobjects/`, signal, sobjectsAnswer, META);
      const searchable = (answer?.sobjects ?? []).filter((o) => o.searchable !== false);
      const known = searchable.filter((o) => STANDARD_PHONE_FIELDS[o.name.toLowerCase()]).map((o) => o.name);
      const custom = searchable.filter((o) => o.custom === true || o.name.endsWith('__c')).map((o) => o.name).filter((name) => !known.includes(name));
      const phones = await mapConcurrently(custom, 4, async (object) => {
        try {
          return await this.phoneFieldsOf(session, object, signal);
        } catch (err) {
          if (err instanceof CrmError && err.code === 'NOT_FOUND_URL') return [];
          throw err;
        }
      });
      return [...known, ...custom.filter((_, i) => (phones[i]?.length ?? 0) > 0)];
    });
  }

  /** Fields of an object the lookup can search (one with a phone field). */
  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const object = objectName(module);
    return this.session(credentials, signal, Date.now() + META.timeoutMs, async (session) => {
      const answer = await this.get(session, `${API}/sobjects/${object}/describe`, signal, describeAnswer, META);
      if (!(answer?.fields ?? []).some((f) => f.type === 'phone')) throw new CrmError('CONFIG', `Salesforce object ${object} has no phone field: a rule cannot find callers in it.`);
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
      const found = await this.findByPhone(session, object, phone, [field], signal);
      if (!found) return { kind: 'not_found' };
      return { kind: 'value', value: fieldValueToText(readPath(found.record, field)), matches: found.matches };
    });
  }

  /**
   * The `object` record carrying the caller's number (the lookup's SOSL search; the call log
   * links its Task to it): the most recently modified of the re-checked matches, `fields` read.
   */
  async findByPhone(session: SalesforceSession, object: string, phone: PhoneVariants, fields: string[], signal: AbortSignal, limits: RequestLimits = {}): Promise<{ record: Record<string, unknown>; id: string; matches: number } | undefined> {
    const phoneFields = await this.phoneFields(session, object, signal);
    const field = fields[0] ?? 'Id';
    const answer = await this.get(session, `${API}/search/?q=${encodeURIComponent(soslQuery(phone, object, field, phoneFields))}`, signal, searchAnswer, limits);
    const matches = (answer?.searchRecords ?? []).filter((r) => phoneFields.some((f) => isPhoneOf(readPath(r, f), phone)));
    const best = pickMostRecent(matches.map((r) => ({ record: r, modifiedAt: Date.parse(String(readPath(r, 'LastModifiedDate'))), id: String(readPath(r, 'Id') ?? '') })));
    return best && { record: best.record, id: best.id, matches: matches.length };
  }

  private async phoneFields(session: SalesforceSession, object: string, signal: AbortSignal): Promise<string[]> {
    const phones = await this.phoneFieldsOf(session, object, signal);
    if (phones.length === 0) throw new CrmError('CONFIG', `Salesforce object ${object} has no phone field to search.`);
    return phones;
  }

  private phoneFieldsOf(session: SalesforceSession, object: string, signal: AbortSignal): Promise<string[]> {
    const standard = STANDARD_PHONE_FIELDS[object.toLowerCase()];
    if (standard) return Promise.resolve(standard);
    return this.phoneFieldCache.get(`${session.instanceUrl}|${object}`, async () => {
      const answer = await this.get(session, `${API}/sobjects/${object}/describe`, signal, describeAnswer, META);
      return (answer?.fields ?? []).filter((f) => f.type === 'phone').map((f) => f.name);
    });
  }

  /** The rule's credentials for the legacy flow; none for the others (the app signs in). */
  private credentials(rule: Credentials): Credentials {
    if (this.settings.authFlow !== 'password') return { username: '', password: '' };
    const defaults = { username: this.settings.username, password: this.settings.password ? this.settings.password + this.settings.securityToken : '' };
    return requiredCredentials(rule, defaults, 'No Salesforce username and password: enter them in CRM > Integration or in the rule\'s CRM Username and CRM Password (or switch to client credentials).');
  }

  private tokenKey(credentials: Credentials): string {
    const { authFlow, clientId, clientSecret, refreshToken } = this.settings;
    return sessionKey('salesforce', this.settings.loginUrl, [authFlow, clientId, credentials.username], [clientSecret, credentials.password, refreshToken]);
  }

  /** Runs `attempt` signed in (one re-login after a 401); also the call log's sign-in. */
  session<R>(rule: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (session: SalesforceSession) => Promise<R>): Promise<R> {
    const credentials = this.credentials(rule);
    const login = (previous: SalesforceSession | undefined, loginSignal: AbortSignal) => this.signIn(credentials, previous, loginSignal);
    // After Connect, a refresh may answer a rotated refresh token: shared by every process of the host.
    const durable = this.settings.authFlow === 'refresh_token';
    return withSession({ tokens: this.services.tokens, key: this.tokenKey(credentials), login, signal, deadlineAt, durable }, attempt);
  }

  private async signIn(credentials: Credentials, previous: SalesforceSession | undefined, signal: AbortSignal): Promise<SalesforceSession> {
    const { authFlow, clientId, clientSecret } = this.settings;
    const form: Record<string, string> = { grant_type: authFlow, client_id: clientId, client_secret: clientSecret };
    if (authFlow === 'password') Object.assign(form, { username: credentials.username, password: credentials.password });
    if (authFlow === 'refresh_token') {
      const refreshToken = previous?.refreshToken ?? this.settings.refreshToken;
      if (!refreshToken) throw new CrmError('CONFIG', 'Salesforce is not connected yet: press Connect in CRM > Integration (or choose client credentials).');
      form.refresh_token = refreshToken;
    }
    const answer = await salesforceTokenRequest(this.services, this.settings.loginUrl, form, signal);
    const refreshToken = answer.refreshToken ?? form.refresh_token;
    return { accessToken: answer.accessToken, instanceUrl: answer.instanceUrl, expiresAt: Date.now() + SESSION_REUSE_MS, ...(refreshToken ? { refreshToken } : {}) };
  }

  /** A GET of the REST API with the session; a refusal becomes Salesforce's CrmError. */
  get<T>(session: SalesforceSession, path: string, signal: AbortSignal, schema: z.ZodType<T>, limits: RequestLimits = {}): Promise<T | null> {
    return this.send(session, 'GET', path, undefined, signal, schema, limits);
  }

  /** One REST API request with the session (the call log's creates are POSTs). */
  async send<T>(session: SalesforceSession, method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal, schema: z.ZodType<T>, limits: RequestLimits = {}): Promise<T | null> {
    const headers: Record<string, string> = { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.services.http.request({ method, url: `${session.instanceUrl}${path}`, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal, what: WHAT, ...limits });
    if (res.status < 200 || res.status >= 300) throw salesforceError(res);
    return parseJsonBody(res, WHAT, schema);
  }
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
  if (errorCode === 'INVALID_SESSION_ID') return as('AUTH', `Sign-in to Salesforce failed: it refused the session it had just issued (INVALID_SESSION_ID). Check that the signing-in user may use the API.${message ? ` Salesforce said: ${message}` : ''}`);
  if (errorCode === 'INVALID_FIELD' || errorCode === 'INVALID_TYPE' || errorCode === 'NOT_FOUND') return as('NOT_FOUND_URL', `Salesforce does not know the object or field asked for.${said}`);
  if (errorCode === 'API_DISABLED_FOR_ORG' || errorCode === 'INSUFFICIENT_ACCESS') return as('FORBIDDEN', `Salesforce refused access: the signed-in user or the org may not use the API or read this object.${said}`);
  return new CrmError(base.code, `${base.message}${said}`, base.details);
}

export const salesforceDefinition: CrmDefinition<SalesforceSettings> = {
  kind: 'salesforce',
  label: 'Salesforce',
  credentialsHelp: salesforceCredentialsHelp,
  modules: ['Contact', 'Lead', 'Account'],
  fields: salesforceFields,
  schema: salesforceSettingsSchema,
  create: (settings, services) => {
    const connector = new SalesforceConnector(settings, services);
    return withCallLog(connector, new SalesforceCallLog(connector, settings));
  },
  connect: salesforceConnect,
};
