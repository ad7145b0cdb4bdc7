/**
 * Fake Dynamics servers.
 * - Dynamics2015Fake: IIS with Windows authentication in front of the OData v2 Organization
 *   Data Service. Every connection must complete a real NTLM handshake (Type 1 -> 401 Type 2 ->
 *   Type 3 on the SAME connection, NTLMv2 proof checked against the user's password) before it
 *   is served; then it stays authenticated. $filter (substringof ... or ...), $select, $orderby
 *   and $top are evaluated against in-memory records.
 * - Dynamics365Fake: Entra ID (the token endpoint: client credentials, authorization code with
 *   PKCE, refresh token; the consent page `/{tenant}/oauth2/v2.0/authorize`) and the Web API v9.2
 *   (contains ... or ..., formatted-value annotations on request, metadata endpoints).
 * Requests that are not as documented get a 4xx naming what was wrong and land in `violations`.
 */
import { randomUUID } from 'node:crypto';
import type { FakeHttpsServer, FakeReply, RecordedRequest } from '../fake-https';
import { ConsentPages, DECISION_PATH } from './consent-page';
import { bearerToken, formProblem } from './request-checks';
import { VendorFake } from './vendor-fake';
import { createType2, decodeNtlmHeader, parseType1, parseType3, verifyNtlmV2, type Challenge } from './ntlm-server';

const FORMATTED = 'OData.Community.Display.V1.FormattedValue';
const V2_PHONES: Record<string, string[]> = { Contact: ['Telephone1', 'Telephone2', 'Telephone3', 'MobilePhone'], Account: ['Telephone1', 'Telephone2', 'Telephone3'], Lead: ['Telephone1', 'Telephone2', 'Telephone3', 'MobilePhone'] };

export type ODataRecord = Record<string, unknown>;

/** Splits `a or b or c` and reads each clause with `clause`; a string is what was wrong. */
function parseOrFilter(filter: string | null, clause: RegExp): Array<{ column: string; term: string }> | string {
  if (!filter) return '$filter is missing';
  const out: Array<{ column: string; term: string }> = [];
  // Split on ' or ' outside quotes.
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < filter.length; i += 1) {
    const ch = filter[i] as string;
    if (ch === "'") quoted = !quoted;
    if (!quoted && filter.startsWith(' or ', i)) {
      parts.push(current);
      current = '';
      i += 3;
      continue;
    }
    current += ch;
  }
  parts.push(current);
  for (const part of parts) {
    const match = clause.exec(part);
    if (!match?.groups) return `clause ${JSON.stringify(part)} is not of the documented form`;
    const term = (match.groups.term as string).replace(/''/g, "'");
    if (!/^[0-9 .()-]+$/.test(term)) return `search term ${JSON.stringify(term)} holds characters a phone search should not send`;
    out.push({ column: match.groups.column as string, term });
  }
  return out;
}

export class Dynamics2015Fake extends VendorFake {
  /** Type 1 messages received: one per NTLM handshake. */
  handshakes = 0;
  /** Requests served after authentication (each lookup's query counts once). */
  served = 0;
  readonly recordOverrides: FakeReply[] = [];
  records: Record<string, ODataRecord[]> = {};
  /** System users by GUID (lower case) -> InternalEMailAddress (record owners). */
  readonly users = new Map<string, string | null>();
  private readonly challenges = new Map<number, Challenge>();
  private authenticated = new Map<number, string>();

  private constructor(server: FakeHttpsServer, private readonly accounts: Record<string, string>, readonly org: string) {
    super(server);
  }

  /** `accounts`: 'DOMAIN\\user' -> password. */
  static start(accounts: Record<string, string> = { 'CONTOSO\\crm-routing': 'Pa55word!' }, org = 'Contoso'): Promise<Dynamics2015Fake> {
    return VendorFake.serve((server) => new Dynamics2015Fake(server, accounts, org));
  }

  get orgUrl(): string {
    return `${this.server.url}/${this.org}`;
  }

  /** Connections that carried a served request. */
  get connectionsUsed(): number {
    return new Set(this.server.requests.map((r) => r.connectionId)).size;
  }

  /** The server forgets every authenticated connection (an app-pool recycle, say). */
  forgetConnections(): void {
    this.authenticated = new Map();
  }

