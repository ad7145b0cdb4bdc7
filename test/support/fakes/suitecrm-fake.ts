/**
 * A fake SuiteCRM speaking both APIs on one HTTPS server.
 * - V8 JSON:API under `/Api` (7.x layout) or `/legacy/Api` (8.x layout): the password grant
 *   (league/oauth2-server answers), module records with exact `filter[field][eq]`, meta modules
 *   and fields. A request with `filter[operator]=or` is a violation: on real SuiteCRM it returns
 *   every record (crm-apis.md §7).
 * - REST v4_1 at `/service/v4_1/rest.php`: login (md5 password), get_entry_list with a raw WHERE
 *   checked against the one shape the connector may send and evaluated like SQL,
 *   get_available_modules, get_module_fields; errors as {name, number, description} with HTTP 200.
 * Anything else is answered with an error and written to `violations`.
 */
import { createHash } from 'node:crypto';
import type { FakeReply, RecordedRequest } from '../fake-https';
import { bearerToken, formProblem, isFormPost } from './request-checks';
import { VendorFake } from './vendor-fake';

export type SuiteRecord = { id: string; date_modified: string } & Record<string, string>;

const TABLES: Record<string, string> = { Contacts: 'contacts', Leads: 'leads', Prospects: 'prospects', Accounts: 'accounts' };
const V4_KEYS: Record<string, string[]> = {
  login: ['user_auth', 'application', 'name_value_list'],
  get_entry_list: ['session', 'module_name', 'query', 'order_by', 'offset', 'select_fields', 'link_name_to_fields_array', 'max_results', 'deleted'],
  get_available_modules: ['session', 'filter'],
  get_module_fields: ['session', 'module_name'],
};

export class SuiteCrmFake extends VendorFake {
  clientId = '8d5ac4b2-0000-4c11-9000-5f2e0a7b1c3d';
  clientSecret = 'v8-secret';
  username = 'jim';
  password = "pa'ss";
  /** Where the V8 API lives: '7' -> /Api, '8' -> /legacy/Api. */
  layout: '7' | '8' = '7';
  records: Record<string, SuiteRecord[]> = { Contacts: [], Leads: [], Accounts: [], Prospects: [] };
  readonly counts = { tokenGrants: 0, v4Logins: 0, searches: 0 };
  /** WHERE clauses get_entry_list received. */
  readonly wheres: string[] = [];
  private readonly tokens = new Set<string>();
  private readonly sessions = new Set<string>();
  private serial = 0;

  static start(): Promise<SuiteCrmFake> {
    return VendorFake.serve((server) => new SuiteCrmFake(server));
  }

  /** Every access token and v4 session issued so far is refused from now on. */
  expireSessions(): void {
    this.tokens.clear();
    this.sessions.clear();
  }

