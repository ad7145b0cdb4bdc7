/**
 * "Proprietary CRM" and "Proprietary CRM I": two independently configured declarative HTTP
 * connectors for a customer's in-house CRM (kinds `proprietary` and `proprietary_1`, one factory).
 *
 * ## The request
 * - Authentication: None; HTTP Basic (username + password); Bearer token (the password);
 *   API key (the password, in the header named by "API key header", default X-API-Key); OAuth2
 *   client credentials or password grant: a form POST to the token URL (client ID and secret in
 *   the body or as a Basic header, optional scope), the access token sent as `Bearer` and cached
 *   until `expires_in` (1 h when absent); a 401 on a lookup fetches one new token, then is AUTH.
 *   A rule's CRM Username / CRM Password replace the integration's username / password (for
 *   client credentials: the client ID / secret).
 * - Method GET or POST; the URL, query parameters (`name=value` per line), headers (`Name: value`
 *   per line) and the POST body (JSON) may hold placeholders:
 *     {e164} +15551234567   {national} 5551234567   {international} 15551234567
 *     {digits} the caller ID's digits as received   {last7} .. {last10} the last 7-10 national digits
 *     {field} the rule's CRM Field Name   {module} the rule's module   {dtmf} digits typed at the greeting
 *     {did} the dialled number
 *   Each value is escaped where it lands: percent-encoded in the URL and query (never in the
 *   host), control characters dropped in headers, and JSON-escaped in the body, whose template
 *   must be valid JSON with placeholders inside strings: {"phone": "{e164}", "fields": ["{field}"]}.
 *   `Accept: application/json` is sent unless a header line gives another.
 *
 * ## The answer (JSON)
 * - Value path: where the value sits, e.g. `data.0.Account_Name`, `records[0].fields.tier`,
 *   `data[*].{field}`. Steps are keys and indexes separated by dots; `[n]` is an index (`[-1]` the
 *   last); `["a key"]` quotes a key with dots or spaces; `*` (or `[*]`) marks the list of
 *   matching records, once at most; `{field}` is replaced by the rule's field (itself a path, so
 *   a field `fields.tier` reads nested values). The record is the element `*` stands for, or
 *   without `*` the object holding the value.
 * - Phone path (optional): where a record's number(s) sit, relative to the record (`phone`,
 *   `phones[*].number`); a record none of whose numbers is the caller's is dropped.
 * - Several records: the first one left, in the CRM's order (sort in your query).
 * - Not found: a status listed in "Not-found statuses" (e.g. 404), 204 or an empty body, an
 *   empty "Not-found path" (missing, null, false, 0, "", [] or {}), or no record at the value
 *   path (an empty list, a missing object). A record without the field gives the empty value ''.
 *   A lookup whose search placeholders ({e164} .. {last10}, {dtmf}) would be empty (unknown
 *   caller, no digits typed) is not sent at all: an empty search term could match every record.
 *
 * ## The tools
 * - Test connection: authentication plus a lookup of a made-up number (no record is success).
 * - Modules: the "Modules" setting. Fields: the CRM has no metadata endpoint, so the "Sample
 *   caller number" is looked up and the keys of the object holding the value (the value path's
 *   parent, in the first record) are listed.
 */
import type { LookupRequest, LookupResult } from '../connector';
import type { CrmKind } from '../../domain/crm-kinds';
import { CrmError, errorForStatus } from '../shared/crm-error';
import { runConnectionTest, SAMPLE_CALLER_ID, sampleRequest } from '../shared/connection-test';
import { fieldValueToText } from '../shared/field-value';
import type { ConnectorServices, Credentials, CrmDefinition, CrmField, IntegrationConnector } from '../integration';
import { isEmptyValue, parsePath, PathSyntaxError, readAll, readPath, type PathSegment } from '../shared/json-path';
import { isSamePhone, phoneVariants, type PhoneVariants } from '../../domain/phone';
import { fetchOAuthToken, isOAuth, missingCredentials, schemeCredentials, staticAuthHeaders, type AuthToken } from './auth';
import { compileRequest, proprietaryFields, proprietarySchema, type CompiledRequest, type ProprietarySettings } from './settings';
import { placeholderValues, renderBody, renderHeaders, renderUrl, usedPlaceholders, type Placeholder, type PlaceholderValues } from '../shared/request-template';
import { sessionKey } from '../shared/session-key';
import type { CallLogWriter } from '../call-log-writer';
import type { HttpRequest, HttpResponse } from '../shared/http-client';
import { compileLogRequest, LOG_TIMEOUT_MS, writeCall } from './call-log';
import { asCrmError, lookupResult, parseJsonBody, retryAfterMs, withSession } from '../shared/vendor-call';

/** A 401 with a static credential: no new login can help, so withSession must not retry it. */
/** Search terms that must not be sent empty: an empty term could match every record. */
const SEARCH_TERMS: Placeholder[] = ['e164', 'national', 'international', 'digits', 'last7', 'last8', 'last9', 'last10', 'dtmf'];