  protected handle(req: RecordedRequest): FakeReply {
    const auth = this.authenticate(req);
    if (auth) return auth;
    this.served += 1;
    const prefix = `/${this.org}/XRMServices/2011/OrganizationData.svc/`;
    if (!req.path.startsWith(prefix)) return { status: 404, headers: { 'content-type': 'text/html' }, body: '<html>404 - File or directory not found.</html>' };
    if (!String(req.headers.accept ?? '').includes('application/json')) return this.violation(415, 'Accept: application/json is required (otherwise the service answers Atom XML)');
    if (req.method !== 'GET') return this.violation(405, `expected GET, got ${req.method}`);
    const rest = req.path.slice(prefix.length);
    if (rest === '') return { body: { d: { EntitySets: ['AccountSet', 'ContactSet', 'LeadSet', 'new_CustomerSet'] } } };
    const user = /^SystemUserSet\(guid'([0-9a-f-]{36})'\)$/.exec(rest);
    if (user) {
      if (req.query.get('$select') !== 'InternalEMailAddress' || [...req.query.keys()].length !== 1) return this.violation(400, 'a system user is read with $select=InternalEMailAddress only');
      if (!this.users.has(user[1]!)) return this.odataError(404, `SystemUser With Id = ${user[1]} Does Not Exist`);
      return { body: { d: { __metadata: { uri: `${this.orgUrl}/XRMServices/2011/OrganizationData.svc/SystemUserSet(guid'${user[1]}')`, type: 'Microsoft.Crm.Sdk.Data.Services.SystemUser' }, InternalEMailAddress: this.users.get(user[1]!) } } };
    }
    const set = /^([A-Za-z_][A-Za-z0-9_]*)Set$/.exec(rest);
    if (!set) return this.odataError(404, `Resource not found for the segment '${rest}'.`);
    const override = this.recordOverrides.shift();
    if (override) return override;
    return this.query(set[1] as string, req);
  }

  /** Undefined when the connection is (now) authenticated and the request may be served. */
  private authenticate(req: RecordedRequest): FakeReply | undefined {
    const message = decodeNtlmHeader(req.headers.authorization as string | undefined);
    if (req.headers.authorization !== undefined && !message) return this.violation(400, `Authorization is not an NTLM message: ${String(req.headers.authorization).slice(0, 30)}`);
    if (!message) return this.authenticated.has(req.connectionId) ? undefined : this.unauthorized();
    if (message.type === 1) {
      this.handshakes += 1;
      const type1 = parseType1(message.buf);
      if (!(type1.flags & 0x200)) return this.violation(400, 'Type 1 does not negotiate NTLM');
      const challenge = createType2('CONTOSO', 'CRM01');
      this.challenges.set(req.connectionId, challenge);
      return { status: 401, headers: { 'www-authenticate': challenge.header, 'content-type': 'text/html' }, body: '401 - Unauthorized' };
    }
    if (message.type === 3) {
      const challenge = this.challenges.get(req.connectionId);
      this.challenges.delete(req.connectionId);
      if (!challenge) return this.violation(400, 'Type 3 arrived on a connection that was never challenged (the handshake must stay on one connection)');
      const type3 = parseType3(message.buf);
      const login = `${type3.domain}\\${type3.user}`;
      const password = Object.entries(this.accounts).find(([name]) => name.toUpperCase() === login.toUpperCase())?.[1];
      const problem = password === undefined ? `unknown user ${login}` : verifyNtlmV2(type3, challenge, password);
      if (problem) return this.unauthorized();
      this.authenticated.set(req.connectionId, login);
      return undefined;
    }
    return this.violation(400, `unexpected NTLM message type ${message.type}`);
  }

  private unauthorized(): FakeReply {
    return { status: 401, headers: { 'www-authenticate': 'Negotiate, NTLM', 'content-type': 'text/html' }, body: '401 - Unauthorized: Access is denied due to invalid credentials.' };
  }

