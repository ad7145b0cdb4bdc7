/**
 * Dynamics 365 / Dataverse Web API (OData v4) with an Entra ID application (client credentials;
 * the app needs an "application user" with a read role in the environment), or as the user who
 * signed in with "Connect" (connect.ts: a refresh token of the integration's own app).
 *
 * Token: `POST {loginHost}/{tenant}/oauth2/v2.0/token` form `grant_type=client_credentials&client_id
 *   &client_secret&scope={orgUrl}/.default`; no refresh token, a new one near expiry. After
 *   Connect, the refresh_token grant instead (durable key: every process uses the current one).
 * Lookup: `GET {orgUrl}/api/data/v9.2/{set}?$select={id},modifiedon,{field},telephone1,...
 *   &$filter=contains(telephone1,'123-4567') or ...&$orderby=modifiedon desc&$top=5`
 * with OData-MaxVersion/OData-Version 4.0 and `Prefer: odata.include-annotations=
 * "OData.Community.Display.V1.FormattedValue"`; the answer is `{"value":[...]}`.
 * Names are logical names (contact, telephone1); a lookup column is read as `_x_value` and its
 * formatted value (the record's name) is used; an option set's formatted value (its label) is
 * used; numbers, money, dates and booleans keep their raw, locale-free value.
 *
 * Several matches: the most recent modifiedon, then the lowest id.
 *
 * Modules: `EntityDefinitions?$select=LogicalName,EntitySetName`; fields:
 * `EntityDefinitions(LogicalName='{entity}')/Attributes?$select=LogicalName,AttributeType,AttributeOf`
 * (AttributeOf drops the virtual name columns that cannot be selected). A custom entity's set
 * name and id column come from `EntityDefinitions(LogicalName='{entity}')` once per connector.
 */
import { z } from 'zod';
import type { LookupRequest, LookupResult } from '../connector';
import { CrmError, errorForStatus } from '../shared/crm-error';
import { checkName, logicalEntityName, odataQuery, odataString, phoneFilter, PHONE_COLUMNS, readODataJson } from './odata';
import { fieldValueToText } from '../shared/field-value';
import { OWNER_READ } from '../owner-lookup';
import { emailOf365, OWNER_ID_FIELD, systemUser365Answer, systemUser365Path } from './owners';
import type { ConnectorServices, Credentials, CrmField } from '../integration';
import { isSamePhone, phoneVariants, type CountryCode } from '../../domain/phone';
import { phoneSearchTerms } from '../shared/phone-search-terms';
import { pickMostRecent } from '../shared/record-pick';
import { sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { parseJsonBody, retryAfterMs, withSession, type SessionOptions } from '../shared/vendor-call';
import { refreshDelegatedToken, type DelegatedToken } from './connect';

const WHAT = 'Dynamics 365';
const API = 'api/data/v9.2';
const METADATA_TIMEOUT_MS = 10_000;
const METADATA_MAX_BYTES = 2 * 1024 * 1024;
const FORMATTED = 'OData.Community.Display.V1.FormattedValue';
const LOOKUP_TYPES = new Set(['Lookup', 'Customer', 'Owner']);

export interface Dynamics365Options {
  orgUrl: string;
  tenantId: string;
  loginHost: string;
  /** Logical names to search in every entity; empty: the stock phone columns. */
  phoneColumns: string[];
  region: CountryCode;
  /** From Connect, with the app it belongs to: lookups with that app's credentials run as the user who signed in. */
  connected?: { clientId: string; refreshToken: string };
}

interface EntityInfo {
  set: string;
  id: string;
}

interface BearerToken extends CachedToken {
  accessToken: string;
}

const STOCK_ENTITIES: Record<string, EntityInfo> = {
  contact: { set: 'contacts', id: 'contactid' },
  account: { set: 'accounts', id: 'accountid' },
  lead: { set: 'leads', id: 'leadid' },
};

const valueSchema = z.object({ value: z.array(z.record(z.string(), z.unknown())) });
const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive().default(3599) });
const entitySchema = z.object({ EntitySetName: z.string(), PrimaryIdAttribute: z.string() });

export class Dynamics365Api {
  private readonly entities = new Map<string, EntityInfo>(Object.entries(STOCK_ENTITIES));

  constructor(private readonly options: Dynamics365Options, private readonly services: ConnectorServices) {}