class FinalError {
  constructor(readonly error: CrmError) {}
}

interface Found {
  record: unknown;
  /** The object holding the value (listFields reads its keys). */
  holder: unknown;
  value: unknown;
}

export class ProprietaryCrmConnector implements IntegrationConnector {
  private readonly compiled: CompiledRequest;
  private readonly searchTerms: Placeholder[];
  /** Set only when the settings have a Call log URL: without it the CRM takes no calls. */
  readonly logCall?: CallLogWriter['logCall'];

  constructor(private readonly kind: CrmKind, private readonly label: string, private readonly settings: ProprietarySettings, private readonly services: ConnectorServices) {
    this.compiled = compileRequest(settings);
    const used = usedPlaceholders([settings.url, settings.queryParams, settings.headers, settings.method === 'POST' ? settings.body : '']);
    this.searchTerms = SEARCH_TERMS.filter((p) => used.has(p));
    if (settings.logUrl !== '') {
      const template = compileLogRequest(settings);
      this.logCall = (activity, credentials, signal) => writeCall(template, activity, signal, (request) => this.send(request, credentials, signal), this.label);
    }
  }

  /** A call log request with the lookup's authentication (a 401 with OAuth2 fetches one new token). */
  private async send(request: Omit<HttpRequest, 'signal' | 'what'>, given: Credentials, signal: AbortSignal): Promise<HttpResponse> {
    const s = this.settings;
    const credentials = schemeCredentials(s, given);
    const missing = missingCredentials(s, credentials);
    if (missing) throw new CrmError('CONFIG', `${this.label} needs ${missing}: enter it on the Integration page.`);
    const origin = new URL(request.url).origin;
    const key = sessionKey(this.kind, origin, [s.authType, s.tokenUrl, s.clientId, s.scope], [credentials.username, credentials.password, s.clientSecret]);
    const login = async (_previous: AuthToken | undefined, loginSignal: AbortSignal): Promise<AuthToken> => (isOAuth(s.authType)
      ? fetchOAuthToken(this.services.http, s, credentials, loginSignal, this.label)
      : { headers: staticAuthHeaders(s, credentials), expiresAt: Number.POSITIVE_INFINITY });
    try {
      return await withSession({ tokens: this.services.tokens, key, login, signal, deadlineAt: Date.now() + LOG_TIMEOUT_MS }, async (token) => {
        const res = await this.services.http.request({ ...request, signal, what: this.label, timeoutMs: LOG_TIMEOUT_MS, headers: { ...request.headers, ...token.headers } });
        if (res.status === 401) {
          const error = errorForStatus(401, this.label);
          throw isOAuth(s.authType) ? error : new FinalError(error);
        }
        return res;
      });
    } catch (err) {
      throw err instanceof FinalError ? err.error : asCrmError(err, this.label, signal);
    }
  }

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(this.label, signal, async () => {
      const found = await this.find(request, signal);
      if (!found) return { kind: 'not_found' };
      return { kind: 'value', value: fieldValueToText(found.first.value), matches: found.count };
    });
  }

  testConnection(credentials: Credentials, signal: AbortSignal) {
    return runConnectionTest(this.label, signal, async () => {
      const found = await this.find(this.sample(SAMPLE_CALLER_ID, credentials), signal);
      return `${isOAuth(this.settings.authType) ? 'Got an access token and looked' : 'Looked'} up a made-up number: ${found ? 'a record came back (check the value path)' : 'no record, as expected'}.`;
    });
  }

  async listModules(): Promise<string[]> {
    return this.settings.modules;
  }

  async listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    if (this.settings.sampleCallerId === '') throw new CrmError('CONFIG', `${this.label} has no metadata endpoint: enter a "Sample caller number" of a real record to list its fields.`);
    const found = await this.find({ ...this.sample(this.settings.sampleCallerId, credentials), module }, signal);
    const holder = found?.first.holder;
    if (!holder || typeof holder !== 'object') throw new CrmError('CONFIG', `The sample caller number found no record in ${this.label}: enter the number of a record that exists.`);
    return Object.entries(holder as Record<string, unknown>).map(([name, value]) => ({ name, label: name, type: jsonType(value) })).sort((a, b) => a.name.localeCompare(b.name));
  }

  private sample(callerId: string, credentials: Credentials): LookupRequest {
    // A made-up DTMF entry too, so a CRM searched by what callers type is still asked.
    return { ...sampleRequest(this.settings.modules[0] ?? '', 'id', credentials), callerId, dtmf: '0000' };
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<{ first: Found; count: number } | undefined> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    const values = placeholderValues(phone, { field: request.fieldName, module: request.module, dtmf: request.dtmf, did: request.did });
    // An unknown caller (or no DTMF where the search uses it) is no record, and nothing is sent.
    if (this.searchTerms.some((p) => values[p] === '') || (this.compiled.phonePath && phone.national === '')) return undefined;
    const valuePath = this.valuePath(request.fieldName);
    const body = await this.fetch(request, values, signal);
    if (body === null) return undefined;
    if (this.compiled.notFoundPath && readAll(body, this.compiled.notFoundPath).every(isEmptyValue)) return undefined;
    const records = readRecords(body, valuePath).filter((r) => this.isCallers(r.record, phone));
    const first = records[0];
    return first ? { first, count: records.length } : undefined;
  }

  private valuePath(field: string): PathSegment[] {
    let fieldPath: PathSegment[] = [];
    if (this.settings.valuePath.includes('{field}')) {
      try {
        fieldPath = parsePath(field);
      } catch (err) {
        if (err instanceof PathSyntaxError) throw new CrmError('CONFIG', `The field "${field}" is not a path: ${err.message}.`);
        throw err;
      }
      if (fieldPath.length === 0 || fieldPath.some((s) => s.kind === 'all')) throw new CrmError('CONFIG', `The field "${field}" must name a field (no *).`);
    }
    return this.compiled.valuePath.flatMap((s) => (s.kind === 'key' && s.key === '{field}' ? fieldPath : [s]));
  }

  private isCallers(record: unknown, phone: PhoneVariants): boolean {
    if (!this.compiled.phonePath) return true;
    return readAll(record, this.compiled.phonePath).some((n) => (typeof n === 'string' || typeof n === 'number') && isSamePhone(String(n), phone));
  }

  /** The answer's JSON, or null for "no record" (a not-found status, 204, an empty body). */
  private async fetch(request: LookupRequest, values: PlaceholderValues, signal: AbortSignal): Promise<unknown> {
    const s = this.settings;
    const url = renderUrl(s.url, this.compiled.query, values);
    const templateHeaders = renderHeaders(this.compiled.headers, values);
    const body = this.compiled.body === undefined ? undefined : renderBody(this.compiled.body, values);
    const credentials = schemeCredentials(s, request.credentials);
    const missing = missingCredentials(s, credentials);
    if (missing) throw new CrmError('CONFIG', `${this.label} needs ${missing}: enter it on the Integration page or in the rule.`);
    const key = sessionKey(this.kind, url.origin, [s.authType, s.tokenUrl, s.clientId, s.scope], [credentials.username, credentials.password, s.clientSecret]);
    const login = async (_previous: AuthToken | undefined, loginSignal: AbortSignal): Promise<AuthToken> => (isOAuth(s.authType)
      ? fetchOAuthToken(this.services.http, s, credentials, loginSignal, this.label)
      : { headers: staticAuthHeaders(s, credentials), expiresAt: Number.POSITIVE_INFINITY });
    try {
      return await withSession({ tokens: this.services.tokens, key, login, signal, deadlineAt: request.deadlineAt }, async (token) => {
        const res = await this.services.http.request({
          method: s.method, url, signal, what: this.label, body,
          headers: { accept: 'application/json', ...templateHeaders, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...token.headers },
        });
        if (s.notFoundStatuses.includes(res.status)) return null;
        if (res.status < 200 || res.status >= 300) {
          const error = errorForStatus(res.status, this.label, retryAfterMs(res));
          throw error.code === 'AUTH' && !isOAuth(s.authType) ? new FinalError(error) : error;
        }
        return parseJsonBody(res, this.label);
      });
    } catch (err) {
      throw err instanceof FinalError ? err.error : asCrmError(err, this.label, signal);
    }
  }
}