  private query(entity: string, req: RecordedRequest): FakeReply {
    const records = this.records[entity];
    if (!records) return this.odataError(404, `Resource not found for the segment '${entity}Set'.`);
    const top = req.query.get('$top');
    const select = req.query.get('$select');
    if (!req.query.has('$filter')) {
      // listFields: one whole record.
      if (top !== '1' || select !== null) return this.violation(400, 'a query without $filter must be $top=1 with no $select');
      return { body: { d: { results: records.slice(0, 1).map((r) => this.withMetadata(entity, r, r)) } } };
    }
    if (top !== '5') return this.violation(400, `$top must be 5, got ${String(top)}`);
    if (req.query.get('$orderby') !== 'ModifiedOn desc') return this.violation(400, '$orderby must be ModifiedOn desc');
    const phones = V2_PHONES[entity] ?? [];
    const clauses = parseOrFilter(req.query.get('$filter'), /^substringof\('(?<term>(?:[^']|'')*)',(?<column>[A-Za-z0-9_]+)\)$/);
    if (typeof clauses === 'string') return this.violation(400, clauses);
    for (const c of clauses) if (!phones.includes(c.column)) return this.violation(400, `${c.column} is not a phone column of ${entity}`);
    const columns = (select ?? '').split(',');
    const known = new Set(['ModifiedOn', ...phones, ...Object.keys(records[0] ?? {})]);
    const unknown = columns.find((c) => !known.has(c));
    if (unknown) return this.odataError(400, `No property '${unknown}' exists in type 'Microsoft.Crm.Sdk.Data.Services.${entity}' at position 0.`);
    const hits = records
      .filter((r) => clauses.some(({ column, term }) => typeof r[column] === 'string' && (r[column] as string).includes(term)))
      .sort((a, b) => Number(/\d+/.exec(String(b.ModifiedOn))?.[0]) - Number(/\d+/.exec(String(a.ModifiedOn))?.[0]))
      .slice(0, 5)
      .map((r) => this.withMetadata(entity, r, Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))));
    return { body: { d: { results: hits } } };
  }

  private withMetadata(entity: string, stored: ODataRecord, sent: ODataRecord): ODataRecord {
    const id = String(stored[`${entity}Id`] ?? randomUUID());
    return { __metadata: { uri: `${this.orgUrl}/XRMServices/2011/OrganizationData.svc/${entity}Set(guid'${id}')`, type: `Microsoft.Crm.Sdk.Data.Services.${entity}` }, ...sent };
  }

  private odataError(status: number, message: string): FakeReply {
    return { status, body: { error: { code: '', message: { lang: 'en-US', value: message } } } };
  }

  private violation(status: number, message: string): FakeReply {
    this.violations.push(message);
    return this.odataError(status, `fake: ${message}`);
  }
}

export interface Dynamics365FakeOptions {
  tenant?: string;
  clientId?: string;
  clientSecret?: string;
  expiresIn?: number;
}

export class Dynamics365Fake extends VendorFake {
  readonly tokenRequests: RecordedRequest[] = [];
  readonly dataOverrides: FakeReply[] = [];
  /** entity set -> records; a record's `formatted` map holds its formatted values. */
  records: Record<string, ODataRecord[]> = {};
  attributes: Array<{ LogicalName: string; AttributeType: string; AttributeOf: string | null }> = [];
  /** System users by GUID (lower case) -> internalemailaddress (record owners). */
  readonly users = new Map<string, string | null>();
  readonly consent: ConsentPages;
  readonly counts = { codeGrants: 0, refreshGrants: 0 };
  /** Who signs in on the consent page (the ID token's preferred_username). */
  user = 'ann@contoso.onmicrosoft.com';
  private readonly tokens = new Set<string>();
  private readonly refreshTokens = new Set<string>();
  private readonly tenant: string;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly expiresIn: number;

  private constructor(server: FakeHttpsServer, options: Dynamics365FakeOptions) {
    super(server);
    this.tenant = options.tenant ?? 'contoso.onmicrosoft.com';
    this.clientId = options.clientId ?? '11111111-2222-3333-4444-555555555555';
    this.clientSecret = options.clientSecret ?? 'app~secret';
    this.expiresIn = options.expiresIn ?? 3599;
    this.consent = new ConsentPages({ vendor: 'Microsoft', clientId: this.clientId, redirectUris: [], pkce: true }, this.ownViolations);
  }

  registerRedirectUri(uri: string): void {
    this.consent.options.redirectUris.push(uri);
  }

  static start(options: Dynamics365FakeOptions = {}): Promise<Dynamics365Fake> {
    return VendorFake.serve((server) => new Dynamics365Fake(server, options));
  }

  get dataRequests(): RecordedRequest[] {
    return this.server.requests.filter((r) => r.path.startsWith('/api/data/v9.2/'));
  }

  revokeTokens(): void {
    this.tokens.clear();
  }

