/**
 * SuiteCRM's legacy REST v4_1 (`{site}/service/v4_1/rest.php`, crm-apis.md §7), the protocol
 * behind index.ts when `apiVersion` is v4_1. Every call is a form post of method, input_type,
 * response_type and rest_data (JSON whose keys are the PHP parameter names, in order: PHP 8 passes
 * them as named arguments). Failures come back with HTTP 200 as {name, number, description}:
 * "Invalid Session ID" (11) is AUTH, so withSession signs in once more.
 *
 * The phone search is SQL: `get_entry_list` takes a raw WHERE, so the statement strips
 * punctuation from each phone column with REPLACE and matches `LIKE '%{last digits}'`. Only
 * digits reach the literal, quotes are escaped anyway, and column and table names come from a
 * fixed map; a trailing `%` lets an extension stored after the number match too.
 *
 * Results are ordered `date_modified DESC`: bare field names, because SugarBean::process_order_by
 * keeps only names it finds in the module's field definitions and silently drops
 * `contacts.date_modified`. v4_1 writes date_modified to the second (the finer clock V8 lacks).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CrmError } from '../shared/crm-error';
import type { HttpClient } from '../shared/http-client';
import type { CrmField, Credentials } from '../integration';
import type { SuiteCrmProtocol, SuiteCrmSearch } from './protocol';
import type { CachedToken } from '../shared/token-cache';
import { requestJson } from '../shared/vendor-call';
import { OWNER_READ } from '../owner-lookup';
import { v4UserAnswer, v4UserEmail, v4UserRequest } from './owners';

const WHAT = 'SuiteCRM (v4_1)';
const TABLES: Record<string, string> = { Contacts: 'contacts', Leads: 'leads', Prospects: 'prospects', Accounts: 'accounts' };
/** Characters people type between digits; each is removed with one REPLACE. */
const PUNCTUATION = [' ', '-', '(', ')', '.', '+', '/'];
/** The PHP session behind the id ends after idle time (24 min by default [U]); renew before. */
const SESSION_MS = 20 * 60_000;
const META_LIMITS = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };

interface V4Session extends CachedToken {
  sessionId: string;
}

const errorSchema = z.object({ name: z.string(), number: z.number(), description: z.string().optional() });
const loginSchema = z.object({ id: z.string().min(1) });
const entryListSchema = z.object({
  entry_list: z.array(z.object({ id: z.string(), name_value_list: z.union([z.record(z.string(), z.object({ name: z.string(), value: z.unknown() })), z.array(z.never())]) })).default([]),
});
const modulesSchema = z.object({ modules: z.array(z.object({ module_key: z.string() })) });
const moduleFieldsSchema = z.object({ module_fields: z.union([z.record(z.string(), z.object({ name: z.string(), type: z.string().optional(), label: z.string().optional() })), z.array(z.never())]) });

export class SuiteCrmV4Protocol implements SuiteCrmProtocol<V4Session> {
  private readonly endpoint: string;

  constructor(site: string, private readonly http: HttpClient) {
    this.endpoint = `${site}/service/v4_1/rest.php`;
  }

  async login(credentials: Credentials, signal: AbortSignal): Promise<V4Session> {
    const restData = {
      user_auth: { user_name: credentials.username, password: createHash('md5').update(credentials.password).digest('hex') },
      application: 'pbx-crm-routing',
      name_value_list: [],
    };
    const login = await this.call('login', restData, loginSchema, signal);
    return { sessionId: login.id, expiresAt: Date.now() + SESSION_MS };
  }

  async search(session: V4Session, search: SuiteCrmSearch): Promise<Array<Record<string, unknown>>> {
    const table = TABLES[search.module];
    if (!table) throw new CrmError('CONFIG', `${WHAT} cannot search module ${search.module} by phone.`);
    const restData = {
      session: session.sessionId,
      module_name: search.module,
      query: phoneWhere(table, search.phoneFields, search.phone.national),
      order_by: 'date_modified DESC',
      offset: 0,
      select_fields: [...new Set(['id', 'date_modified', search.field, ...search.phoneFields])],
      link_name_to_fields_array: [],
      max_results: 10,
      deleted: 0,
    };
    const list = await this.call('get_entry_list', restData, entryListSchema, search.signal);
    return list.entry_list.map((entry, rank) => {
      const record: Record<string, unknown> = { id: entry.id, rank };
      for (const [name, pair] of Object.entries(entry.name_value_list)) record[name] = pair.value;
      return record;
    });
  }

  async ownerEmail(session: V4Session, userId: string, signal: AbortSignal): Promise<string | null> {
    return v4UserEmail(await this.call('get_entry', v4UserRequest(session.sessionId, userId), v4UserAnswer, signal, OWNER_READ));
  }

  async describe(): Promise<string> {
    return 'legacy REST v4_1, one request per lookup';
  }

  async listModules(session: V4Session, signal: AbortSignal): Promise<string[]> {
    const list = await this.call('get_available_modules', { session: session.sessionId, filter: 'default' }, modulesSchema, signal, META_LIMITS);
    return list.modules.map((m) => m.module_key);
  }

  async listFields(session: V4Session, module: string, signal: AbortSignal): Promise<CrmField[]> {
    const list = await this.call('get_module_fields', { session: session.sessionId, module_name: module }, moduleFieldsSchema, signal, META_LIMITS);
    return Object.values(list.module_fields).map((f) => ({ name: f.name, label: (f.label ?? f.name).replace(/:\s*$/, ''), type: f.type ?? '' }));
  }

  private async call<T>(method: string, restData: Record<string, unknown>, schema: z.ZodType<T>, signal: AbortSignal, limits = {}): Promise<T> {
    const body = new URLSearchParams({ method, input_type: 'JSON', response_type: 'JSON', rest_data: JSON.stringify(restData) });
    const res = await requestJson(this.http, { method: 'POST', url: this.endpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString(), signal, what: WHAT, ...limits });
    const failure = errorSchema.safeParse(res.body);
    if (failure.success) throw v4Error(failure.data.number, failure.data.name);
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) throw new CrmError('BAD_RESPONSE', `${WHAT} answered ${method} in an unexpected shape (${parsed.error.issues[0]?.path.join('.') || 'body'}): check the address.`);
    return parsed.data;
  }
}

function v4Error(number: number, name: string): CrmError {
  switch (number) {
    case 10:
      return new CrmError('AUTH', `${WHAT} refused the sign-in (${name}): check the user name and password.`);
    case 11:
      return new CrmError('AUTH', `${WHAT} no longer knows the session (${name}).`);
    case 20:
      return new CrmError('CONFIG', `${WHAT} has no such module (${name}).`);
    case 40:
      return new CrmError('FORBIDDEN', `${WHAT} denied access (${name}): the user lacks permission for this module.`);
    default:
      return new CrmError('HTTP_ERROR', `${WHAT} answered error ${number} (${name}).`);
  }
}

/**
 * `(REPLACE(...contacts.phone_work...) LIKE '%5551234567' OR ...)`: punctuation stripped on the
 * database side so any stored format matches; the literal is digits only, and quoted regardless.
 */
export function phoneWhere(table: string, columns: string[], nationalDigits: string): string {
  const pattern = sqlLiteral(`%${nationalDigits.replace(/\D/g, '').slice(-10)}%`);
  const normalised = (column: string) => PUNCTUATION.reduce((expr, char) => `REPLACE(${expr},${sqlLiteral(char)},'')`, `${table}.${column}`);
  return `(${columns.map((column) => `${normalised(column)} LIKE ${pattern}`).join(' OR ')})`;
}

function sqlLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
