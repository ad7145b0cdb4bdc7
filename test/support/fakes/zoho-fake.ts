/**
 * Zoho CRM as its documentation describes it, in several data centres at once: per data centre
 * an Accounts server (consent page, code exchange, refresh) and an API server, each its own HTTPS
 * server. A connector reaches them through `resolveOrigin` (https://accounts.zoho.eu -> the
 * fake's port). Tokens are only valid in the data centre that issued them, and carry the scopes
 * they were granted: the API answers 401 OAUTH_SCOPE_MISMATCH, as Zoho does, to a search without
 * ZohoSearch.securesearch.READ and a records scope, to field metadata without
 * ZohoCRM.settings.fields.READ and to the module list without ZohoCRM.settings.modules.READ.
 * Every request is checked exactly (method, path, query, headers, body); a mismatch is answered
 * 400 with what was wrong and kept in `violations`, which tests assert is empty.
 */
import { FakeHttpsServer, type FakeReply, type RecordedRequest } from '../fake-https';
import { AuthorizationCodes, redirectBack } from './authorization-codes';
import { formProblem } from './request-checks';
import { ScriptedReplies } from './vendor-fake';

export type ZohoRecord = { id: string; Modified_Time: string } & Record<string, unknown>;

export interface ZohoFieldMeta {
  api_name: string;
  field_label: string;
  data_type: string;
}

export interface ZohoRequest extends RecordedRequest {
  dc: string;
  role: 'accounts' | 'api';
}

/** Every scope the connector asks for. */
export const ALL_SCOPES = ['ZohoCRM.modules.READ', 'ZohoSearch.securesearch.READ', 'ZohoCRM.settings.fields.READ', 'ZohoCRM.settings.modules.READ', 'ZohoCRM.modules.calls.CREATE', 'ZohoCRM.modules.contacts.CREATE', 'ZohoCRM.modules.leads.CREATE', 'ZohoCRM.users.READ'];

/** Fields of a Calls record the call log may write (Zoho's v8 SDK, class Calls). */
const CALL_FIELDS = new Set(['Subject', 'Call_Type', 'Call_Start_Time', 'Call_Duration', 'Description', 'Caller_ID', 'Dialled_Number', 'Outgoing_Call_Status', 'Who_Id', 'What_Id', '$se_module', 'Owner', 'Call_Purpose', 'Call_Result', 'Voice_Recording__s']);

export interface ZohoUser {
  id: string;
  email: string;
  status: 'active' | 'disabled';
}

const STANDARD_FIELDS: Record<string, ZohoFieldMeta[]> = {
  Contacts: [
    { api_name: 'Last_Name', field_label: 'Last Name', data_type: 'text' },
    { api_name: 'Account_Name', field_label: 'Account Name', data_type: 'lookup' },
    { api_name: 'Owner', field_label: 'Contact Owner', data_type: 'ownerlookup' },
    { api_name: 'Phone', field_label: 'Phone', data_type: 'phone' },
    { api_name: 'Mobile', field_label: 'Mobile', data_type: 'phone' },
    { api_name: 'Home_Phone', field_label: 'Home Phone', data_type: 'phone' },
    { api_name: 'Other_Phone', field_label: 'Other Phone', data_type: 'phone' },
    { api_name: 'Asst_Phone', field_label: 'Asst Phone', data_type: 'phone' },
    { api_name: 'Tier', field_label: 'Tier', data_type: 'picklist' },
  ],
  Leads: [{ api_name: 'Phone', field_label: 'Phone', data_type: 'phone' }, { api_name: 'Mobile', field_label: 'Mobile', data_type: 'phone' }],
  Accounts: [{ api_name: 'Phone', field_label: 'Phone', data_type: 'phone' }],
  Deals: [{ api_name: 'Deal_Name', field_label: 'Deal Name', data_type: 'text' }, { api_name: 'Amount', field_label: 'Amount', data_type: 'currency' }],
  Vendors_X: [
    { api_name: 'Name', field_label: 'Vendor Name', data_type: 'text' },
    { api_name: 'Hotline', field_label: 'Hotline', data_type: 'phone' },
  ],
};
/** generated_type of each module in settings/modules. */
const MODULE_KINDS: Record<string, string> = { Contacts: 'default', Leads: 'default', Accounts: 'default', Deals: 'default', Vendors_X: 'custom' };

