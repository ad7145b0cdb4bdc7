/**
 * Salesforce as documented: a login server standing for the org's My Domain (the consent page of
 * the web server flow, auto-approved, and `/services/oauth2/token` for the client credentials,
 * refresh token, authorization code with PKCE and legacy username-password grants) and a
 * separate instance server (the `instance_url` it hands out) answering SOSL `search/`,
 * `sobjects/` and `describe`. The SOSL the connector sends is parsed strictly (FIND {terms} IN
 * PHONE FIELDS RETURNING Object(fields [ORDER BY f DESC] LIMIT n), every reserved character
 * escaped) and run against stored records the loose way a full-text phone search may match (the
 * digits anywhere in a phone field), in the order asked for, else in stored order. Every request
 * is checked exactly; a mismatch is answered 400 MALFORMED_QUERY and kept in `violations`.
 */
import { FakeHttpsServer, type FakeReply, type RecordedRequest } from '../fake-https';
import { AuthorizationCodes, redirectBack } from './authorization-codes';
import { bearerToken, formProblem } from './request-checks';
import { ScriptedReplies } from './vendor-fake';

export type SalesforceRecord = { Id: string; LastModifiedDate: string } & Record<string, unknown>;

interface FieldMeta {
  name: string;
  label: string;
  type: string;
  relationshipName?: string | null;
}

const API = '/services/data/v60.0';

interface Sosl {
  terms: string[];
  object: string;
  fields: string[];
  orderBy?: { field: string; descending: boolean };
  limit: number;
}

/** Form fields of each grant the token endpoint takes (PKCE's code_verifier checked apart). */
const GRANT_FIELDS: Record<string, string[]> = {
  password: ['grant_type', 'client_id', 'client_secret', 'username', 'password'],
  client_credentials: ['grant_type', 'client_id', 'client_secret'],
  refresh_token: ['grant_type', 'client_id', 'client_secret', 'refresh_token'],
  authorization_code: ['grant_type', 'code', 'client_id', 'client_secret', 'redirect_uri', 'code_verifier'],
};
const CONSENT_PARAMS = 'client_id,code_challenge,code_challenge_method,redirect_uri,response_type,scope,state';

