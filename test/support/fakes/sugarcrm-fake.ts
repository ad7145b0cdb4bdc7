/**
 * A fake SugarCRM REST v10/v11 server. Like Sugar's RestService, it first checks the version in
 * the URL against the range it serves (10 to `maxVersion`) and answers one outside it, on any
 * route and before authentication, with HTTP 301, no Location and
 * {"error":"incorrect_version","error_message":"Please change your requested API version to value between 10 and {max}."}
 * (SugarApiExceptionIncorrectVersion as RestService::handleException writes it). Then: ping
 * (401 need_login without a token), the oauth2/token endpoint (password and single-use refresh
 * grants, registered platforms only), POST {Module}/filter evaluated against in-memory records
 * ($or of $contains on the module's phone fields, order_by, max_num, fields), and the metadata
 * endpoint. A request that is not as Sugar documents it gets a 4xx naming what was wrong, and
 * is kept in `violations` so a test can fail on it.
 */
import { randomUUID } from 'node:crypto';
import type { FakeHttpsServer, FakeReply, RecordedRequest } from '../fake-https';
import { VendorFake } from './vendor-fake';

export type SugarRecord = Record<string, unknown> & { id: string; date_modified: string };

export interface SugarFakeOptions {
  /** The newest REST version served, as Sugar's metadata.php writes it ('11.16' for Sugar 12.0). */
  maxVersion?: string;
  users?: Record<string, string>;
  platforms?: string[];
  records?: Record<string, SugarRecord[]>;
  expiresIn?: number;
}

const PHONE_FIELDS: Record<string, string[]> = {
  Contacts: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other', 'phone_fax'],
  Leads: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other', 'phone_fax'],
  Accounts: ['phone_office', 'phone_alternate', 'phone_fax'],
};

export class SugarFake extends VendorFake {
  readonly logins: string[] = [];
  readonly refreshes: string[] = [];
  /** Answers the next filter requests before any check (a 401, a 429, a 500, a slow answer...). */
  readonly filterOverrides: FakeReply[] = [];
  private readonly accessTokens = new Map<string, string>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly maxVersion: string;
  private readonly users: Record<string, string>;
  private readonly platforms: string[];
  private readonly expiresIn: number;
  records: Record<string, SugarRecord[]>;
  /** CRM users by id -> e-mail (record owners), as GET Users/{id} answers them. */
  readonly crmUsers = new Map<string, string | null>();

  private constructor(server: FakeHttpsServer, options: SugarFakeOptions) {
    super(server);
    this.maxVersion = options.maxVersion ?? '11.27';
    this.users = options.users ?? { api: 'secret' };
    this.platforms = options.platforms ?? ['base', 'mobile', 'portal', 'pbx_crm_routing'];
    this.records = options.records ?? {};
    this.expiresIn = options.expiresIn ?? 3600;
  }

  static start(options: SugarFakeOptions = {}): Promise<SugarFake> {
    return VendorFake.serve((server) => new SugarFake(server, options));
  }

  /** Requests that reached a record endpoint (not the token endpoint). */
  get filterRequests(): RecordedRequest[] {
    return this.server.requests.filter((r) => r.path.endsWith('/filter'));
  }

  /** Every access token stops working, as when Sugar expires a session early. */
  revokeAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** Every refresh token stops working (used elsewhere, or expired). */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  /** Requests that reached a route, the version check passed. */
  get servedRequests(): RecordedRequest[] {
    return this.server.requests.filter((r) => { const v = versionOf(r.path); return v !== undefined && this.serves(v); });
  }

  protected handle(req: RecordedRequest): FakeReply {
    const match = /^\/rest\/(v\d+(?:_\d+)?)\/(.*)$/.exec(req.path);
    if (!match) return this.reject(404, 'no_method', `Unknown path ${req.path}`);
    if (!this.serves(versionOf(req.path)!)) {
      return {
        status: 301,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: JSON.stringify({ error: 'incorrect_version', error_message: `Please change your requested API version to value between 10 and ${this.maxVersion}.` }),
      };
    }
    const route = match[2]!;
    if (route === 'oauth2/token') return this.token(req);
    const user = this.authenticate(req);
    if (typeof user !== 'string') return user;
    if (route === 'ping' && req.method === 'GET') return { body: 'pong' };
    const filter = /^([A-Za-z][A-Za-z0-9_]*)\/filter$/.exec(route);
    if (filter) {
      const override = this.filterOverrides.shift();
      if (override) return override;
      return this.filter(req, filter[1] as string);
    }
    if (route === 'metadata' && req.method === 'GET') return this.metadata(req);
    const owner = /^Users\/([A-Za-z0-9-]+)$/.exec(route);
    if (owner) return this.user(req, owner[1]!);
    return this.reject(404, 'no_method', `Unknown route ${route}`);
  }