  protected handle(req: RecordedRequest): FakeReply {
    if (req.path === '/service/v4_1/rest.php') return this.v4(req);
    const base = this.layout === '7' ? '/Api' : '/legacy/Api';
    if (!req.path.startsWith(`${base}/`)) return { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body>Not Found</body></html>' };
    const rest = req.path.slice(base.length + 1);
    if (rest === 'access_token' && req.method === 'POST') return this.token(req);
    if (req.method !== 'GET') return this.violation(`${req.method} ${req.path}: the connector only reads`);
    if (req.headers.accept !== 'application/vnd.api+json' || req.headers['content-type'] !== 'application/vnd.api+json') return this.violation('V8 requests carry Accept and Content-Type application/vnd.api+json');
    const token = bearerToken(req);
    if (!token || !this.tokens.has(token)) return { status: 401, body: { error: 'access_denied', message: 'The resource owner or authorization server denied the request.', hint: 'Access token could not be verified' } };
    const module = /^V8\/module\/([A-Za-z]+)$/.exec(rest);
    if (module) return this.moduleRecords(req, module[1]!);
    if (rest === 'V8/meta/modules') return { body: { data: { type: 'modules', id: '', attributes: Object.fromEntries([...Object.keys(this.records), 'Documents'].map((m) => [m, { label: m, access: ['list', 'view'] }])) } } };
    const fields = /^V8\/meta\/fields\/([A-Za-z]+)$/.exec(rest);
    if (fields) return { body: { data: { type: 'fields', id: '', attributes: { id: { type: 'id', dbType: 'id', required: true }, phone_work: { type: 'phone', dbType: 'varchar', required: false }, tier_c: { type: 'enum', dbType: 'varchar', required: false, source: 'custom_fields' } } } } };
    return this.violation(`GET ${req.path} is not a V8 route the connector should use`);
  }

  private token(req: RecordedRequest): FakeReply {
    this.counts.tokenGrants += 1;
    const problem = formProblem(req, ['grant_type', 'client_id', 'client_secret', 'username', 'password'], { grant_type: 'password' });
    if (problem) return this.violation(`access_token: ${problem}`);
    const form = new URLSearchParams(req.body);
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed', message: 'Client authentication failed' } };
    if (form.get('username') !== this.username || form.get('password') !== this.password) return { status: 400, body: { error: 'invalid_grant', error_description: 'The user credentials were incorrect.', message: 'The user credentials were incorrect.' } };
    const access = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${++this.serial}`;
    this.tokens.add(access);
    return { body: { token_type: 'Bearer', expires_in: 3600, access_token: access, refresh_token: `def502${this.serial}` } };
  }

  private moduleRecords(req: RecordedRequest, module: string): FakeReply {
    this.counts.searches += 1;
    const keys = [...req.query.keys()];
    if (keys.includes('filter[operator]')) return this.violation('filter[operator] must not be sent: with "or" SuiteCRM returns every non-deleted record');
    const filters = keys.filter((k) => k.startsWith('filter['));
    const expected = [`fields[${module}]`, 'page[size]', 'page[number]'];
    if (filters.length !== 1 || keys.length !== 4 || !expected.every((k) => req.query.has(k))) return this.violation(`module query must be fields[${module}], one filter[field][eq], page[size], page[number] (got ${keys.join(', ')})`);
    const filter = /^filter\[([a-z_]+)\]\[eq\]$/.exec(filters[0]!);
    if (!filter) return this.violation(`${filters[0]} is not filter[{field}][eq]`);
    const rows = this.records[module];
    if (!rows) return { status: 400, body: { errors: { status: 400, title: null, detail: `Module ${module} does not exist` } } };
    const value = req.query.get(filters[0]!)!;
    const columns = req.query.get(`fields[${module}]`)!.split(',');
    const data = rows.filter((r) => r[filter[1]!] === value).slice(0, Number(req.query.get('page[size]')))
      .map((r) => ({ type: module, id: r.id, attributes: Object.fromEntries(columns.map((c) => [c, r[c] ?? ''])), relationships: {} }));
    return { body: { meta: { 'total-pages': 1 }, data, links: {} } };
  }

  private v4(req: RecordedRequest): FakeReply {
    if (!isFormPost(req)) return this.violation('v4_1 calls are form posts');
    const form = new URLSearchParams(req.body);
    if ([...form.keys()].join(',') !== 'method,input_type,response_type,rest_data' || form.get('input_type') !== 'JSON' || form.get('response_type') !== 'JSON') return this.violation(`v4_1 form must be method, input_type=JSON, response_type=JSON, rest_data (got ${[...form.keys()].join(',')})`);
    const method = form.get('method')!;
    const data = JSON.parse(form.get('rest_data')!) as Record<string, unknown>;
    const keys = V4_KEYS[method];
    if (!keys) return this.violation(`v4_1 method ${method} is not one the connector should use`);
    if (Object.keys(data).join(',') !== keys.join(',')) return this.violation(`${method} rest_data keys must be ${keys.join(', ')} in that order (PHP named arguments); got ${Object.keys(data).join(', ')}`);
    if (method === 'login') return this.v4Login(data);
    if (!this.sessions.has(String(data.session))) return { body: { name: 'Invalid Session ID', number: 11, description: 'The session ID is invalid' } };
    if (method === 'get_entry_list') return this.entryList(data);
    if (method === 'get_available_modules') return { body: { modules: [...Object.keys(this.records), 'Documents'].map((m) => ({ module_key: m, module_label: m, favorite_enabled: false, acls: [] })) } };
    return { body: { module_name: data.module_name, table_name: TABLES[String(data.module_name)] ?? '', module_fields: { id: { name: 'id', type: 'id', group: '', id_name: '', label: 'ID:', required: 0, options: [], related_module: '', calculated: false, len: '' }, tier_c: { name: 'tier_c', type: 'enum', label: 'Tier:', required: 0, options: [] } }, link_fields: [] } };
  }

  private v4Login(data: Record<string, unknown>): FakeReply {
    this.counts.v4Logins += 1;
    const auth = data.user_auth as { user_name?: string; password?: string };
    if (auth.user_name !== this.username || auth.password !== createHash('md5').update(this.password).digest('hex')) {
      return { body: { name: 'Invalid Login', number: 10, description: 'Login attempt failed please check the username and password' } };
    }
    const id = `sess${++this.serial}abc`;
    this.sessions.add(id);
    return { body: { id, module_name: 'Users', name_value_list: { user_id: { name: 'user_id', value: '1' } } } };
  }

  private entryList(data: Record<string, unknown>): FakeReply {
    this.counts.searches += 1;
    const module = String(data.module_name);
    const table = TABLES[module];
    const rows = this.records[module];
    if (!table || !rows) return { body: { name: 'Module Does Not Exist', number: 20, description: 'This module is not available on this server' } };
    const query = String(data.query);
    this.wheres.push(query);
    const strip = "REPLACE\\(".repeat(7);
    const condition = new RegExp(`^${strip}${table}\\.([a-z_]+),' ',''\\),'-',''\\),'\\(',''\\),'\\)',''\\),'\\.',''\\),'\\+',''\\),'/',''\\) LIKE '%(\\d+)'$`);
    const parts = /^\((.+)\)$/.exec(query)?.[1]!.split(' OR ').map((part) => condition.exec(part));
    if (!parts || parts.some((p) => p === null)) return this.violation(`WHERE "${query}" is not (REPLACE(...${table}.column...) LIKE '%{digits}' OR ...)`);
    if (data.order_by !== `${table}.date_modified DESC, ${table}.id ASC`) return this.violation(`order_by "${String(data.order_by)}" is not date_modified DESC, id ASC`);
    const hits = rows
      .filter((r) => parts.some((p) => (r[p![1]!] ?? '').replace(/[ \-().+/]/g, '').endsWith(p![2]!)))
      .sort((a, b) => b.date_modified.localeCompare(a.date_modified) || a.id.localeCompare(b.id))
      .slice(0, Number(data.max_results));
    const fields = data.select_fields as string[];
    const entryList = hits.map((r) => ({ id: r.id, module_name: module, name_value_list: Object.fromEntries(fields.map((f) => [f, { name: f, value: r[f] ?? '' }])) }));
    return { body: { result_count: entryList.length, total_count: String(entryList.length), next_offset: entryList.length, entry_list: entryList, relationship_list: [] } };
  }

  private violation(message: string): FakeReply {
    this.violations.push(message);
    return { status: 400, body: { errors: { status: 400, title: null, detail: message } } };
  }
}