const SCOPE_MISMATCH: FakeReply = { status: 401, body: { code: 'OAUTH_SCOPE_MISMATCH', details: {}, message: 'invalid oauth scope to access this URL', status: 'error' } };

interface Grant {
  dc: string;
  scopes: string[];
}

export class ZohoFake {
  readonly clientId = '1000.FAKECLIENT';
  readonly clientSecret = 'fake-client-secret';
  /** Valid refresh tokens, each bound to the data centre that issued it and its scopes. */
  readonly refreshTokens = new Map<string, Grant>();
  /** Records per data centre and module. */
  readonly records = new Map<string, Record<string, ZohoRecord[]>>();
  readonly fields: Record<string, ZohoFieldMeta[]> = structuredClone(STANDARD_FIELDS);
  readonly violations: string[] = [];
  readonly requests: ZohoRequest[] = [];
  /** Users per data centre (the call log's owners by e-mail). */
  readonly users: ZohoUser[] = [];
  /** How long an insert is held before its answer (it is stored at once): a write that times out. */
  insertDelayMs = 0;
  private nextId = 4150868000000900000n;
  /** The data centre of the account that consents (default: the one whose consent page is used). */
  consentDc: string | undefined;
  private readonly scripted = new ScriptedReplies<ZohoRequest>();
  private readonly accessTokens = new Map<string, Grant>();
  private readonly codes = new AuthorizationCodes();
  private issued = 0;

  private constructor(private readonly servers: Map<string, { dc: string; role: 'accounts' | 'api'; server: FakeHttpsServer }>) {}

  static async start(dataCentres: Record<string, { accounts: string; api: string }>): Promise<ZohoFake> {
    const servers = new Map<string, { dc: string; role: 'accounts' | 'api'; server: FakeHttpsServer }>();
    const fake = new ZohoFake(servers);
    for (const [dc, hosts] of Object.entries(dataCentres)) {
      fake.records.set(dc, {});
      fake.grantRefreshToken(`1000.refresh-${dc}`, dc);
      for (const role of ['accounts', 'api'] as const) {
        const server = await FakeHttpsServer.start((req) => fake.handle({ ...req, dc, role }));
        servers.set(role === 'accounts' ? hosts.accounts : hosts.api, { dc, role, server });
      }
    }
    return fake;
  }

  /** For ZohoServices.resolveOrigin: a real Zoho origin -> the fake server standing in for it. */
  readonly resolveOrigin = (origin: string): string => {
    const entry = this.servers.get(origin);
    if (!entry) throw new Error(`the Zoho fake does not serve ${origin}`);
    return entry.server.url;
  };

  /** A refresh token valid in `dc` with `scopes` (all the connector asks for, unless given). */
  grantRefreshToken(token: string, dc: string, scopes: string[] = ALL_SCOPES): void {
    this.refreshTokens.set(token, { dc, scopes });
  }

  add(dc: string, module: string, record: ZohoRecord): void {
    const modules = this.records.get(dc)!;
    (modules[module] ??= []).push(record);
  }

  /** Answers the next request matching `when` with `reply` (once), after the usual checks. */
  script(when: (req: ZohoRequest) => boolean, reply: FakeReply): void {
    this.scripted.add(when, reply);
  }

  /** Every access token issued so far stops working (as after an hour). */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  tokenRequests(dc?: string): number {
    return this.requests.filter((r) => r.role === 'accounts' && r.method === 'POST' && (dc === undefined || r.dc === dc)).length;
  }