  /** GET Users/{id}?fields=email1,email: the user's primary address and its list, or not_found. */
  private user(req: RecordedRequest, id: string): FakeReply {
    if (req.method !== 'GET') return this.violation(405, `a user is read with GET, got ${req.method}`);
    if ([...req.query.keys()].join(',') !== 'fields' || req.query.get('fields') !== 'email1,email') return this.violation(400, 'a user is read with ?fields=email1,email only');
    if (!this.crmUsers.has(id)) return this.reject(404, 'not_found', `Could not find record: ${id} in module: Users`);
    const email = this.crmUsers.get(id) ?? '';
    return { body: { id, email1: email, email: email ? [{ email_address: email, primary_address: true, invalid_email: false, opt_out: false }] : [], _module: 'Users' } };
  }

  private token(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return this.violation(405, `token endpoint needs POST, got ${req.method}`);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return this.violation(400, 'token request must be JSON');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return this.violation(400, 'token body is not JSON');
    }
    if (body.client_id !== 'sugar' || body.client_secret !== '') return this.violation(400, `expected client_id "sugar" and an empty client_secret, got ${JSON.stringify([body.client_id, body.client_secret])}`);
    if (typeof body.platform !== 'string' || !this.platforms.includes(body.platform)) {
      return { status: 422, body: { error: 'invalid_parameter', error_message: 'Invalid platform: the platform is not registered' } };
    }
    if (body.grant_type === 'password') {
      const { username, password } = body;
      if (typeof username !== 'string' || typeof password !== 'string' || this.users[username] !== password) {
        return { status: 401, body: { error: 'need_login', error_message: 'You must specify a valid username and password.' } };
      }
      this.logins.push(username);
      return { body: this.issue(username) };
    }
    if (body.grant_type === 'refresh_token') {
      const user = this.refreshTokens.get(String(body.refresh_token));
      if (!user) return { status: 400, body: { error: 'invalid_grant', error_message: 'Invalid refresh token' } };
      this.refreshTokens.delete(String(body.refresh_token)); // single use
      this.refreshes.push(user);
      return { body: this.issue(user) };
    }
    return this.violation(400, `unexpected grant_type ${String(body.grant_type)}`);
  }

  private issue(user: string): Record<string, unknown> {
    const access = randomUUID();
    const refresh = randomUUID();
    this.accessTokens.set(access, user);
    this.refreshTokens.set(refresh, user);
    return { access_token: access, expires_in: this.expiresIn, token_type: 'bearer', scope: null, refresh_token: refresh, refresh_expires_in: 1209600, download_token: randomUUID() };
  }

  private authenticate(req: RecordedRequest): string | FakeReply {
    const token = req.headers['oauth-token'];
    if (req.headers.authorization !== undefined) return this.violation(400, 'Sugar takes the token in OAuth-Token, not Authorization');
    const user = typeof token === 'string' ? this.accessTokens.get(token) : undefined;
    if (token === undefined) return { status: 401, body: { error: 'need_login', error_message: 'No valid authentication for user.' } };
    if (!user) return { status: 401, body: { error: 'invalid_grant', error_message: 'The access token provided is invalid.' } };
    return user;
  }

  /** Sugar compares the URL's version (v11_16 -> 11.16) with its min and max as numbers. */
  private serves(version: number): boolean {
    return version >= 10 && version <= Number(this.maxVersion);
  }

  private filter(req: RecordedRequest, module: string): FakeReply {
    if (req.method !== 'POST') return this.violation(405, 'filter must be POSTed (the form this connector documents)');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return this.violation(400, 'filter body must be JSON');
    const phones = PHONE_FIELDS[module];
    if (!phones) return this.reject(404, 'not_found', `Module ${module} does not exist`);
    let body: { filter?: unknown; fields?: unknown; max_num?: unknown; order_by?: unknown };
    try {
      body = JSON.parse(req.body) as typeof body;
    } catch {
      return this.violation(400, 'filter body is not JSON');
    }
    const keys = Object.keys(body).sort().join(',');
    if (keys !== 'fields,filter,max_num,order_by') return this.violation(400, `unexpected filter body keys ${keys}`);
    if (body.order_by !== 'date_modified:DESC') return this.violation(400, `order_by must be date_modified:DESC, got ${String(body.order_by)}`);
    if (body.max_num !== 5) return this.violation(400, `max_num must be 5, got ${String(body.max_num)}`);
    if (typeof body.fields !== 'string' || !/^[a-z0-9_]+(,[A-Za-z0-9_]+)*$/i.test(body.fields)) return this.violation(400, 'fields must be a comma-separated string');
    const conditions = parseOr(body.filter);
    if (typeof conditions === 'string') return this.violation(400, conditions);
    for (const { field, term } of conditions) {
      if (!phones.includes(field)) return this.violation(422, `${field} is not a phone field of ${module}`);
      if (!/^[0-9 .()-]+$/.test(term)) return this.violation(400, `search term ${JSON.stringify(term)} holds characters a phone search should not send`);
    }
    const wanted = new Set(['id', 'date_modified', ...body.fields.split(',')]);
    const hits = (this.records[module] ?? [])
      .filter((r) => conditions.some(({ field, term }) => typeof r[field] === 'string' && (r[field] as string).includes(term)))
      .sort((a, b) => b.date_modified.localeCompare(a.date_modified));
    const page = hits.slice(0, 5).map((r) => ({ ...Object.fromEntries(Object.entries(r).filter(([k]) => wanted.has(k))), _module: module, _acl: { fields: {} } }));
    return { body: { next_offset: hits.length > 5 ? 5 : -1, records: page } };
  }

  private metadata(req: RecordedRequest): FakeReply {
    const type = req.query.get('type_filter');
    if (type === 'module_list') return { body: { module_list: { Accounts: 'Accounts', Contacts: 'Contacts', Leads: 'Leads', _hash: 'abc' }, _hash: 'x' } };
    if (type === 'modules') {
      const module = req.query.get('module_filter') ?? '';
      if (!PHONE_FIELDS[module]) return { body: { modules: {}, _hash: 'x' } };
      const fields: Record<string, unknown> = { _hash: 'h', id: { name: 'id', type: 'id', vname: 'LBL_ID' }, account_name: { name: 'account_name', type: 'relate', vname: 'LBL_ACCOUNT_NAME' }, tier_c: { name: 'tier_c', type: 'enum', vname: 'LBL_TIER' }, accounts: { name: 'accounts', type: 'link' } };
      for (const p of PHONE_FIELDS[module] ?? []) fields[p] = { name: p, type: 'phone', vname: `LBL_${p.toUpperCase()}` };
      return { body: { modules: { [module]: { fields, _hash: 'm' } }, _hash: 'x' } };
    }
    return this.violation(400, `unexpected type_filter ${String(type)}`);
  }

  private violation(status: number, message: string): FakeReply {
    this.violations.push(message);
    return this.reject(status, 'fake_violation', message);
  }

  private reject(status: number, error: string, message: string): FakeReply {
    return { status, body: { error, error_message: message } };
  }
}

