/**
 * Dynamics CRM 2015 on-premises: the OData v2 Organization Data Service with Windows (NTLM)
 * authentication, as AD-only deployments serve it to domain users.
 *
 * Lookup: `GET {orgUrl}/XRMServices/2011/OrganizationData.svc/{Entity}Set?$select=ModifiedOn,{Field},Telephone1,...
 *   &$filter=substringof('123-4567',Telephone1) or ...&$orderby=ModifiedOn desc&$top=5`
 * with `Accept: application/json`; the answer is `{"d":{"results":[...]}}`. Names are schema
 * names (ContactSet, Telephone1, MobilePhone). Lookups come back as {Id,LogicalName,Name} (the
 * Name is used), option sets and money as {Value}, dates as /Date(ms)/ (turned into ISO 8601).
 *
 * Several matches: the most recent ModifiedOn, then the lowest record URI (which ends in its id).
 *
 * Modules: the service document's EntitySets. Fields: the properties of one record of the
 * entity (`{Entity}Set?$top=1`), because the service's $metadata describes every entity of the
 * organisation at once (megabytes) and has no per-entity form; an entity without any record
 * therefore lists no fields (the field's schema name can still be typed).
 *
 * The NTLM connections live in the token cache as this integration's "session", so they outlive
 * a connector object and are shared by every call with the same credentials.
 */