/** Each record the value path reaches, with the object holding its value and the value itself. */
export function readRecords(body: unknown, path: PathSegment[]): Found[] {
  const star = path.findIndex((s) => s.kind === 'all');
  if (star < 0) {
    if (path.length === 0) return body === undefined || body === null ? [] : [{ record: body, holder: body, value: body }];
    const holder = readPath(body, path.slice(0, -1));
    return holder !== null && typeof holder === 'object' ? [{ record: holder, holder, value: readPath(holder, path.slice(-1)) }] : [];
  }
  const rest = path.slice(star + 1);
  return readAll(body, path.slice(0, star + 1))
    .filter((record) => record !== null && record !== undefined)
    .map((record) => ({ record, holder: rest.length === 0 ? record : readPath(record, rest.slice(0, -1)), value: readPath(record, rest) }));
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function createProprietaryDefinition(kind: Extract<CrmKind, 'proprietary' | 'proprietary_1'>, label: string): CrmDefinition<ProprietarySettings> {
  return {
    kind,
    label,
    credentialsHelp: 'Basic / OAuth2 password grant: the CRM username and password; Bearer / API key: Password is the token or key; OAuth2 client credentials: client ID and secret; None: not used.',
    modules: [],
    fields: proprietaryFields,
    schema: proprietarySchema,
    create: (settings, services) => new ProprietaryCrmConnector(kind, label, settings, services),
  };
}

export const proprietaryDefinition = createProprietaryDefinition('proprietary', 'Proprietary CRM');
export const proprietary1Definition = createProprietaryDefinition('proprietary_1', 'Proprietary CRM I');