/** '/rest/v11_16/...' -> 11.16, as Sugar reads the URL's version. */
function versionOf(path: string): number | undefined {
  const match = /^\/rest\/v(\d+)(?:_(\d+))?\//.exec(path);
  return match ? Number(`${match[1]}.${match[2] ?? '0'}`) : undefined;
}

function parseOr(filter: unknown): Array<{ field: string; term: string }> | string {
  if (!Array.isArray(filter) || filter.length !== 1) return 'filter must be an array of one $or';
  const or = (filter[0] as { $or?: unknown }).$or;
  if (!Array.isArray(or) || or.length === 0 || Object.keys(filter[0] as object).length !== 1) return 'filter[0] must be {"$or": [...]}';
  const out: Array<{ field: string; term: string }> = [];
  for (const clause of or) {
    const entries = Object.entries(clause as object);
    if (entries.length !== 1) return 'each $or clause names one field';
    const [field, op] = entries[0] as [string, unknown];
    const opEntries = Object.entries(op as object);
    if (opEntries.length !== 1 || opEntries[0]?.[0] !== '$contains' || typeof opEntries[0]?.[1] !== 'string') return `clause on ${field} must be {"$contains": "..."}`;
    out.push({ field, term: opEntries[0][1] });
  }
  return out;
}