import { z } from 'zod';
import type { LookupRequest, LookupResult } from '../connector';
import { CrmError } from '../shared/crm-error';
import { checkName, logicalEntityName, odataQuery, phoneFilter, PHONE_COLUMNS, readODataJson, SCHEMA_NAMES } from './odata';
import { fieldValueToText } from '../shared/field-value';
import { OWNER_READ } from '../owner-lookup';
import { emailOf2015, entityReferenceId, OWNER_ID_FIELD, systemUser2015Answer, systemUser2015Path } from './owners';
import type { ConnectorServices, Credentials, CrmField } from '../integration';
import { NtlmConnectionPool, parseWindowsUser } from './ntlm-session';
import { isSamePhone, phoneVariants, type CountryCode } from '../../domain/phone';
import { phoneSearchTerms } from '../shared/phone-search-terms';
import { pickMostRecent } from '../shared/record-pick';
import { sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { withSession } from '../shared/vendor-call';

const WHAT = 'Dynamics CRM';
const METADATA_TIMEOUT_MS = 10_000;
const METADATA_MAX_BYTES = 2 * 1024 * 1024;
/** A pool is renewed now and then, so connections do not live for ever. */
const POOL_LIFETIME_MS = 8 * 3600_000;
const STOCK_SCHEMA: Record<string, string> = { contact: 'Contact', account: 'Account', lead: 'Lead' };

export interface Dynamics2015Options {
  orgUrl: string;
  /** Schema names to search in every entity; empty: the stock phone columns. */
  phoneColumns: string[];
  region: CountryCode;
}

interface NtlmSessionToken extends CachedToken {
  pool: NtlmConnectionPool;
}

const resultsSchema = z.object({ d: z.union([z.object({ results: z.array(z.record(z.string(), z.unknown())) }), z.array(z.record(z.string(), z.unknown()))]) });
const serviceSchema = z.object({ d: z.object({ EntitySets: z.array(z.string()) }) });

export class Dynamics2015Api {
  private readonly service: string;

  constructor(private readonly options: Dynamics2015Options, private readonly services: ConnectorServices) {
    this.service = `${options.orgUrl}/XRMServices/2011/OrganizationData.svc`;
  }

  async find(request: LookupRequest, credentials: Credentials, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.options.region);
    const terms = phoneSearchTerms(phone);
    if (terms.length === 0) return { kind: 'not_found' };
    const entity = schemaEntityName(request.module || 'Contact');
    checkName(request.fieldName, 'field');
    // `ownerid` reads the owner's GUID ("Owner's extension" rows, owners.ts), not its name.
    const ownerId = request.fieldName === OWNER_ID_FIELD;
    const field = ownerId ? 'OwnerId' : request.fieldName;
    const columns = this.phoneColumns(entity);
    const query = odataQuery([
      ['$select', [...new Set(['ModifiedOn', field, ...columns])].join(',')],
      ['$filter', phoneFilter(columns, terms, 'v2')],
      ['$orderby', 'ModifiedOn desc'],
      ['$top', '5'],
    ]);
    const body = await this.get(`${this.service}/${entity}Set?${query}`, credentials, signal, request.deadlineAt, resultsSchema);
    const records = body ? (Array.isArray(body.d) ? body.d : body.d.results) : [];
    const matches = records.filter((r) => columns.some((c) => typeof r[c] === 'string' && isSamePhone(r[c] as string, phone)));
    const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: odataDate(record.ModifiedOn), id: recordUri(record) })));
    if (!best) return { kind: 'not_found' };
    return { kind: 'value', value: ownerId ? entityReferenceId(best.record[field]) : v2ValueToText(best.record[field]), matches: matches.length };
  }

  /** The e-mail of the system user `id` (owners.ts); null for no such user or one without an e-mail. */
  async ownerEmail(id: string, credentials: Credentials, signal: AbortSignal): Promise<string | null> {
    try {
      return emailOf2015(await this.get(`${this.service}/${systemUser2015Path(id)}`, credentials, signal, Date.now() + OWNER_READ.timeoutMs, systemUser2015Answer, true));
    } catch (err) {
      if (err instanceof CrmError && err.code === 'NOT_FOUND_URL') return null;
      throw err;
    }
  }

  async listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    const body = await this.get(`${this.service}/`, credentials, signal, Date.now() + METADATA_TIMEOUT_MS, serviceSchema, true);
    // Only entities the lookup can search: all when "Phone columns" names them, else the stock ones.
    return (body?.d.EntitySets ?? []).map((set) => set.replace(/Set$/, ''))
      .filter((entity) => this.options.phoneColumns.length > 0 || entity.toLowerCase() in PHONE_COLUMNS).sort();
  }

  async listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const entity = schemaEntityName(module);
    this.phoneColumns(entity); // an entity the lookup refuses is refused here too
    const body = await this.get(`${this.service}/${entity}Set?${odataQuery([['$top', '1']])}`, credentials, signal, Date.now() + METADATA_TIMEOUT_MS, resultsSchema, true);
    const sample = body ? (Array.isArray(body.d) ? body.d[0] : body.d.results[0]) : undefined;
    if (!sample) throw new CrmError('CONFIG', `Dynamics has no ${entity} record to read the field names from: add one, or type the field's schema name (Settings > Customizations > ${entity} > Fields).`);
    return Object.entries(sample)
      .filter(([name, value]) => name !== '__metadata' && !isNavigation(value))
      .map(([name, value]) => ({ name, label: name, type: v2TypeOf(value) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private phoneColumns(entity: string): string[] {
    if (this.options.phoneColumns.length > 0) return this.options.phoneColumns;
    const stock = PHONE_COLUMNS[entity.toLowerCase()];
    if (!stock) throw new CrmError('CONFIG', `Dynamics entity ${entity} has no known phone columns: list them (schema names) in the integration's "Phone columns" setting.`);
    return stock.map((c) => SCHEMA_NAMES[c] ?? c);
  }

  private async get<T>(url: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number, schema: z.ZodType<T>, metadata = false): Promise<T | null> {
    const login = parseWindowsUser(credentials.username);
    if (login.username === '' || credentials.password === '') {
      throw new CrmError('CONFIG', 'Dynamics CRM 2015 needs a Windows login (DOMAIN\\user) and its password: enter them on the Integration page or in the rule.');
    }
    const origin = new URL(this.options.orgUrl).origin;
    const key = sessionKey('dynamics-2015', this.options.orgUrl, [], [credentials.username, credentials.password]);
    return withSession<NtlmSessionToken, T | null>(
      {
        tokens: this.services.tokens, key, signal, deadlineAt,
        login: async (previous) => {
          previous?.pool.close();
          return { pool: new NtlmConnectionPool(this.services.http, { origin, credentials: { ...login, password: credentials.password }, what: WHAT }), expiresAt: Date.now() + POOL_LIFETIME_MS };
        },
      },
      async ({ pool }) => {
        const res = await pool.request({
          method: 'GET', url, signal, what: WHAT, headers: { accept: 'application/json' },
          ...(metadata ? { timeoutMs: METADATA_TIMEOUT_MS, maxBodyBytes: METADATA_MAX_BYTES } : {}),
        });
        if (res.status === 401) throw new CrmError('AUTH', 'Dynamics CRM rejected the Windows login (401): check DOMAIN\\user and the password, and that the user is enabled in CRM.', { status: 401 });
        return readODataJson(res, WHAT, schema);
      },
    );
  }
}

/** 'Contacts' / 'contact' -> 'Contact'; a custom entity's schema name as typed ('new_Customer'). */
export function schemaEntityName(module: string): string {
  const trimmed = module.trim().replace(/Set$/, '');
  const stock = STOCK_SCHEMA[logicalEntityName(trimmed)];
  const name = stock ?? trimmed;
  checkName(name, 'entity');
  return name;
}

/** '/Date(1420070400000)/' -> 1420070400000. */
function odataDate(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value) : null;
  return match ? Number(match[1]) : undefined;
}

function recordUri(record: Record<string, unknown>): string {
  const uri = (record.__metadata as { uri?: unknown } | undefined)?.uri;
  return typeof uri === 'string' ? uri : '';
}

function isNavigation(value: unknown): boolean {
  return typeof value === 'object' && value !== null && '__deferred' in value;
}

/** OData v2 values as text: dates to ISO 8601, the rest as fieldValueToText reads them (Name, Value). */
export function v2ValueToText(value: unknown): string {
  const date = odataDate(value);
  if (date !== undefined) return new Date(date).toISOString();
  return fieldValueToText(value);
}

function v2TypeOf(value: unknown): string {
  if (value === null || value === undefined) return 'Unknown';
  if (typeof value === 'string') return odataDate(value) !== undefined ? 'DateTime' : 'String';
  if (typeof value === 'number') return 'Number';
  if (typeof value === 'boolean') return 'Boolean';
  const record = value as Record<string, unknown>;
  if ('LogicalName' in record && 'Id' in record) return 'Lookup';
  if ('Value' in record) return typeof record.Value === 'number' ? 'OptionSet' : 'Money';
  return 'Complex';
}
