/**
 * A fake Bullhorn: loginInfo, the headless OAuth authorize (302 + code) and the browser one (the
 * consent page of "Connect", redirect_uri and state), the token endpoint (authorization_code and
 * single-use refresh_token grants: a refresh token presented again is refused and counted in
 * `counts.refreshReuse`), REST login (BhRestTokens that expire after `sessionTtlMs` when set),
 * FastFind, entity reads and meta, all on one HTTPS server. Requests are checked as rest-api-docs
 * describes them; anything else is answered 400 and written to `violations`, which each test
 * expects to stay empty. FastFind matches loosely (last 7 digits), as a substring search would,
 * so re-checks are tested.
 */
import type { FakeHttpsServer, FakeReply, RecordedRequest } from '../fake-https';
import { ConsentPages, DECISION_PATH } from './consent-page';
import { VendorFake } from './vendor-fake';

export type BullhornRecord = { id: number; dateLastModified?: number } & Record<string, unknown>;

const PHONE_FIELDS: Record<string, string[]> = {
  Candidate: ['phone', 'phone2', 'phone3', 'mobile'],
  ClientContact: ['phone', 'phone2', 'phone3', 'mobile'],
  Lead: ['phone', 'phone2', 'phone3', 'mobile'],
  ClientCorporation: ['phone', 'billingPhone'],
};
const CORP = 'e999';

export class BullhornFake extends VendorFake {
  clientId = 'client-123';
  clientSecret = 'client-secret-xyz';
  username = 'api.user';
  password = 'p@ss word';
  records: Record<string, BullhornRecord[]> = { Candidate: [], ClientContact: [], ClientCorporation: [], Lead: [] };
  /** CorporateUsers (record owners) by id -> email. */
  readonly corporateUsers = new Map<number, string>();
  readonly counts = { loginInfo: 0, authorize: 0, codeGrants: 0, refreshGrants: 0, refreshReuse: 0, restLogins: 0, finds: 0, entityReads: 0 };
  /** loginInfo on localhost answers 307 to the same server as 127.0.0.1 (the right data centre). */
  wrongDataCentre = false;
  /** How long a BhRestToken works; unset: until expireSessions(). */
  sessionTtlMs?: number;
  readonly consent: ConsentPages;
  private readonly codes = new Set<string>();
  private readonly accessTokens = new Set<string>();
  private readonly refreshTokens = new Set<string>();
  private readonly spentRefreshTokens = new Set<string>();
  /** BhRestToken -> when it stops working. */
  private readonly sessions = new Map<string, number>();
  private serial = 0;

  private constructor(server: FakeHttpsServer) {
    super(server);
    this.consent = new ConsentPages({ vendor: 'Bullhorn', clientId: this.clientId, redirectUris: [], pkce: false, redirectUriRequired: false }, this.ownViolations);
  }

  static start(): Promise<BullhornFake> {
    return VendorFake.serve((server) => new BullhornFake(server));
  }

  /** Registers a redirect URI on the API key (Bullhorn Support does this). */
  registerRedirectUri(uri: string): void {
    this.consent.options.redirectUris.push(uri);
  }

  /** Every BhRestToken issued so far answers 401 from now on. */
  expireSessions(): void {
    this.sessions.clear();
  }

  /** Every refresh token issued so far is refused from now on. */
  revokeRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  protected handle(req: RecordedRequest): FakeReply {
    const { method, path } = req;
    if (method === 'GET' && path === '/rest-services/loginInfo') return this.loginInfo(req);
    if (method === 'GET' && path === '/oauth/authorize') return req.query.has('action') ? this.authorize(req) : this.consent.authorize(req);
    if (method === 'POST' && path === DECISION_PATH) return this.consent.decide(req);
    if (method === 'POST' && path === '/oauth/token') return this.token(req);
    if (method === 'GET' && path === '/rest-services/login') return this.restLogin(req);
    const rest = new RegExp(`^/rest-services/${CORP}/(.*)$`).exec(path);
    if (rest && method === 'GET') return this.authorised(req, () => this.restCall(req, rest[1]!));
    return this.violation(`${method} ${path} is not a Bullhorn endpoint`, 404);
  }

  private loginInfo(req: RecordedRequest): FakeReply {
    this.counts.loginInfo += 1;
    if (!this.exactQuery(req, ['username'])) return this.badRequest();
    if (this.wrongDataCentre && hostOf(req).startsWith('localhost')) {
      return { status: 307, headers: { location: `https://127.0.0.1:${this.server.port}/rest-services/loginInfo?username=${encodeURIComponent(req.query.get('username')!)}` } };
    }
    const base = this.url;
    return { body: { atsUrl: `${base}/ats`, oauthUrl: `${base}/oauth`, restUrl: `${base}/rest-services`, dataCenterId: 2, superClusterId: 2 } };
  }