export class SalesforceFake {
  readonly clientId = '3MVG9fakeConsumerKey';
  readonly clientSecret = 'fake-consumer-secret';
  readonly users = new Map([['router@acme.example', 'Passw0rd!TOKEN123']]);
  readonly records: Record<string, SalesforceRecord[]> = { Contact: [], Lead: [], Account: [], Invoice__c: [], Opportunity: [], Project__c: [], Task: [] };
  /** Users the call log's owner query finds by Email. */
  readonly orgUsers: Array<{ Id: string; Email: string; IsActive: boolean }> = [];
  /** How long a create is held before its answer (it is stored at once): a write that times out. */
  createDelayMs = 0;
  private nextId = 1;
  readonly fields: Record<string, FieldMeta[]> = {
    Contact: [
      { name: 'Id', label: 'Contact ID', type: 'id' },
      { name: 'Name', label: 'Full Name', type: 'string' },
      { name: 'AccountId', label: 'Account ID', type: 'reference', relationshipName: 'Account' },
      { name: 'OwnerId', label: 'Owner ID', type: 'reference', relationshipName: 'Owner' },
      { name: 'Phone', label: 'Business Phone', type: 'phone' },
      { name: 'MobilePhone', label: 'Mobile Phone', type: 'phone' },
      { name: 'HomePhone', label: 'Home Phone', type: 'phone' },
      { name: 'OtherPhone', label: 'Other Phone', type: 'phone' },
      { name: 'AssistantPhone', label: 'Asst. Phone', type: 'phone' },
      { name: 'Level__c', label: 'Level', type: 'picklist' },
      { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime' },
    ],
    Lead: [{ name: 'Id', label: 'Lead ID', type: 'id' }, { name: 'Phone', label: 'Phone', type: 'phone' }, { name: 'MobilePhone', label: 'Mobile', type: 'phone' }, { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime' }],
    Account: [{ name: 'Id', label: 'Account ID', type: 'id' }, { name: 'Name', label: 'Account Name', type: 'string' }, { name: 'Phone', label: 'Phone', type: 'phone' }, { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime' }],
    Invoice__c: [{ name: 'Id', label: 'Record ID', type: 'id' }, { name: 'Name', label: 'Invoice', type: 'string' }, { name: 'Billing_Phone__c', label: 'Billing Phone', type: 'phone' }, { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime' }],
    Opportunity: [{ name: 'Id', label: 'Opportunity ID', type: 'id' }, { name: 'Name', label: 'Name', type: 'string' }, { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime' }],
    Project__c: [{ name: 'Id', label: 'Record ID', type: 'id' }, { name: 'Name', label: 'Project', type: 'string' }, { name: 'LastModifiedDate', label: 'Last Modified Date', type: 'datetime' }],
  };
  /** Whether the org lets the app use the client credentials flow (a Run As user is set). */
  clientCredentialsEnabled = true;
  /** Orgs created since Summer '23 block the username-password flow by default. */
  passwordFlowBlocked = false;
  /** The app rotates refresh tokens: each refresh answers a new one and the old one stops working. */
  rotateRefreshTokens = false;
  readonly refreshTokens = new Set<string>();
  readonly violations: string[] = [];
  private readonly scripted = new ScriptedReplies();
  private readonly sessions = new Set<string>();
  private readonly codes = new AuthorizationCodes();
  private issued = 0;

  private constructor(readonly login: FakeHttpsServer, readonly instance: FakeHttpsServer) {}

  static async start(): Promise<SalesforceFake> {
    let fake: SalesforceFake | undefined;
    const login = await FakeHttpsServer.start((req) => fake!.handleLogin(req));
    const instance = await FakeHttpsServer.start((req) => fake!.handleApi(req));
    fake = new SalesforceFake(login, instance);
    return fake;
  }

  /** Token requests (sign-ins), not visits of the consent page. */
  get loginRequests(): number {
    return this.login.requests.filter((r) => r.method === 'POST').length;
  }

  searches(): RecordedRequest[] {
    return this.instance.requests.filter((r) => r.path === `${API}/search/`);
  }

  /** The SOSL of the last search, decoded. */
  lastSosl(): string {
    return this.searches().at(-1)?.query.get('q') ?? '';
  }

  script(when: (req: RecordedRequest) => boolean, reply: FakeReply): void {
    this.scripted.add(when, reply);
  }

  expireSessions(): void {
    this.sessions.clear();
  }

  async close(): Promise<void> {
    await Promise.all([this.login.close(), this.instance.close()]);
  }

  private violation(req: RecordedRequest, problem: string): FakeReply {
    this.violations.push(`${req.method} ${req.path}: ${problem}`);
    return { status: 400, body: [{ message: `fake Salesforce: ${problem}`, errorCode: 'MALFORMED_QUERY' }] };
  }

  private handleLogin(req: RecordedRequest): FakeReply {
    if (req.method === 'GET' && req.path === '/services/oauth2/authorize') return this.consent(req);
    if (req.method !== 'POST' || req.path !== '/services/oauth2/token') return this.violation(req, 'expected GET /services/oauth2/authorize or POST /services/oauth2/token');
    const form = new URLSearchParams(req.body);
    const grant = form.get('grant_type') ?? '';
    const fields = GRANT_FIELDS[grant];
    if (!fields) return this.violation(req, `grant_type ${grant} is not one the connector uses`);
    const problem = formProblem(req, grant === 'authorization_code' && !form.has('code_verifier') ? fields.filter((f) => f !== 'code_verifier') : fields);
    if (problem) return this.violation(req, problem);
    const scripted = this.scripted.take(req);
    if (scripted) return scripted;
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) return { status: 400, body: { error: 'invalid_client_id', error_description: 'client identifier invalid' } };
    const refused = (description: string): FakeReply => ({ status: 400, body: { error: 'invalid_grant', error_description: description } });
    let refreshToken: string | undefined;
    if (grant === 'password' && (this.passwordFlowBlocked || this.users.get(form.get('username') ?? '') !== form.get('password'))) return refused('authentication failure');
    if (grant === 'client_credentials' && !this.clientCredentialsEnabled) return refused('no client credentials user enabled');
    if (grant === 'authorization_code') {
      const redeemed = this.codes.redeem(form.get('code') ?? '', form);
      if (typeof redeemed === 'string') return redeemed.includes('redirect_uri') ? { status: 400, body: { error: 'redirect_uri_mismatch', error_description: 'redirect_uri must match configuration' } } : refused(redeemed);
      refreshToken = this.newRefreshToken();
    }
    if (grant === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      if (!this.refreshTokens.has(presented)) return refused('expired access/refresh token');
      if (this.rotateRefreshTokens) {
        this.refreshTokens.delete(presented);
        refreshToken = this.newRefreshToken();
      }
    }
    this.issued += 1;
    const token = `00Dfake!session${this.issued}`;
    this.sessions.add(token);
    return { body: { access_token: token, ...(refreshToken ? { refresh_token: refreshToken } : {}), instance_url: this.instance.url, id: `https://login.salesforce.com/id/00Dfake/005fake`, token_type: 'Bearer', issued_at: String(Date.now()), signature: 'c2lnbmF0dXJl' } };
  }

  /** The consent page of the web server flow, approved at once: back to the callback with a code. */
  private consent(req: RecordedRequest): FakeReply {
    const keys = [...req.query.keys()].sort().join(',');
    if (keys !== CONSENT_PARAMS) return this.violation(req, `authorize takes exactly ${CONSENT_PARAMS} (got ${keys})`);
    if (req.query.get('response_type') !== 'code' || req.query.get('code_challenge_method') !== 'S256' || req.query.get('scope') !== 'api refresh_token') {
      return this.violation(req, 'response_type=code, code_challenge_method=S256 and scope "api refresh_token" are expected');
    }
    if (req.query.get('client_id') !== this.clientId) return { status: 400, body: 'error=invalid_client_id' };
    const redirectUri = req.query.get('redirect_uri')!;
    const code = this.codes.issue({ clientId: this.clientId, redirectUri, codeChallenge: req.query.get('code_challenge')!, scopes: ['api', 'refresh_token'] });
    return { status: 302, headers: { location: redirectBack(redirectUri, { code, state: req.query.get('state')! }) } };
  }

  private newRefreshToken(): string {
    const token = `5Aep-refresh-${(this.issued += 1)}`;
    this.refreshTokens.add(token);
    return token;
  }

  private handleApi(req: RecordedRequest): FakeReply {
    const session = bearerToken(req);
    if (session === undefined) return this.violation(req, 'Authorization must be "Bearer {session}"');
    const create = new RegExp(`^${API}/sobjects/(Task|Contact|Lead)$`).exec(req.path);
    if (create && req.method === 'POST') {
      const problem = this.createProblem(create[1]!, req);
      if (problem) return this.violation(req, problem);
      const scripted = this.scripted.take(req);
      if (scripted) return scripted;
      if (!this.sessions.has(session)) return { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
      const prefix = { Task: '00T', Contact: '003', Lead: '00Q' }[create[1]!]!;
      const Id = `${prefix}${String((this.nextId += 1)).padStart(12, '0')}AAA`;
      this.records[create[1]!]!.push({ ...(JSON.parse(req.body) as Record<string, unknown>), Id, LastModifiedDate: new Date().toISOString().replace('Z', '+0000') });
      return { status: 201, delayMs: this.createDelayMs, body: { id: Id, success: true, errors: [] } };
    }
    if (req.method !== 'GET') return this.violation(req, 'only GET, and POST of a Task, Contact or Lead, are expected');
    if (req.path === `${API}/query/`) {
      if ([...req.query.keys()].join(',') !== 'q') return this.violation(req, 'query takes exactly q');
      const parsed = parseSoql(req.query.get('q') ?? '');
      if (typeof parsed === 'string') return this.violation(req, parsed);
      const scripted = this.scripted.take(req);
      if (scripted) return scripted;
      if (!this.sessions.has(session)) return { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
      const records = parsed.object === 'User'
        ? this.orgUsers.filter((u) => u.Email.toLowerCase() === parsed.value.toLowerCase() && u.IsActive)
        : this.records.Task!.filter((t) => t.CallObject === parsed.value);
      const found = records.slice(0, parsed.limit).map((r) => ({ attributes: { type: parsed.object, url: `${API}/sobjects/${parsed.object}/${r.Id}` }, Id: r.Id }));
      return { body: { totalSize: found.length, done: true, records: found } };
    }
    let sosl: Sosl | undefined;
    if (req.path === `${API}/search/`) {
      if ([...req.query.keys()].join(',') !== 'q') return this.violation(req, 'search takes exactly q');
      const parsed = parseSosl(req.query.get('q') ?? '');
      if (typeof parsed === 'string') return this.violation(req, parsed);
      sosl = parsed;
    } else if ([...req.query.keys()].length) {
      return this.violation(req, 'no query parameters expected');
    }
    const scripted = this.scripted.take(req);
    if (scripted) return scripted;
    if (!this.sessions.has(session)) return { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
    if (sosl) return this.search(sosl);
    if (req.path === `${API}/sobjects/`) {
      const sobjects = Object.keys(this.fields).map((name) => ({ name, searchable: true, queryable: true, custom: name.endsWith('__c') }));
      return { body: { encoding: 'UTF-8', maxBatchSize: 200, sobjects: [...sobjects, { name: 'ApexLog', searchable: false, queryable: true, custom: false }] } };
    }
    const describe = new RegExp(`^${API}/sobjects/([A-Za-z0-9_]+)/describe$`).exec(req.path);
    if (describe) {
      const fields = this.fields[describe[1]!];
      return fields ? { body: { name: describe[1], fields } } : { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
    }
    return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
  }

  /** What Salesforce would refuse in a create of a Task (a logged call), Contact or Lead. */
  private createProblem(object: string, req: RecordedRequest): string | undefined {
    if (req.headers['content-type'] !== 'application/json') return 'a create is a JSON POST';
    if ([...req.query.keys()].length) return 'no query parameters expected';
    let body: Record<string, unknown>;
    try { body = JSON.parse(req.body) as Record<string, unknown>; } catch { return 'body is not JSON'; }
    const allowed: Record<string, string[]> = {
      Task: ['Subject', 'TaskSubtype', 'Status', 'Priority', 'ActivityDate', 'CallType', 'CallDisposition', 'CallDurationInSeconds', 'CallObject', 'Description', 'WhoId', 'WhatId', 'OwnerId'],
      Contact: ['LastName', 'FirstName', 'Phone', 'MobilePhone', 'OwnerId'],
      Lead: ['LastName', 'FirstName', 'Company', 'Phone', 'MobilePhone', 'OwnerId'],
    };
    const unknown = Object.keys(body).filter((k) => !allowed[object]!.includes(k));
    if (unknown.length) return `No such column ${unknown.join(', ')} on ${object}`;
    if (body.OwnerId !== undefined && !this.orgUsers.some((u) => u.Id === body.OwnerId && u.IsActive)) return `OwnerId ${String(body.OwnerId)} is no active user`;
    if (object !== 'Task') {
      if (typeof body.LastName !== 'string' || body.LastName === '') return 'REQUIRED_FIELD_MISSING: LastName';
      if (object === 'Lead' && (typeof body.Company !== 'string' || body.Company === '')) return 'REQUIRED_FIELD_MISSING: Company';
      return undefined;
    }
    if (body.TaskSubtype !== 'Call') return 'a logged call has TaskSubtype Call';
    if (body.Status !== 'Completed') return 'Status must be a closed TaskStatus (Completed)';
    if (!['High', 'Normal', 'Low'].includes(String(body.Priority))) return 'Priority is a picklist: High, Normal, Low';
    if (!['Inbound', 'Outbound', 'Internal'].includes(String(body.CallType))) return 'CallType is a picklist: Inbound, Internal, Outbound';
    if (!Number.isInteger(body.CallDurationInSeconds) || (body.CallDurationInSeconds as number) < 0) return 'CallDurationInSeconds is a whole number of seconds';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(String(body.ActivityDate))) return 'ActivityDate is a date (YYYY-MM-DD)';
    if (String(body.Subject ?? '').length > 255 || String(body.CallObject ?? '').length > 255 || String(body.CallDisposition ?? '').length > 255) return 'Subject, CallObject and CallDisposition hold 255 characters';
    if (String(body.Description ?? '').length > 32_000) return 'Description holds 32,000 characters';
    if (![...this.records.Contact!, ...this.records.Lead!].some((r) => r.Id === body.WhoId)) return `WhoId ${String(body.WhoId)} is no Contact or Lead`;
    return undefined;
  }

  private search(sosl: Sosl): FakeReply {
    const meta = this.fields[sosl.object];
    if (!meta) return { status: 400, body: [{ message: `sObject type '${sosl.object}' is not supported.`, errorCode: 'INVALID_TYPE' }] };
    const unknown = sosl.fields.find((f) => !meta.some((m) => m.name.toLowerCase() === f.toLowerCase() || (m.relationshipName && f.toLowerCase().startsWith(`${m.relationshipName.toLowerCase()}.`))));
    if (unknown) return { status: 400, body: [{ message: `No such column '${unknown}' on entity '${sosl.object}'.`, errorCode: 'INVALID_FIELD' }] };
    const phones = meta.filter((m) => m.type === 'phone').map((m) => m.name);
    const found = this.records[sosl.object]!.filter((r) => phones.some((p) => sosl.terms.some((t) => String(r[p] ?? '').replace(/\D/g, '').includes(t))));
    if (sosl.orderBy) {
      const { field, descending } = sosl.orderBy;
      found.sort((a, b) => String(a[field]).localeCompare(String(b[field])) * (descending ? -1 : 1));
    }
    const searchRecords = found.slice(0, sosl.limit).map((r) => {
      const out: Record<string, unknown> = { attributes: { type: sosl.object, url: `${API}/sobjects/${sosl.object}/${r.Id}` } };
      for (const field of sosl.fields) {
        const [head, tail] = field.split('.');
        const key = Object.keys(r).find((k) => k.toLowerCase() === head!.toLowerCase()) ?? head!;
        if (tail === undefined) out[key] = r[key] ?? null;
        else out[key] = r[key] == null ? null : { attributes: { type: key }, ...(r[key] as object) };
      }
      return out;
    });
    return { body: { searchRecords } };
  }
}

/** The two SOQL queries the call log sends, parsed strictly; a string is what is wrong. */
function parseSoql(q: string): { object: 'Task' | 'User'; value: string; limit: number } | string {
  const literal = String.raw`'((?:[^'\\]|\\['\\])*)'`;
  const task = new RegExp(`^SELECT Id FROM Task WHERE CallObject = ${literal} LIMIT (\\d+)$`).exec(q);
  if (task) return { object: 'Task', value: task[1]!.replace(/\\(.)/g, '$1'), limit: Number(task[2]) };
  const user = new RegExp(`^SELECT Id FROM User WHERE Email = ${literal} AND IsActive = true LIMIT (\\d+)$`).exec(q);
  if (user) return { object: 'User', value: user[1]!.replace(/\\(.)/g, '$1'), limit: Number(user[2]) };
  return `not a SOQL query the connector sends: ${q}`;
}

/** Strict parse of the SOSL the connector may send; a string is what is wrong with it. */
function parseSosl(q: string): Sosl | string {
  const match = /^FIND \{(.+)\} IN PHONE FIELDS RETURNING ([A-Za-z][A-Za-z0-9_]*)\(([^()]*?)(?: ORDER BY ([A-Za-z][A-Za-z0-9_]*) (ASC|DESC))? LIMIT (\d+)\)$/.exec(q);
  if (!match) return `not the expected SOSL shape: ${q}`;
  const terms = match[1]!.split(' OR ');
  for (const term of terms) {
    // Outside an escape, no reserved character may appear.
    if (/(^|[^\\])[?&|!{}[\]()^~*:"'+-]/.test(term)) return `unescaped SOSL reserved character in term ${term}`;
    if (term.replace(/\\./g, '').length < 2) return `term too short: ${term}`;
  }
  const fields = match[3]!.split(', ');
  if (fields.some((f) => !/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$/.test(f))) return `bad field list ${match[3]}`;
  if (new Set(fields.map((f) => f.toLowerCase())).size !== fields.length) return `duplicate field in ${match[3]}`;
  const orderBy = match[4] ? { field: match[4], descending: match[5] === 'DESC' } : undefined;
  return { terms: terms.map((t) => t.replace(/\\(.)/g, '$1')), object: match[2]!, fields, ...(orderBy ? { orderBy } : {}), limit: Number(match[6]) };
}