  async find(request: LookupRequest, credentials: Credentials, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.options.region);
    const terms = phoneSearchTerms(phone);
    if (terms.length === 0) return { kind: 'not_found' };
    const logical = logicalEntityName(request.module || 'contact');
    checkName(logical, 'entity');
    checkName(request.fieldName, 'field');
    // `ownerid` reads the owner's GUID ("Owner's extension" rows, owners.ts), not its name.
    const ownerId = request.fieldName === OWNER_ID_FIELD;
    const field = ownerId ? '_ownerid_value' : request.fieldName;
    const columns = this.phoneColumns(logical);
    const entity = await this.entity(logical, credentials, signal, request.deadlineAt);
    const query = odataQuery([
      ['$select', [...new Set([entity.id, 'modifiedon', field, ...columns])].join(',')],
      ['$filter', phoneFilter(columns, terms, 'v4')],
      ['$orderby', 'modifiedon desc'],
      ['$top', '5'],
    ]);
    const body = await this.get(`${this.options.orgUrl}/${API}/${entity.set}?${query}`, credentials, signal, request.deadlineAt, valueSchema);
    const matches = (body?.value ?? []).filter((r) => columns.some((c) => typeof r[c] === 'string' && isSamePhone(r[c] as string, phone)));
    const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: Date.parse(String(record.modifiedon ?? '')), id: String(record[entity.id] ?? '') })));
    if (!best) return { kind: 'not_found' };
    const value = ownerId ? fieldValueToText(best.record[field]) : webApiValueToText(best.record, field);
    return { kind: 'value', value, matches: matches.length };
  }

  /** The e-mail of the system user `id` (owners.ts); null for no such user or one without an e-mail. */
  async ownerEmail(id: string, credentials: Credentials, signal: AbortSignal): Promise<string | null> {
    try {
      return emailOf365(await this.get(`${this.options.orgUrl}/${API}/${systemUser365Path(id)}`, credentials, signal, Date.now() + OWNER_READ.timeoutMs, systemUser365Answer, true));
    } catch (err) {
      if (err instanceof CrmError && err.code === 'NOT_FOUND_URL') return null;
      throw err;
    }
  }

  async listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    const url = `${this.options.orgUrl}/${API}/EntityDefinitions?${odataQuery([['$select', 'LogicalName,EntitySetName']])}`;
    const body = await this.get(url, credentials, signal, Date.now() + METADATA_TIMEOUT_MS, z.object({ value: z.array(z.object({ LogicalName: z.string(), EntitySetName: z.string().nullable() })) }), true);
    // Only entities the lookup can search: all when "Phone columns" names them, else the stock ones.
    return (body?.value ?? []).filter((e) => e.EntitySetName && (this.options.phoneColumns.length > 0 || e.LogicalName in PHONE_COLUMNS)).map((e) => e.LogicalName).sort();
  }

  async listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const logical = logicalEntityName(module);
    checkName(logical, 'entity');
    this.phoneColumns(logical); // an entity the lookup refuses is refused here too
    const url = `${this.options.orgUrl}/${API}/EntityDefinitions(LogicalName=${odataString(logical)})/Attributes?${odataQuery([['$select', 'LogicalName,AttributeType,AttributeOf']])}`;
    const schema = z.object({ value: z.array(z.object({ LogicalName: z.string(), AttributeType: z.string().nullable(), AttributeOf: z.string().nullable().optional() })) });
    const body = await this.get(url, credentials, signal, Date.now() + METADATA_TIMEOUT_MS, schema, true);
    return (body?.value ?? [])
      .filter((a) => !a.AttributeOf && a.AttributeType !== 'Virtual')
      .map((a) => {
        const type = a.AttributeType ?? 'Unknown';
        // The Web API reads a lookup column as _name_value: that is what a rule must name.
        return { name: LOOKUP_TYPES.has(type) ? `_${a.LogicalName}_value` : a.LogicalName, label: a.LogicalName, type };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private phoneColumns(logical: string): string[] {
    if (this.options.phoneColumns.length > 0) return this.options.phoneColumns.map((c) => c.toLowerCase());
    const stock = PHONE_COLUMNS[logical];
    if (!stock) throw new CrmError('CONFIG', `Dynamics entity ${logical} has no known phone columns: list them (logical names) in the integration's "Phone columns" setting.`);
    return stock;
  }

  private async entity(logical: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<EntityInfo> {
    const known = this.entities.get(logical);
    if (known) return known;
    const url = `${this.options.orgUrl}/${API}/EntityDefinitions(LogicalName=${odataString(logical)})?${odataQuery([['$select', 'EntitySetName,PrimaryIdAttribute']])}`;
    const body = await this.get(url, credentials, signal, deadlineAt, entitySchema);
    if (!body) throw new CrmError('BAD_RESPONSE', `Dynamics 365 sent no definition for entity ${logical}.`);
    const info = { set: body.EntitySetName, id: body.PrimaryIdAttribute };
    this.entities.set(logical, info);
    return info;
  }

  private async get<T>(url: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number, schema: z.ZodType<T>, metadata = false): Promise<T | null> {
    if (credentials.username === '' || credentials.password === '') {
      throw new CrmError('CONFIG', 'Dynamics 365 needs the application (client) ID and a client secret: enter them on the Integration page or in the rule.');
    }
    return withSession<BearerToken, T | null>(
      { tokens: this.services.tokens, signal, deadlineAt, ...this.signIn(credentials) },
      async (token) => {
        const res = await this.services.http.request({
          method: 'GET', url, signal, what: WHAT,
          headers: {
            authorization: `Bearer ${token.accessToken}`, accept: 'application/json',
            'OData-MaxVersion': '4.0', 'OData-Version': '4.0', prefer: `odata.include-annotations="${FORMATTED}"`,
          },
          ...(metadata ? { timeoutMs: METADATA_TIMEOUT_MS, maxBodyBytes: METADATA_MAX_BYTES } : {}),
        });
        return readODataJson(res, WHAT, schema);
      },
    );
  }

  /** The user's refresh token (Connect) for the integration's own app; the app's client credentials otherwise. */
  private signIn(credentials: Credentials): Pick<SessionOptions<BearerToken>, 'key' | 'login' | 'durable'> {
    const { orgUrl, loginHost, tenantId, connected } = this.options;
    if (connected && connected.clientId === credentials.username) {
      const refreshToken = connected.refreshToken;
      const app = { orgUrl, loginHost, tenantId, clientId: credentials.username, clientSecret: credentials.password };
      return {
        key: sessionKey('dynamics-365', orgUrl, [loginHost, tenantId, 'delegated', credentials.username], [credentials.password, refreshToken]),
        durable: true,
        login: (previous, signal) => refreshDelegatedToken(this.services, app, (previous as DelegatedToken | undefined)?.refreshToken ?? refreshToken, signal),
      };
    }
    return {
      key: sessionKey('dynamics-365', orgUrl, [loginHost, tenantId], [credentials.username, credentials.password]),
      login: (_previous, signal) => this.token(credentials, signal),
    };
  }

  private async token(credentials: Credentials, signal: AbortSignal): Promise<BearerToken> {
    const { loginHost, tenantId, orgUrl } = this.options;
    const res = await this.services.http.request({
      method: 'POST', url: `${loginHost}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`, signal, what: 'Microsoft Entra ID',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.username, client_secret: credentials.password, scope: `${new URL(orgUrl).origin}/.default` }).toString(),
    });
    if (res.status !== 200) throw tokenError(res.status, res.body, retryAfterMs(res));
    const body = parseJsonBody(res, 'Microsoft Entra ID', tokenSchema);
    if (!body) throw new CrmError('BAD_RESPONSE', 'Microsoft Entra ID answered the token request with an empty body.');
    return { accessToken: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
  }
}

/** Entra ID's error code and the first sentence of its description (Microsoft's text, no secret of ours). */
function tokenError(status: number, body: string, retryAfter: number | undefined): CrmError {
  let error = '';
  let description = '';
  try {
    const parsed = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    error = typeof parsed.error === 'string' ? parsed.error : '';
    description = typeof parsed.error_description === 'string' ? parsed.error_description.split(/\r?\n| Trace ID/)[0]?.slice(0, 200) ?? '' : '';
  } catch {
    // not JSON: the status speaks
  }
  const said = description ? ` Entra ID said: "${description}"` : '';
  if (status === 429) return errorForStatus(429, 'Microsoft Entra ID', retryAfter);
  if (error === 'invalid_scope' || /AADSTS500011/.test(description)) return new CrmError('CONFIG', `Entra ID does not know the organization URL as a resource: check the Dynamics 365 URL.${said}`, { status });
  if (/AADSTS90002|AADSTS900023/.test(description)) return new CrmError('CONFIG', `Entra ID does not know the tenant: check the tenant ID.${said}`, { status });
  if (status === 400 || status === 401) return new CrmError('AUTH', `Microsoft Entra ID rejected the application credentials (${error || status}): check the client ID and secret.${said}`, { status });
  if (status === 404) return new CrmError('NOT_FOUND_URL', 'The token endpoint answered 404: check the tenant ID and the login host.', { status });
  return new CrmError('HTTP_ERROR', `Microsoft Entra ID answered HTTP ${status} to the token request.${said}`, { status });
}

/**
 * A Web API column as text. The formatted value is used for lookups (_x_value: the GUID becomes
 * the record's name) and option sets (a code becomes its label). Numbers, money and dates also
 * carry a formatted value, but in the service user's locale ("1,000.00 €"): when the formatted
 * value only re-writes the number, the raw value is kept so rows compare it as a number.
 */
export function webApiValueToText(record: Record<string, unknown>, field: string): string {
  const raw = record[field];
  const formatted = record[`${field}@${FORMATTED}`];
  if (typeof formatted === 'string') {
    if (/^_.+_value$/.test(field)) return formatted;
    if (typeof raw === 'string' && /^-?\d+(,-?\d+)*$/.test(raw)) return formatted; // multi-select codes
    if (typeof raw === 'number' && Number.isInteger(raw) && !rewritesNumber(raw, formatted)) return formatted;
  }
  return fieldValueToText(raw);
}

/** Whether `formatted` is just `raw` written with separators, decimals or a currency ("CHF 1,000.00"). */
function rewritesNumber(raw: number, formatted: string): boolean {
  const digits = formatted.replace(/\D/g, '');
  const rawDigits = String(Math.abs(raw));
  return digits.startsWith(rawDigits) && /^0*$/.test(digits.slice(rawDigits.length));
}