  private authorize(req: RecordedRequest): FakeReply {
    this.counts.authorize += 1;
    if (!this.exactQuery(req, ['client_id', 'response_type', 'action', 'username', 'password'])) return this.badRequest();
    const q = req.query;
    if (q.get('response_type') !== 'code' || q.get('action') !== 'Login') return this.violation('authorize needs response_type=code and action=Login');
    if (q.get('client_id') !== this.clientId) return { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body><h1>Invalid Client Id</h1></body></html>' };
    if (q.get('username') !== this.username || q.get('password') !== this.password) {
      return { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><form><p class="error">Invalid username or password.</p></form></html>' };
    }
    const code = `${++this.serial}_8090191_44:0e8b9d3c-f2ab`;
    this.codes.add(code);
    return { status: 302, headers: { location: `https://www.bullhorn.com/?code=${encodeURIComponent(code)}&client_id=${this.clientId}` } };
  }

  private token(req: RecordedRequest): FakeReply {
    if (req.body !== '') return this.violation('the token request carries its parameters in the query string, with an empty body');
    const grant = req.query.get('grant_type');
    const keys = grant === 'refresh_token' ? ['grant_type', 'refresh_token', 'client_id', 'client_secret']
      : ['grant_type', 'code', 'client_id', 'client_secret', ...(req.query.has('redirect_uri') ? ['redirect_uri'] : [])];
    if (!this.exactQuery(req, keys)) return this.badRequest();
    if (req.query.get('client_id') !== this.clientId || req.query.get('client_secret') !== this.clientSecret) return { status: 401, body: { error: 'invalid_client', error_description: 'Invalid client credentials' } };
    if (grant === 'authorization_code') {
      this.counts.codeGrants += 1;
      const code = req.query.get('code')!;
      if (!this.codes.delete(code)) {
        // A code of the browser flow (Connect): the same redirect_uri as its consent request.
        const redeemed = this.consent.redeem(code, { clientId: req.query.get('client_id')!, ...(req.query.has('redirect_uri') ? { redirectUri: req.query.get('redirect_uri')! } : {}) });
        if ('error' in redeemed) return { status: 400, body: { error: redeemed.error, error_description: redeemed.error_description } };
      }
    } else if (grant === 'refresh_token') {
      this.counts.refreshGrants += 1;
      // Single use: a refresh token is gone once spent.
      const presented = req.query.get('refresh_token')!;
      if (!this.refreshTokens.delete(presented)) {
        if (this.spentRefreshTokens.has(presented)) this.counts.refreshReuse += 1;
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid refresh token' } };
      }
      this.spentRefreshTokens.add(presented);
    } else {
      return this.violation(`unknown grant_type ${grant}`);
    }
    const access = `access-${++this.serial}`;
    const refresh = `refresh-${this.serial}`;
    this.accessTokens.add(access);
    this.refreshTokens.add(refresh);
    return { body: { access_token: access, token_type: 'Bearer', expires_in: 600, refresh_token: refresh } };
  }

  private restLogin(req: RecordedRequest): FakeReply {
    this.counts.restLogins += 1;
    if (!this.exactQuery(req, ['version', 'access_token'])) return this.badRequest();
    if (req.query.get('version') !== '*') return this.violation('login wants version=*');
    if (!this.accessTokens.delete(req.query.get('access_token')!)) return { status: 401, body: { errorMessage: 'Invalid or expired OAuth access token.' } };
    const token = `bh-${++this.serial}`;
    this.sessions.set(token, this.sessionTtlMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + this.sessionTtlMs);
    return { body: { BhRestToken: token, restUrl: `${this.url}/rest-services/${CORP}/` } };
  }

  private authorised(req: RecordedRequest, next: () => FakeReply): FakeReply {
    const token = req.headers.bhresttoken;
    if (typeof token !== 'string') return this.violation('the BhRestToken header is missing', 412);
    if (!((this.sessions.get(token) ?? 0) > Date.now())) return { status: 401, body: { errorMessage: 'Bad \'BhRestToken\' or timed-out.', errorCode: 401 } };
    return next();
  }

  private restCall(req: RecordedRequest, rest: string): FakeReply {
    if (rest === 'find') return this.find(req);
    if (rest === 'meta') return { body: Object.keys(this.records).concat(['Appointment', 'JobOrder']).map((entity) => ({ entity, metaUrl: `${this.url}/rest-services/${CORP}/meta/${entity}?fields=*` })) };
    const meta = /^meta\/([A-Za-z]+)$/.exec(rest);
    if (meta) return this.meta(req, meta[1]!);
    const user = /^entity\/CorporateUser\/([0-9]+)$/.exec(rest);
    if (user) return this.corporateUser(req, Number(user[1]));
    const entity = /^entity\/([A-Za-z]+)\/([0-9,]+)$/.exec(rest);
    if (entity) return this.entity(req, entity[1]!, entity[2]!.split(',').map(Number));
    return this.violation(`GET ${rest} is not a REST call the connector should make`, 404);
  }

  private find(req: RecordedRequest): FakeReply {
    this.counts.finds += 1;
    if (!this.exactQuery(req, ['query', 'countPerEntity'])) return this.badRequest();
    const query = req.query.get('query')!;
    // FastFind reads bare digits as an entity id; only its phone patterns search phones.
    if (!/^\+\d{7,15}$/.test(query) && !/^\d{3}-\d{3}-\d{4}$/.test(query)) return this.violation(`find query "${query}" is not one of FastFind's phone patterns`);
    const tail = query.replace(/\D/g, '').slice(-7);
    const per = Number(req.query.get('countPerEntity'));
    const data: unknown[] = [];
    for (const [entityType, records] of Object.entries(this.records)) {
      const hits = records.filter((r) => (PHONE_FIELDS[entityType] ?? []).some((f) => typeof r[f] === 'string' && (r[f] as string).replace(/\D/g, '').endsWith(tail)));
      for (const r of hits.slice(0, per)) data.push({ entityType, entityId: r.id, title: String(r.firstName ?? r.name ?? ''), byLine: '', location: '' });
    }
    return { body: { data } };
  }

  /** entity/CorporateUser/{id}?fields=id,email: the owner's e-mail, or 404 for an id no user has. */
  private corporateUser(req: RecordedRequest, id: number): FakeReply {
    if (!this.exactQuery(req, ['fields']) || req.query.get('fields') !== 'id,email') return this.violation('a CorporateUser is read with fields=id,email');
    const email = this.corporateUsers.get(id);
    if (email === undefined) return { status: 404, body: { errorMessage: `Entity CorporateUser ${id} not found`, errorCode: 404 } };
    return { body: { data: { id, email } } };
  }

  private entity(req: RecordedRequest, entity: string, ids: number[]): FakeReply {
    this.counts.entityReads += 1;
    if (!this.exactQuery(req, ['fields'])) return this.badRequest();
    const records = (this.records[entity] ?? []).filter((r) => ids.includes(r.id));
    if (records.length === 0) return { status: 404, body: { errorMessage: `Entity ${entity} ${ids.join(',')} not found`, errorCode: 404 } };
    const fields = req.query.get('fields')!.split(',');
    const known = new Set(['id', 'dateLastModified', ...(PHONE_FIELDS[entity] ?? []), ...this.records[entity]!.flatMap((r) => Object.keys(r))]);
    const selected: Array<Record<string, unknown>> = [];
    for (const record of records) {
      const out: Record<string, unknown> = { id: record.id };
      for (const field of fields) {
        const assoc = /^([A-Za-z]+)\(([A-Za-z]+)\)$/.exec(field);
        const name = assoc ? assoc[1]! : field;
        if (!known.has(name)) return { status: 404, body: { errorMessage: `Invalid field '${name}' on ${entity}`, errorCode: 404 } };
        const value = record[name];
        out[name] = assoc && value && typeof value === 'object' ? { id: (value as Record<string, unknown>).id, [assoc[2]!]: (value as Record<string, unknown>)[assoc[2]!] } : value ?? null;
      }
      selected.push(out);
    }
    return { body: { data: ids.length === 1 ? selected[0] : selected } };
  }

  private meta(req: RecordedRequest, entity: string): FakeReply {
    if (!this.exactQuery(req, ['fields']) || req.query.get('fields') !== '*') return this.violation('meta/{Entity} is read with fields=*');
    if (!(entity in this.records)) return { status: 404, body: { errorMessage: `Unknown entity ${entity}` } };
    return {
      body: {
        entity, entityMetaUrl: `${this.url}/rest-services/${CORP}/meta/${entity}?fields=*`, label: entity,
        fields: [
          { name: 'id', type: 'ID', dataType: 'Integer' },
          { name: 'status', type: 'SCALAR', dataType: 'String', label: 'Status' },
          { name: 'phone', type: 'SCALAR', dataType: 'String', dataSpecialization: 'PHONE', label: 'Phone' },
        ],
      },
    };
  }

  private exactQuery(req: RecordedRequest, keys: string[]): boolean {
    const sent = [...req.query.keys()];
    const missing = keys.filter((k) => !req.query.get(k));
    const extra = sent.filter((k) => !keys.includes(k));
    const repeated = sent.length !== new Set(sent).size;
    if (missing.length === 0 && extra.length === 0 && !repeated) return true;
    this.violations.push(`${req.method} ${req.path}: query must be exactly ${keys.join(', ')} (missing: ${missing.join(', ') || '-'}; unexpected: ${extra.join(', ') || '-'})`);
    return false;
  }

  private badRequest(): FakeReply {
    return { status: 400, body: { errorMessage: this.violations.at(-1) ?? 'bad request' } };
  }

  private violation(message: string, status = 400): FakeReply {
    this.violations.push(message);
    return { status, body: { errorMessage: message } };
  }
}

function hostOf(req: RecordedRequest): string {
  return String(req.headers.host ?? '');
}