  apiRequests(dc?: string): ZohoRequest[] {
    return this.requests.filter((r) => r.role === 'api' && (dc === undefined || r.dc === dc));
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.server.close()));
  }

  private accountsOrigin(dc: string): string {
    return [...this.servers.entries()].find(([, s]) => s.dc === dc && s.role === 'accounts')![0];
  }

  private handle(req: ZohoRequest): FakeReply {
    this.requests.push(req);
    const problem = req.role === 'accounts' ? this.checkAccounts(req) : this.checkApi(req);
    if (problem) {
      this.violations.push(`${req.method} ${req.path} (${req.dc} ${req.role}): ${problem}`);
      return { status: 400, body: { code: 'FAKE_MISMATCH', message: problem, status: 'error' } };
    }
    const scripted = this.scripted.take(req);
    if (scripted) return scripted;
    if (req.role === 'api') return this.api(req);
    return req.method === 'GET' ? this.consent(req) : this.token(req);
  }

  private checkAccounts(req: ZohoRequest): string | undefined {
    if (req.method === 'GET' && req.path === '/oauth/v2/auth') {
      const keys = [...req.query.keys()].sort().join(',');
      if (keys !== 'access_type,client_id,prompt,redirect_uri,response_type,scope,state') return `consent takes exactly scope, client_id, response_type, access_type, prompt, redirect_uri, state (got ${keys})`;
      if (req.query.get('response_type') !== 'code' || req.query.get('access_type') !== 'offline' || req.query.get('prompt') !== 'consent') return 'response_type=code, access_type=offline and prompt=consent are expected';
      return undefined;
    }
    if (req.method !== 'POST' || req.path !== '/oauth/v2/token') return 'expected GET /oauth/v2/auth or POST /oauth/v2/token';
    const grant = new URLSearchParams(req.body).get('grant_type');
    if (grant === 'authorization_code') return formProblem(req, ['client_id', 'client_secret', 'code', 'grant_type', 'redirect_uri']);
    return formProblem(req, ['client_id', 'client_secret', 'grant_type', 'refresh_token'], { grant_type: 'refresh_token' });
  }

  /** Zoho's consent page, approved at once: back to the redirect URI with the account's data centre. */
  private consent(req: ZohoRequest): FakeReply {
    if (req.query.get('client_id') !== this.clientId) return { status: 400, body: 'Invalid Client' };
    const dc = this.consentDc ?? req.dc;
    const redirectUri = req.query.get('redirect_uri')!;
    const code = this.codes.issue({ clientId: this.clientId, redirectUri, scopes: req.query.get('scope')!.split(','), extra: { dc } });
    const location = { com: 'us', 'com.au': 'au', 'com.cn': 'cn' }[dc] ?? dc;
    return { status: 302, headers: { location: redirectBack(redirectUri, { state: req.query.get('state')!, code, location, 'accounts-server': this.accountsOrigin(dc) }) } };
  }

  private token(req: ZohoRequest): FakeReply {
    const form = new URLSearchParams(req.body);
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) return { body: { error: 'invalid_client' } };
    let grant: Grant | undefined;
    let refreshToken: string | undefined;
    if (form.get('grant_type') === 'authorization_code') {
      const redeemed = this.codes.redeem(form.get('code') ?? '', form);
      if (typeof redeemed === 'string') return { body: { error: redeemed.includes('redirect_uri') ? 'invalid_redirect_uri' : 'invalid_code' } };
      if (redeemed.extra?.dc !== req.dc) return { body: { error: 'invalid_code' } }; // exchanged at another data centre
      grant = { dc: req.dc, scopes: redeemed.scopes };
      refreshToken = `1000.refresh-connected-${(this.issued += 1)}`;
      this.refreshTokens.set(refreshToken, grant);
    } else {
      grant = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (grant?.dc !== req.dc) return { body: { error: 'invalid_code' } };
    }
    this.issued += 1;
    const token = `1000.access-${req.dc}-${this.issued}`;
    this.accessTokens.set(token, grant);
    return { body: { access_token: token, ...(refreshToken ? { refresh_token: refreshToken } : {}), api_domain: `https://www.zohoapis.${req.dc}`, token_type: 'Bearer', expires_in: 3600 } };
  }

  private checkApi(req: ZohoRequest): string | undefined {
    if (!/^Zoho-oauthtoken \S+$/.test(String(req.headers.authorization ?? ''))) return 'Authorization must be "Zoho-oauthtoken {token}"';
    const keys = [...req.query.keys()].sort().join(',');
    if (req.method === 'POST') return this.insertProblem(req, keys);
    if (req.method !== 'GET') return 'only GET, and POST of an insert, are expected';
    if (req.path === '/crm/v8/users') {
      if (keys !== 'page,per_page,type' || req.query.get('type') !== 'ActiveUsers') return `users takes type=ActiveUsers, per_page, page (got ${keys})`;
      return Number(req.query.get('per_page')) <= 200 ? undefined : 'per_page at most 200';
    }
    if (req.path === '/crm/v8/Calls/search') {
      if (keys !== 'fields,page,per_page,word') return `a Calls word search takes exactly word, fields, per_page, page (got ${keys})`;
      return /^[A-Za-z0-9_-]{2,64}$/.test(req.query.get('word') ?? '') ? undefined : 'word must be a call id';
    }
    if (/^\/crm\/v8\/[A-Za-z0-9_]+\/search$/.test(req.path)) {
      if (keys !== 'fields,page,per_page,phone') return `search takes exactly phone, fields, per_page, page (got ${keys})`;
      const perPage = Number(req.query.get('per_page'));
      if (!Number.isInteger(perPage) || perPage < 1 || perPage > 200 || req.query.get('page') !== '1') return 'per_page must be 1 to 200 and page 1';
      if (!/^\+?\d+$/.test(req.query.get('phone') ?? '')) return `phone must be digits, got ${req.query.get('phone')}`;
      const fields = (req.query.get('fields') ?? '').split(',');
      if (!fields.includes('id') || fields.some((f) => !/^[A-Za-z][A-Za-z0-9_]*$/.test(f))) return `fields must be API names including id, got ${req.query.get('fields')}`;
      if (fields.length > 50) return 'at most 50 fields';
      return undefined;
    }
    if (req.path === '/crm/v8/settings/modules') return keys === '' ? undefined : 'settings/modules takes no parameters';
    if (req.path === '/crm/v8/settings/fields') return keys === 'module' ? undefined : 'settings/fields takes exactly module';
    return undefined; // other paths answer 404 below, as Zoho does
  }

  private api(req: ZohoRequest): FakeReply {
    const grant = this.accessTokens.get(String(req.headers.authorization).slice('Zoho-oauthtoken '.length));
    if (grant?.dc !== req.dc) return { status: 401, body: { code: 'INVALID_TOKEN', details: {}, message: 'invalid oauth token', status: 'error' } };
    const has = (...scopes: string[]) => scopes.some((s) => grant.scopes.includes(s));
    const insert = /^\/crm\/v8\/(Calls|Contacts|Leads)$/.exec(req.path);
    if (insert && req.method === 'POST') {
      const module = insert[1]!.toLowerCase();
      if (!has('ZohoCRM.modules.ALL', `ZohoCRM.modules.${module}.ALL`, `ZohoCRM.modules.${module}.CREATE`, `ZohoCRM.modules.${module}.WRITE`)) return SCOPE_MISMATCH;
      const record = (JSON.parse(req.body) as { data: Array<Record<string, unknown>> }).data[0]!;
      const id = String((this.nextId += 1n));
      const now = new Date().toISOString().slice(0, 19) + '+00:00';
      this.add(req.dc, insert[1]!, { ...record, id, Modified_Time: now } as ZohoRecord);
      return { status: 201, delayMs: this.insertDelayMs, body: { data: [{ code: 'SUCCESS', details: { Modified_Time: now, Modified_By: { name: 'API', id: '1' }, Created_Time: now, id, Created_By: { name: 'API', id: '1' } }, message: 'record added', status: 'success' }] } };
    }
    if (req.path === '/crm/v8/users') {
      if (!has('ZohoCRM.users.ALL', 'ZohoCRM.users.READ')) return SCOPE_MISMATCH;
      const active = this.users.filter((u) => u.status === 'active');
      const perPage = Number(req.query.get('per_page'));
      const page = Number(req.query.get('page'));
      const users = active.slice((page - 1) * perPage, page * perPage).map((u) => ({ id: u.id, email: u.email, status: u.status, full_name: `Agent ${u.id}`, role: { name: 'Agent', id: '2' } }));
      if (users.length === 0) return { status: 204 };
      return { body: { users, info: { per_page: perPage, count: users.length, page, more_records: page * perPage < active.length } } };
    }
    if (req.path === '/crm/v8/Calls/search') {
      if (!has('ZohoCRM.modules.ALL', 'ZohoCRM.modules.READ', 'ZohoCRM.modules.calls.READ') || !has('ZohoSearch.securesearch.READ')) return SCOPE_MISMATCH;
      const word = req.query.get('word')!;
      const data = (this.records.get(req.dc)!.Calls ?? []).filter((c) => String(c.Description ?? '').includes(word)).map((c) => ({ id: c.id, Description: c.Description }));
      return data.length === 0 ? { status: 204 } : { body: { data, info: { per_page: 10, count: data.length, page: 1, more_records: false } } };
    }
    const search = /^\/crm\/v8\/([A-Za-z0-9_]+)\/search$/.exec(req.path);
    if (search) {
      const module = search[1]!.toLowerCase();
      if (!has('ZohoCRM.modules.ALL', 'ZohoCRM.modules.READ', `ZohoCRM.modules.${module}.READ`, `ZohoCRM.modules.${module}.ALL`) || !has('ZohoSearch.securesearch.READ')) return SCOPE_MISMATCH;
      return this.search(req, search[1]!);
    }
    if (req.path === '/crm/v8/settings/modules') {
      if (!has('ZohoCRM.settings.ALL', 'ZohoCRM.settings.modules.READ', 'ZohoCRM.settings.modules.ALL')) return SCOPE_MISMATCH;
      const modules = Object.keys(this.fields).map((api_name) => ({ api_name, api_supported: true, generated_type: MODULE_KINDS[api_name] ?? 'custom' }));
      return { body: { modules: [...modules, { api_name: 'Home', api_supported: false, generated_type: 'default' }, { api_name: 'Contacts_X_Deals', api_supported: true, generated_type: 'linking' }] } };
    }
    if (req.path === '/crm/v8/settings/fields') {
      if (!has('ZohoCRM.settings.ALL', 'ZohoCRM.settings.fields.READ', 'ZohoCRM.settings.fields.ALL')) return SCOPE_MISMATCH;
      const fields = this.fields[req.query.get('module') ?? ''];
      return fields ? { body: { fields } } : { status: 400, body: { code: 'INVALID_MODULE', details: {}, message: 'the module name given seems to be invalid', status: 'error' } };
    }
    return { status: 404, body: { code: 'INVALID_URL_PATTERN', details: {}, message: 'Please check if the URL trying to access is a correct one', status: 'error' } };
  }

  /** What Zoho would refuse in an insert of a call, contact or lead (v8 Insert Records). */
  private insertProblem(req: ZohoRequest, keys: string): string | undefined {
    const insert = /^\/crm\/v8\/(Calls|Contacts|Leads)$/.exec(req.path);
    if (!insert) return `POST ${req.path} is not an insert the connector makes`;
    if (keys !== '') return 'an insert takes no query parameters';
    if (req.headers['content-type'] !== 'application/json') return 'an insert is a JSON body';
    let body: { data?: Array<Record<string, unknown>> };
    try { body = JSON.parse(req.body) as typeof body; } catch { return 'body is not JSON'; }
    if (Object.keys(body).join(',') !== 'data' || !Array.isArray(body.data) || body.data.length !== 1) return 'body is {"data":[one record]}';
    const r = body.data[0]!;
    const owner = r.Owner as { id?: unknown } | undefined;
    if (owner !== undefined && !this.users.some((u) => u.id === owner.id && u.status === 'active')) return `Owner ${JSON.stringify(owner)} is no active user`;
    if (insert[1] !== 'Calls') return typeof r.Last_Name === 'string' && r.Last_Name !== '' ? undefined : 'MANDATORY_NOT_FOUND: Last_Name';
    const unknown = Object.keys(r).filter((k) => !CALL_FIELDS.has(k));
    if (unknown.length) return `no such Calls field ${unknown.join(', ')}`;
    for (const field of ['Subject', 'Call_Type', 'Call_Start_Time', 'Call_Duration']) if (typeof r[field] !== 'string' || r[field] === '') return `MANDATORY_NOT_FOUND: ${field}`;
    if (!['Inbound', 'Outbound', 'Missed'].includes(String(r.Call_Type))) return `Call_Type ${String(r.Call_Type)} is not Inbound, Outbound or Missed`;
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/.test(String(r.Call_Start_Time))) return 'Call_Start_Time is ISO 8601 with an offset, without milliseconds';
    if (!/^\d{2,}:[0-5]\d$/.test(String(r.Call_Duration))) return 'Call_Duration is mm:ss';
    if (r.Call_Type !== 'Missed' && r.Call_Duration === '00:00' && r.Call_Type === 'Inbound') return 'INVALID_DATA: an Inbound call needs a duration';
    const records = this.records.get(req.dc)!;
    const who = r.Who_Id as { id?: unknown } | undefined;
    const what = r.What_Id as { id?: unknown } | undefined;
    if (who && !(records.Contacts ?? []).some((c) => c.id === who.id)) return 'Who_Id takes a Contact';
    if (what && (r.$se_module !== 'Leads' || !(records.Leads ?? []).some((l) => l.id === what.id))) return 'What_Id here is a Lead with $se_module Leads';
    if (!who && !what) return 'a call is linked to its caller';
    return undefined;
  }

  /**
   * Zoho's phone search, as loosely as it might match (the digits anywhere in a phone field), in
   * the order records were stored: the search API takes no sort, so the newest may come last.
   */
  private search(req: ZohoRequest, module: string): FakeReply {
    const meta = this.fields[module];
    if (!meta) return { status: 400, body: { code: 'INVALID_MODULE', details: {}, message: 'the module name given seems to be invalid', status: 'error' } };
    const wanted = req.query.get('fields')!.split(',');
    const unknown = wanted.filter((f) => f !== 'id' && f !== 'Modified_Time' && !meta.some((m) => m.api_name === f));
    if (unknown.length) return { status: 400, body: { code: 'INVALID_DATA', details: { api_name: unknown[0] }, message: 'invalid field', status: 'error' } };
    const digits = req.query.get('phone')!.replace(/\D/g, '');
    const phoneFields = meta.filter((m) => m.data_type === 'phone').map((m) => m.api_name);
    const found = (this.records.get(req.dc)![module] ?? []).filter((r) => phoneFields.some((f) => String(r[f] ?? '').replace(/\D/g, '').includes(digits)));
    if (found.length === 0) return { status: 204 };
    const perPage = Number(req.query.get('per_page'));
    const data = found.slice(0, perPage).map((r) => Object.fromEntries(wanted.filter((f) => f in r).map((f) => [f, r[f]])));
    return { body: { data, info: { per_page: perPage, count: data.length, page: 1, more_records: found.length > perPage } } };
  }
}