  protected handle(req: RecordedRequest): FakeReply {
    if (req.path.endsWith('/oauth2/v2.0/token')) return this.token(req);
    if (req.path === `/${this.tenant}/oauth2/v2.0/authorize`) return this.authorize(req);
    if (req.path === DECISION_PATH && req.method === 'POST') return this.consent.decide(req);
    if (!req.path.startsWith('/api/data/v9.2/')) return { status: 404, body: '' };
    const token = bearerToken(req);
    if (!token || !this.tokens.has(token)) return { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: { error: { code: '', message: 'Bearer token expired or invalid.' } } };
    for (const [name, value] of [['odata-maxversion', '4.0'], ['odata-version', '4.0']]) {
      if (req.headers[name as string] !== value) return this.violation(400, `${name}: ${value} is required`);
    }
    if (!String(req.headers.accept ?? '').includes('application/json')) return this.violation(400, 'Accept: application/json is required');
    const override = this.dataOverrides.shift();
    if (override) return override;
    const rest = req.path.slice('/api/data/v9.2/'.length);
    if (rest === 'EntityDefinitions') {
      if (req.query.get('$select') !== 'LogicalName,EntitySetName') return this.violation(400, 'EntityDefinitions needs $select=LogicalName,EntitySetName');
      return { body: { value: [{ LogicalName: 'contact', EntitySetName: 'contacts' }, { LogicalName: 'account', EntitySetName: 'accounts' }, { LogicalName: 'activityparty', EntitySetName: null }] } };
    }
    const user = /^systemusers\(([0-9a-f-]{36})\)$/.exec(rest);
    if (user) {
      if (req.query.get('$select') !== 'internalemailaddress' || [...req.query.keys()].length !== 1) return this.violation(400, 'a system user is read with $select=internalemailaddress only');
      if (!this.users.has(user[1]!)) return { status: 404, body: { error: { code: '0x80040217', message: `systemuser With Id = ${user[1]} Does Not Exist` } } };
      return { body: { '@odata.context': `${this.url}/api/data/v9.2/$metadata#systemusers(internalemailaddress)/$entity`, '@odata.etag': 'W/"1"', internalemailaddress: this.users.get(user[1]!), systemuserid: user[1] } };
    }
    const attrs = /^EntityDefinitions\(LogicalName='([a-z_0-9]+)'\)\/Attributes$/.exec(rest);
    if (attrs) {
      if (req.query.get('$select') !== 'LogicalName,AttributeType,AttributeOf') return this.violation(400, 'Attributes needs $select=LogicalName,AttributeType,AttributeOf');
      return { body: { '@odata.context': 'x', value: this.attributes.map((a) => ({ '@odata.type': '#Microsoft.Dynamics.CRM.AttributeMetadata', ...a, MetadataId: randomUUID() })) } };
    }
    const entity = /^EntityDefinitions\(LogicalName='([a-z_0-9]+)'\)$/.exec(rest);
    if (entity) {
      if (req.query.get('$select') !== 'EntitySetName,PrimaryIdAttribute') return this.violation(400, 'entity definition needs $select=EntitySetName,PrimaryIdAttribute');
      if (entity[1] === 'new_customer') return { body: { EntitySetName: 'new_customers', PrimaryIdAttribute: 'new_customerid', MetadataId: randomUUID() } };
      return { status: 404, body: { error: { code: '0x80040217', message: `Could not find entity ${entity[1]}` } } };
    }
    return this.query(rest, req);
  }

  /** The delegated scope Dataverse takes for this organization, with a refresh token. */
  private get delegatedScope(): string {
    return `${this.url}/user_impersonation offline_access`;
  }

  private authorize(req: RecordedRequest): FakeReply {
    if (req.query.get('response_mode') !== 'query') return this.violation(400, 'response_mode=query is expected (the code in the callback\'s query string)');
    return this.consent.authorize(req, (scope) => (scope === `${this.delegatedScope} openid profile` ? undefined : `scope must be "${this.delegatedScope} openid profile" (got "${scope}")`));
  }

