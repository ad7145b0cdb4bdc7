/**
 * A fake SuiteCRM speaking both APIs on one HTTPS server, as the release set in `version` does
 * (salesagility/SuiteCRM `Api/V8/JsonApi/Repository/Filter.php` and `Sort.php` at its tag).
 * - V8 JSON:API under `/Api` (7.x layout) or `/legacy/Api` (8.x layout): the password grant
 *   (league/oauth2-server answers; an unknown user, a wrong password or an unknown client id is
 *   an InvalidArgumentException that Slim's error handler answers with HTTP 500 and its text,
 *   password included), module records with `filter[field][eq|like]`, `filter[operator]`, `sort`
 *   and `page`, meta modules and fields.
 *   - `like` exists from 7.11.19; before, it is a 400 "Filter operator like is invalid".
 *   - Before 7.12.5, `filter[operator]=or` also ORs in the hidden `deleted = '0'` term, so it
 *     returns every record that is not deleted (the trap); from 7.12.5 it is `(a OR b) AND deleted = '0'`.
 *   - date_modified is written as the user sees it, rounded to the minute ("2024-03-01 10:00");
 *     `sort=-date_modified` orders on the full-precision column.
 * - REST v4_1 at `/service/v4_1/rest.php`: login (md5 password), get_entry_list with a raw WHERE
 *   checked against the one shape the connector may send and evaluated like SQL,
 *   get_available_modules, get_module_fields; errors as {name, number, description} with HTTP 200.
 * Anything else is answered with an error and written to `violations`.
 */
import { createHash } from 'node:crypto';
import type { FakeReply, RecordedRequest } from '../fake-https';
import { bearerToken, formProblem, isFormPost } from './request-checks';
import { VendorFake } from './vendor-fake';

/** date_modified to the second, as the database holds it ("2024-03-01 10:00:37"); deleted '1' hides a record. */
export type SuiteRecord = { id: string; date_modified: string } & Record<string, string>;

/** Releases whose V8 filter behaviour differs (see the header). */
export type SuiteVersion = '7.11.10' | '7.11.20' | '7.13.2' | '7.14.6';
const hasLike = (v: SuiteVersion) => v !== '7.11.10';
const orFixed = (v: SuiteVersion) => v === '7.13.2' || v === '7.14.6';

const TABLES: Record<string, string> = { Contacts: 'contacts', Leads: 'leads', Prospects: 'prospects', Accounts: 'accounts' };
const V4_KEYS: Record<string, string[]> = {
  login: ['user_auth', 'application', 'name_value_list'],
  get_entry_list: ['session', 'module_name', 'query', 'order_by', 'offset', 'select_fields', 'link_name_to_fields_array', 'max_results', 'deleted'],
  get_available_modules: ['session', 'filter'],
  get_module_fields: ['session', 'module_name'],
  get_entry: ['session', 'module_name', 'id', 'select_fields', 'link_name_to_fields_array'],
};

export class SuiteCrmFake extends VendorFake {
  clientId = '8d5ac4b2-0000-4c11-9000-5f2e0a7b1c3d';
  clientSecret = 'v8-secret';
  username = 'jim';
  password = "pa'ss";
  /** Where the V8 API lives: '7' -> /Api, '8' -> /legacy/Api. */
  layout: '7' | '8' = '7';
  records: Record<string, SuiteRecord[]> = { Contacts: [], Leads: [], Accounts: [], Prospects: [] };
  /** Users by id -> email1 (record owners), in both APIs. */
  readonly users = new Map<string, string>();
  /** Which release the fake behaves as. */
  version: SuiteVersion = '7.14.6';
  /** searches: record queries (V8) and get_entry_list calls (v4_1); phoneSearches: those that searched a phone field. */
  readonly counts = { tokenGrants: 0, v4Logins: 0, searches: 0, phoneSearches: 0 };
  /** WHERE clauses get_entry_list received. */
  readonly wheres: string[] = [];
  private readonly tokens = new Set<string>();
  private readonly sessions = new Set<string>();
  private serial = 0;

  static start(version: SuiteVersion = '7.14.6'): Promise<SuiteCrmFake> {
    return VendorFake.serve((server) => {
      const fake = new SuiteCrmFake(server);
      fake.version = version;
      return fake;
    });
  }

