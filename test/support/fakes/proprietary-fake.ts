/**
 * A fake in-house CRM, the kind the Proprietary CRM connectors are configured for. It offers
 * three lookup styles and one of six authentication schemes, each checked exactly:
 * - GET  /api/v1/contacts?phone={e164}&fields=...  -> {"data":[{...}],"meta":{"total":n}}
 *   (matches stored numbers that END with the phone's last 7 digits: a loose search, so false
 *   positives come back for the connector's re-check)
 * - POST /api/v1/search {"query":{"phone":"..."},"fields":["..."]} -> {"records":[{"id","fields":{...}}]}
 * - GET  /api/v1/accounts/{e164}  -> the record, or 404 {"error":"not found"}
 * - POST /oauth/token (form) for the OAuth2 schemes.
 * Anything not as documented gets a 400 naming the problem and lands in `violations`.
 */
import { randomUUID } from 'node:crypto';
import type { FakeHttpsServer, FakeReply, RecordedRequest } from '../fake-https';
import { bearerToken, isFormPost } from './request-checks';
import { VendorFake } from './vendor-fake';

export type FakeAuth =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | { type: 'api_key'; header: string; key: string }
  | { type: 'oauth2'; clientId: string; clientSecret: string; scope?: string; clientAuth: 'body' | 'basic'; users?: Record<string, string>; expiresIn?: number };

export interface InHouseRecord {
  id: string;
  phones: string[];
  fields: Record<string, unknown>;
}

export class ProprietaryFake extends VendorFake {
  readonly tokenRequests: RecordedRequest[] = [];
  readonly dataOverrides: FakeReply[] = [];
  records: InHouseRecord[] = [];
  private readonly tokens = new Set<string>();

  private constructor(server: FakeHttpsServer, public auth: FakeAuth) {
    super(server);
  }

  static start(auth: FakeAuth = { type: 'none' }): Promise<ProprietaryFake> {
    return VendorFake.serve((server) => new ProprietaryFake(server, auth));
  }

  get dataRequests(): RecordedRequest[] {
    return this.server.requests.filter((r) => r.path.startsWith('/api/'));
  }

  revokeTokens(): void {
    this.tokens.clear();
  }

  protected handle(req: RecordedRequest): FakeReply {
    if (req.path === '/oauth/token') return this.token(req);
    if (!req.path.startsWith('/api/v1/')) return { status: 404, headers: { 'content-type': 'text/html' }, body: '<h1>Not Found</h1>' };
    const denied = this.authorize(req);
    if (denied) return denied;
    const override = this.dataOverrides.shift();
    if (override) return override;
    if (req.method === 'GET' && req.path === '/api/v1/contacts') return this.contacts(req);
    if (req.method === 'POST' && req.path === '/api/v1/search') return this.search(req);
    const account = /^\/api\/v1\/accounts\/([^/]+)$/.exec(req.path);
    if (req.method === 'GET' && account) {
      const e164 = decodeURIComponent(account[1] as string);
      if (!/^\+\d{6,15}$/.test(e164)) return this.violation(`account id ${JSON.stringify(e164)} is not an E.164 number`);
      const hit = this.records.find((r) => r.phones.some((p) => p.replace(/[^\d+]/g, '') === e164));
      return hit ? { body: { id: hit.id, ...hit.fields } } : { status: 404, body: { error: 'not found' } };
    }
    return { status: 404, body: { error: `no route ${req.method} ${req.path}` } };
  }

  private authorize(req: RecordedRequest): FakeReply | undefined {
    const auth = this.auth;
    const header = String(req.headers.authorization ?? '');
    const unauthorized: FakeReply = { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: { error: 'unauthorized' } };
    switch (auth.type) {
      case 'none':
        return header === '' ? undefined : this.violation('no Authorization header expected');
      case 'basic':
        return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` ? undefined : unauthorized;
      case 'bearer':
        return header === `Bearer ${auth.token}` ? undefined : unauthorized;
      case 'api_key':
        if (header !== '') return this.violation('API key auth sends no Authorization header');
        return req.headers[auth.header.toLowerCase()] === auth.key ? undefined : unauthorized;
      case 'oauth2': {
        const token = bearerToken(req);
        return token && this.tokens.has(token) ? undefined : unauthorized;
      }
    }
  }

  private token(req: RecordedRequest): FakeReply {
    this.tokenRequests.push(req);
    const auth = this.auth;
    if (auth.type !== 'oauth2') return this.violation('no token endpoint for this scheme');
    if (!isFormPost(req)) return this.violation('token request must be a form POST');
    const form = new URLSearchParams(req.body);
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    if (auth.clientAuth === 'basic') {
      if (clientId !== null || clientSecret !== null) return this.violation('client credentials must be in the Basic header, not the body');
      const decoded = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
      [clientId, clientSecret] = decoded.map(decodeURIComponent) as [string, string];
    }
    if (clientId !== auth.clientId || clientSecret !== auth.clientSecret) return { status: 401, body: { error: 'invalid_client' } };
    if ((form.get('scope') ?? undefined) !== auth.scope) return this.violation(`scope ${form.get('scope')} != ${auth.scope}`);
    const grant = form.get('grant_type');
    if (grant === 'password') {
      const user = form.get('username') ?? '';
      if (!auth.users || auth.users[user] !== form.get('password')) return { status: 400, body: { error: 'invalid_grant' } };
    } else if (grant !== 'client_credentials' || auth.users) {
      return this.violation(`unexpected grant_type ${grant}`);
    }
    const token = randomUUID();
    this.tokens.add(token);
    return { body: { access_token: token, token_type: 'Bearer', ...(auth.expiresIn !== undefined ? { expires_in: auth.expiresIn } : {}) } };
  }

  private matching(phone: string): InHouseRecord[] {
    const tail = phone.replace(/\D/g, '').slice(-7);
    return tail.length < 7 ? [] : this.records.filter((r) => r.phones.some((p) => p.replace(/\D/g, '').endsWith(tail)));
  }

  private contacts(req: RecordedRequest): FakeReply {
    const phone = req.query.get('phone');
    if (phone === null || !/^\+\d{6,15}$/.test(phone)) return this.violation(`phone must be an E.164 number, got ${JSON.stringify(phone)}`);
    const fields = (req.query.get('fields') ?? '').split(',').filter((f) => f !== '');
    const hits = this.matching(phone);
    return { body: { data: hits.map((r) => ({ id: r.id, phones: r.phones, ...Object.fromEntries(Object.entries(r.fields).filter(([k]) => fields.length === 0 || fields.includes(k))) })), meta: { total: hits.length } } };
  }

  private search(req: RecordedRequest): FakeReply {
    if (req.headers['content-type'] !== 'application/json') return this.violation('search body must be JSON');
    let body: { query?: { phone?: unknown; typed?: unknown }; fields?: unknown };
    try {
      body = JSON.parse(req.body) as typeof body;
    } catch {
      return this.violation('search body is not JSON');
    }
    if (typeof body.query?.phone !== 'string' || !Array.isArray(body.fields)) return this.violation('search body must be {"query":{"phone":"..."},"fields":[...]}');
    return { body: { records: this.matching(body.query.phone).map((r) => ({ id: r.id, fields: { phone: r.phones[0], ...r.fields } })) } };
  }

  private violation(message: string): FakeReply {
    this.violations.push(message);
    return { status: 400, body: { error: `fake: ${message}` } };
  }
}