  private token(req: RecordedRequest): FakeReply {
    this.tokenRequests.push(req);
    if (req.method !== 'POST') return this.violation(400, 'token request must be a form POST');
    const grant = new URLSearchParams(req.body).get('grant_type');
    const fields = grant === 'authorization_code' ? ['grant_type', 'client_id', 'client_secret', 'scope', 'code', 'redirect_uri', 'code_verifier']
      : grant === 'refresh_token' ? ['grant_type', 'client_id', 'client_secret', 'scope', 'refresh_token']
      : ['grant_type', 'client_id', 'client_secret', 'scope'];
    const problem = formProblem(req, fields, grant === 'authorization_code' || grant === 'refresh_token' ? {} : { grant_type: 'client_credentials' });
    if (problem) return this.violation(400, problem);
    const tenant = req.path.split('/')[1];
    if (tenant !== this.tenant) return { status: 400, body: { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID.\r\nTrace ID: abc\r\nTimestamp: 2024-01-01 00:00:00Z` } };
    const form = new URLSearchParams(req.body);
    const scope = grant === 'client_credentials' ? `${this.url}/.default` : grant === 'authorization_code' ? `${this.delegatedScope} openid profile` : this.delegatedScope;
    if (form.get('scope') !== scope) return { status: 400, body: { error: 'invalid_scope', error_description: `AADSTS500011: The resource principal named ${form.get('scope')} was not found in the tenant.` } };
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: abc' } };
    }
    const token = randomUUID();
    this.tokens.add(token);
    const answer = { token_type: 'Bearer', expires_in: this.expiresIn, ext_expires_in: this.expiresIn, access_token: token };
    if (grant === 'client_credentials') return { body: answer };
    if (grant === 'authorization_code') {
      this.counts.codeGrants += 1;
      const redeemed = this.consent.redeem(form.get('code')!, { clientId: form.get('client_id')!, redirectUri: form.get('redirect_uri')!, codeVerifier: form.get('code_verifier')! });
      if ('error' in redeemed) return { status: 400, body: { error: redeemed.error, error_description: `AADSTS70008: ${redeemed.error_description}\r\nTrace ID: abc` } };
      const idToken = [{ alg: 'RS256', typ: 'JWT' }, { preferred_username: this.user, name: 'Ann Smith', tid: this.tenant }].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') + '.c2ln';
      return { body: { ...answer, scope: `${this.url}/user_impersonation`, refresh_token: this.newRefreshToken(), id_token: idToken } };
    }
    this.counts.refreshGrants += 1;
    // Microsoft does not revoke a refresh token when it is used; it answers a fresh one.
    if (!this.refreshTokens.has(form.get('refresh_token')!)) return { status: 400, body: { error: 'invalid_grant', error_description: 'AADSTS700082: The refresh token has expired due to inactivity.\r\nTrace ID: abc' } };
    return { body: { ...answer, scope: `${this.url}/user_impersonation`, refresh_token: this.newRefreshToken() } };
  }

  private newRefreshToken(): string {
    const refresh = `0.A${randomUUID()}`;
    this.refreshTokens.add(refresh);
    return refresh;
  }

  private query(set: string, req: RecordedRequest): FakeReply {
    const records = this.records[set];
    if (!records) return { status: 404, body: { error: { code: '0x8006088a', message: `Resource not found for the segment '${set}'.` } } };
    if (req.query.get('$top') !== '5') return this.violation(400, '$top must be 5');
    if (req.query.get('$orderby') !== 'modifiedon desc') return this.violation(400, '$orderby must be modifiedon desc');
    const clauses = parseOrFilter(req.query.get('$filter'), /^contains\((?<column>[a-z0-9_]+),'(?<term>(?:[^']|'')*)'\)$/);
    if (typeof clauses === 'string') return this.violation(400, clauses);
    const select = (req.query.get('$select') ?? '').split(',');
    const known = new Set(Object.keys(records[0] ?? {}));
    const unknown = select.find((c) => !known.has(c) && !/^telephone\d|mobilephone$/.test(c));
    if (unknown) return { status: 400, body: { error: { code: '0x80060888', message: `Could not find a property named '${unknown}' on type 'Microsoft.Dynamics.CRM.${set.replace(/s$/, '')}'.` } } };
    const annotate = String(req.headers.prefer ?? '').includes(`odata.include-annotations="${FORMATTED}"`);
    const value = records
      .filter((r) => clauses.some(({ column, term }) => typeof r[column] === 'string' && (r[column] as string).includes(term)))
      .sort((a, b) => String(b.modifiedon).localeCompare(String(a.modifiedon)))
      .slice(0, 5)
      .map((r) => {
        const out: ODataRecord = { '@odata.etag': 'W/"1"' };
        const formatted = (r.formatted ?? {}) as Record<string, string>;
        for (const c of select) {
          out[c] = r[c] ?? null;
          if (annotate && formatted[c] !== undefined) out[`${c}@${FORMATTED}`] = formatted[c];
        }
        return out;
      });
    return { body: { '@odata.context': `${this.url}/api/data/v9.2/$metadata#${set}`, value } };
  }

  private violation(status: number, message: string): FakeReply {
    this.violations.push(message);
    return { status, body: { error: { code: 'fake', message } } };
  }
}