  /** Record queries (not the probe's) that used filter[operator]=or. */
  get orSearches(): number {
    return this.requests.filter((r) => r.query.get('filter[operator]') === 'or' && !r.query.has('filter[id][like]')).length;
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
    const user = /^V8\/module\/Users\/([A-Za-z0-9-]+)$/.exec(rest);
    if (user) {
      if ([...req.query.keys()].join(',') !== 'fields[Users]' || req.query.get('fields[Users]') !== 'email1') return this.violation('a user is read with fields[Users]=email1 only');
      const email = this.users.get(user[1]!);
      if (email === undefined) return this.v8Error(`The module Users with id ${user[1]} is not found`);
      return { body: { data: { type: 'User', id: user[1], attributes: { email1: email }, relationships: {} } } };
    }
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
    // ClientRepository::getClientEntity and UserRepository::getUserEntityByUserCredentials throw
    // InvalidArgumentException, which Slim's error handler (displayErrorDetails) answers with 500.
    if (form.get('client_id') !== this.clientId) return this.slimError(req, 'InvalidArgumentException', `OAuth2Clients module with id ${form.get('client_id')} is not found`);
    if (form.get('client_secret') !== this.clientSecret) return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed', message: 'Client authentication failed' } };
    if (form.get('username') !== this.username) return this.slimError(req, 'InvalidArgumentException', `No user found with this username: ${form.get('username')}`);
    if (form.get('password') !== this.password) return this.slimError(req, 'InvalidArgumentException', `The password is invalid: ${form.get('password')}`);
    const access = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${++this.serial}`;
    this.tokens.add(access);
    return { body: { token_type: 'Bearer', expires_in: 3600, access_token: access, refresh_token: `def502${this.serial}` } };
  }

  private moduleRecords(req: RecordedRequest, module: string): FakeReply {
    this.counts.searches += 1;
    const keys = [...req.query.keys()];
    const allowed = (k: string) => k === `fields[${module}]` || k === 'sort' || k === 'page[size]' || k === 'page[number]' || k === 'filter[operator]' || /^filter\[[a-z_]+\]\[[a-z]+\]$/.test(k);
    const odd = keys.find((k) => !allowed(k));
    if (odd) return this.violation(`${odd} is not a V8 list parameter`);
    if (!req.query.has(`fields[${module}]`) || !req.query.has('page[size]') || req.query.get('page[number]') !== '1') return this.violation(`module query needs fields[${module}], page[size] and page[number]=1 (got ${keys.join(', ')})`);
    const sort = req.query.get('sort');
    if (sort !== null && sort !== '-date_modified') return this.violation(`sort ${sort} is not -date_modified`);
    const rows = this.records[module];
    if (!rows) return this.v8Error(`Module ${module} does not exist`);
    if (keys.some((k) => k.startsWith('filter[phone_'))) this.counts.phoneSearches += 1;
    const conditions: Array<(r: SuiteRecord) => boolean> = [];
    for (const key of keys.filter((k) => /^filter\[[a-z_]+\]/.test(k) && k !== 'filter[operator]')) {
      const [, field, op] = /^filter\[([a-z_]+)\]\[([a-z]+)\]$/.exec(key)!;
      const value = req.query.get(key)!;
      if (op === 'like' && !hasLike(this.version)) return this.v8Error('Filter operator like is invalid');
      if (op !== 'eq' && op !== 'like') return this.v8Error(`Filter operator ${op} is invalid`);
      if (field !== 'id' && field !== 'deleted' && !rows.some((r) => field! in r) && !/^phone_/.test(field!)) return this.v8Error(`Filter field ${field} in ${module} module is not found`);
      conditions.push(op === 'eq' ? (r) => (r[field!] ?? '') === value : (r) => likeToRegExp(value).test(r[field!] ?? ''));
    }
    const operator = req.query.get('filter[operator]') ?? 'and';
    if (operator !== 'and' && operator !== 'or') return this.v8Error(`Filter operator ${operator} is invalid`);
    const live = (r: SuiteRecord) => (r.deleted ?? '0') === '0';
    const matches = (r: SuiteRecord) => {
      if (conditions.length === 0) return live(r);
      const joined = operator === 'or' ? conditions.some((c) => c(r)) : conditions.every((c) => c(r));
      // Before 7.12.5 the hidden deleted = '0' term is joined with the same operator.
      return orFixed(this.version) || operator === 'and' ? joined && live(r) : joined || live(r);
    };
    const columns = req.query.get(`fields[${module}]`)!.split(',');
    const hits = rows.filter(matches);
    if (sort) hits.sort((a, b) => b.date_modified.localeCompare(a.date_modified));
    const data = hits.slice(0, Number(req.query.get('page[size]')))
      .map((r) => ({ type: module, id: r.id, attributes: Object.fromEntries(columns.map((c) => [c, c === 'date_modified' ? r.date_modified.slice(0, 16) : r[c] ?? ''])), relationships: {} }));
    return { body: { meta: { 'total-pages': Math.ceil(hits.length / Number(req.query.get('page[size]'))) }, data, links: {} } };
  }

  /** Slim 3's error handler with displayErrorDetails (SuiteCRM's Api/Core/Config/slim.php): JSON or HTML by Accept. */
  private slimError(req: RecordedRequest, type: string, message: string): FakeReply {
    if (String(req.headers.accept ?? '').includes('application/json')) {
      const body = { message: 'Slim Application Error', exception: [{ type, code: 0, message, file: '/var/www/html/Api/V8/OAuth2/Repository/UserRepository.php', line: 58, trace: ['#0 /var/www/html/vendor/league/oauth2-server/src/Grant/PasswordGrant.php(89): ...'] }] };
      return { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body, null, 4) };
    }
    return { status: 500, headers: { 'content-type': 'text/html' }, body: `<html><head><title>Slim Application Error</title></head><body><h1>Slim Application Error</h1><p>The application could not run because of the following error:</p><h2>Details</h2><div><strong>Type:</strong> ${type}</div><div><strong>Message:</strong> ${message}</div></body></html>` };
  }

  private v8Error(detail: string): FakeReply {
    return { status: 400, body: { errors: { status: 400, title: null, detail } } };
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
    if (method === 'get_entry') return this.entry(data);
    if (method === 'get_available_modules') return { body: { modules: [...Object.keys(this.records), 'Documents'].map((m) => ({ module_key: m, module_label: m, favorite_enabled: false, acls: [] })) } };
    return { body: { module_name: data.module_name, table_name: TABLES[String(data.module_name)] ?? '', module_fields: { id: { name: 'id', type: 'id', group: '', id_name: '', label: 'ID:', required: 0, options: [], related_module: '', calculated: false, len: '' }, tier_c: { name: 'tier_c', type: 'enum', label: 'Tier:', required: 0, options: [] } }, link_fields: [] } };
  }

  /** get_entry of a user: email1, or SugarWebServiceImpl's warning entry for an id no user has. */
  private entry(data: Record<string, unknown>): FakeReply {
    if (data.module_name !== 'Users' || JSON.stringify(data.select_fields) !== '["email1"]') return this.violation('get_entry is used for Users with select_fields [email1] only');
    const id = String(data.id);
    const email = this.users.get(id);
    const values = email === undefined
      ? { warning: { name: 'warning', value: 'Access to this object is denied since it has been deleted or does not exist' }, deleted: { name: 'deleted', value: '1' } }
      : { email1: { name: 'email1', value: email } };
    return { body: { entry_list: [{ id, module_name: 'Users', name_value_list: values }], relationship_list: [] } };
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
    this.counts.phoneSearches += 1;
    const module = String(data.module_name);
    const table = TABLES[module];
    const rows = this.records[module];
    if (!table || !rows) return { body: { name: 'Module Does Not Exist', number: 20, description: 'This module is not available on this server' } };
    const query = String(data.query);
    this.wheres.push(query);
    const strip = "REPLACE\\(".repeat(7);
    const condition = new RegExp(`^${strip}${table}\\.([a-z_]+),' ',''\\),'-',''\\),'\\(',''\\),'\\)',''\\),'\\.',''\\),'\\+',''\\),'/',''\\) LIKE '%(\\d+)%'$`);
    const parts = /^\((.+)\)$/.exec(query)?.[1]!.split(' OR ').map((part) => condition.exec(part));
    if (!parts || parts.some((p) => p === null)) return this.violation(`WHERE "${query}" is not (REPLACE(...${table}.column...) LIKE '%{digits}%' OR ...)`);
    // SugarBean::process_order_by keeps only names in the field definitions: "contacts.date_modified" is dropped silently.
    const orderBy = String(data.order_by).split(',').map((part) => part.trim()).filter((part) => /^[a-z_]+( (ASC|DESC))?$/i.test(part));
    if (orderBy.length === 0 || orderBy[0] !== 'date_modified DESC') return this.violation(`order_by "${String(data.order_by)}" keeps no date_modified DESC once SuiteCRM drops table-prefixed names`);
    const hits = rows
      .filter((r) => (r.deleted ?? '0') === '0' && parts.some((p) => (r[p![1]!] ?? '').replace(/[ \-().+/]/g, '').includes(p![2]!)))
      .sort((a, b) => b.date_modified.localeCompare(a.date_modified))
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

/** SQL LIKE with % only, anchored, as MySQL evaluates it (case-insensitive). */
function likeToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('%').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'is');
}
