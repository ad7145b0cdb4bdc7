/**
 * A fake Zendesk Support account: search.json (users by phone, with the leading-* form Zendesk
 * documents for callers), organizations/{id}, user_fields and organization_fields (paginated by
 * next_page), users/me; and Zendesk's OAuth as of 2026 (crm-apis.md §9, §13):
 * - `POST /oauth/tokens` with a JSON body: client_credentials (confidential client), the
 *   authorization code (PKCE checked), and refresh_token. Access tokens live 30 minutes unless
 *   `expires_in` (5 minutes to 48 hours) asks otherwise, and really expire on the fake's clock
 *   (`advanceClock`); each refresh answers a new access AND refresh token and deletes the old
 *   pair, so a refresh token presented twice is refused (and counted in `counts.refreshReuse`).
 * - the consent page `/oauth/authorizations/new` (consent-page.ts).
 * - legacy Basic `{email}/token:{api_token}` and a fixed OAuth token.
 * Requests outside the documented shapes are answered 400 and written to `violations`.
 * The phone search matches loosely (digits contained), as a wildcard search would.
 */
import { randomBytes } from 'node:crypto';
import type { FakeHttpsServer, FakeReply, RecordedRequest } from '../fake-https';
import { ConsentPages, DECISION_PATH } from './consent-page';
import { VendorFake } from './vendor-fake';

export type ZendeskUser = { id: number; phone: string | null; updated_at: string; organization_id?: number | null; user_fields?: Record<string, unknown> } & Record<string, unknown>;
export type ZendeskOrganization = { id: number; organization_fields?: Record<string, unknown> } & Record<string, unknown>;

const ACCESS_DEFAULT_S = 1800;
const ACCESS_RANGE_S = [300, 172_800] as const;
const REFRESH_DEFAULT_S = 30 * 86_400;
const REFRESH_RANGE_S = [7 * 86_400, 90 * 86_400] as const;

const GRANT_FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  client_credentials: { required: ['grant_type', 'client_id', 'client_secret'], optional: ['scope', 'expires_in'] },
  authorization_code: { required: ['grant_type', 'code', 'client_id', 'client_secret', 'redirect_uri'], optional: ['scope', 'code_verifier', 'expires_in', 'refresh_token_expires_in'] },
  refresh_token: { required: ['grant_type', 'refresh_token', 'client_id', 'client_secret'], optional: ['scope', 'expires_in', 'refresh_token_expires_in'] },
};

export interface ZendeskTicket {
  id: number;
  /** The Idempotency-Key it was created with. */
  key?: string;
  ticket: Record<string, unknown>;
}

const VOICE_COMMENT_KEYS = ['from', 'to', 'recording_url', 'started_at', 'call_duration', 'answered_by_id', 'transcription_text', 'location'];
const TICKET_KEYS = ['subject', 'requester_id', 'assignee_id', 'external_id', 'tags', 'voice_comment', 'comment', 'status', 'priority', 'type'];

export class ZendeskFake extends VendorFake {
  /** Tickets created (the call log's). */
  readonly tickets: ZendeskTicket[] = [];
  /** Agents and admins the agent search finds (end users are in `users`). */
  agents: Array<{ id: number; email: string; role: 'agent' | 'admin' | 'end-user'; active: boolean }> = [];
  /** How long a ticket create is held before its answer (it is stored at once): a write that times out. */
  createDelayMs = 0;
  private nextId = 5000;
  email = 'agent@acme.test';
  apiToken = 'tok3n/with+chars';
  oauthToken = 'oauth-abc';
  clientId = 'crm_routing_pbx';
  clientSecret = 'zd-client-secret-0123456789';
  users: ZendeskUser[] = [];
  organizations: ZendeskOrganization[] = [];
  userFields = [{ id: 1, key: 'tier', title: 'Support tier', type: 'dropdown', active: true }, { id: 2, key: 'account_no', title: 'Account number', type: 'text', active: true }];
  organizationFields = [{ id: 3, key: 'region_code', title: 'Region code', type: 'text', active: true }];
  readonly counts = { searches: 0, unauthenticated: 0, expiredTokens: 0, clientCredentialGrants: 0, codeGrants: 0, refreshGrants: 0, refreshReuse: 0 };
  readonly consent: ConsentPages;
  /** Milliseconds the fake's clock is ahead of the real one (advanceClock). */
  private clockOffsetMs = 0;
  private readonly accessTokens = new Map<string, number>();
  private readonly refreshTokens = new Map<string, number>();
  private readonly spentRefreshTokens = new Set<string>();

  private constructor(server: FakeHttpsServer) {
    super(server);
    this.consent = new ConsentPages({ vendor: 'Zendesk', clientId: this.clientId, redirectUris: [], pkce: true }, this.ownViolations);
  }

  static start(): Promise<ZendeskFake> {
    return VendorFake.serve((server) => new ZendeskFake(server));
  }

  /** Registers the plugin's redirect URL on the OAuth client. */
  registerRedirectUri(uri: string): void {
    this.consent.options.redirectUris.push(uri);
  }

  /** Moves the fake's clock: tokens issued before expire as they would after that much time. */
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Every access token issued so far answers 401 from now on. */
  revokeAccessTokens(): void {
    this.accessTokens.clear();
  }

  protected handle(req: RecordedRequest): FakeReply {
    if (req.path === '/oauth/tokens') return this.token(req);
    if (req.path === '/oauth/authorizations/new') return this.consent.authorize(req, (scope) => (scope.split(' ').includes('read') ? undefined : `scope "${scope}" does not include read`));
    if (req.path === DECISION_PATH && req.method === 'POST') return this.consent.decide(req);
    if (req.method !== 'GET' && !(req.method === 'POST' && (req.path === '/api/v2/tickets' || req.path === '/api/v2/users'))) return this.violation(`${req.method} ${req.path}: the connector only reads, and creates tickets and end users`, 405);
    if (!this.authenticated(req)) {
      this.counts.unauthenticated += 1;
      return { status: 401, body: { error: "Couldn't authenticate you" } };
    }
    if (req.path === '/api/v2/search.json') return this.search(req);
    if (req.path === '/api/v2/tickets' && req.method === 'POST') return this.createTicket(req);
    if (req.path === '/api/v2/users' && req.method === 'POST') return this.createUser(req);
    if (req.path === '/api/v2/tickets') {
      if ([...req.query.keys()].join(',') !== 'external_id') return this.violation('tickets is listed here by external_id only');
      const tickets = this.tickets.filter((t) => t.ticket.external_id === req.query.get('external_id')).map((t) => ({ id: t.id, ...t.ticket }));
      return { body: { tickets, next_page: null, previous_page: null, count: tickets.length } };
    }
    if (req.path === '/api/v2/users/search') {
      if ([...req.query.keys()].join(',') !== 'query') return this.violation('users/search takes query');
      const q = req.query.get('query')!.toLowerCase();
      const users = this.agents.filter((a) => a.email.toLowerCase() === q).map((a) => ({ ...a, name: `Agent ${a.id}` }));
      return { body: { users, next_page: null, previous_page: null, count: users.length } };
    }
    if (req.path === '/api/v2/users/me.json') return { body: { user: { id: 9001, name: 'Ann Agent', email: this.email, role: 'admin' } } };
    const org = /^\/api\/v2\/organizations\/(\d+)$/.exec(req.path);
    if (org) return this.organization(req, Number(org[1]));
    if (req.path === '/api/v2/user_fields') return this.fieldPage(req, 'user_fields', this.userFields);
    if (req.path === '/api/v2/organization_fields') return this.fieldPage(req, 'organization_fields', this.organizationFields);
    return { status: 404, body: { error: 'InvalidEndpoint', description: 'Not found' } };
  }

  private authenticated(req: RecordedRequest): boolean {
    const header = String(req.headers.authorization ?? '');
    if (header === `Bearer ${this.oauthToken}`) return true;
    const bearer = /^Bearer (\S+)$/.exec(header)?.[1];
    if (bearer !== undefined) {
      const expiresAt = this.accessTokens.get(bearer);
      if (expiresAt !== undefined && expiresAt <= this.now()) this.counts.expiredTokens += 1;
      return expiresAt !== undefined && expiresAt > this.now();
    }
    if (!header.startsWith('Basic ')) return false;
    return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${this.email}/token:${this.apiToken}`;
  }

  private token(req: RecordedRequest): FakeReply {
    if (req.method !== 'POST') return this.violation('/oauth/tokens takes POST');
    if (req.headers['content-type'] !== 'application/json') return this.violation(`/oauth/tokens takes a JSON body (got ${String(req.headers['content-type'])})`);
    if ([...req.query.keys()].length > 0) return this.violation('/oauth/tokens takes its parameters in the body, not the query string');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return this.violation('/oauth/tokens body is not JSON');
    }
    const shape = GRANT_FIELDS[String(body.grant_type)];
    if (!shape) return { status: 400, body: { error: 'unsupported_grant_type', error_description: `grant_type ${String(body.grant_type)} is not supported` } };
    const missing = shape.required.filter((k) => body[k] === undefined || body[k] === '');
    const extra = Object.keys(body).filter((k) => !shape.required.includes(k) && !shape.optional.includes(k));
    if (missing.length > 0 || extra.length > 0) return this.violation(`${String(body.grant_type)}: missing ${missing.join(',') || '-'}, unexpected ${extra.join(',') || '-'}`);
    const accessSeconds = body.expires_in === undefined ? ACCESS_DEFAULT_S : Number(body.expires_in);
    const refreshSeconds = body.refresh_token_expires_in === undefined ? REFRESH_DEFAULT_S : Number(body.refresh_token_expires_in);
    if (!(accessSeconds >= ACCESS_RANGE_S[0] && accessSeconds <= ACCESS_RANGE_S[1])) return { status: 400, body: { error: 'invalid_request', error_description: 'expires_in must be between 300 and 172800 seconds' } };
    if (!(refreshSeconds >= REFRESH_RANGE_S[0] && refreshSeconds <= REFRESH_RANGE_S[1])) return { status: 400, body: { error: 'invalid_request', error_description: 'refresh_token_expires_in must be between 604800 and 7776000 seconds' } };
    if (body.client_id !== this.clientId || body.client_secret !== this.clientSecret) return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.' } };
    if (body.scope !== undefined && !String(body.scope).split(' ').includes('read')) return { status: 400, body: { error: 'invalid_scope', error_description: 'The requested scope is invalid' } };

    switch (body.grant_type) {
      case 'client_credentials':
        this.counts.clientCredentialGrants += 1;
        return { body: this.issue(accessSeconds) };
      case 'authorization_code': {
        this.counts.codeGrants += 1;
        const redeemed = this.consent.redeem(String(body.code), { clientId: String(body.client_id), redirectUri: String(body.redirect_uri), ...(body.code_verifier ? { codeVerifier: String(body.code_verifier) } : {}) });
        if ('error' in redeemed) return { status: 400, body: redeemed };
        return { body: this.issue(accessSeconds, refreshSeconds) };
      }
      default: {
        this.counts.refreshGrants += 1;
        const presented = String(body.refresh_token);
        const expiresAt = this.refreshTokens.get(presented);
        if (expiresAt === undefined || expiresAt <= this.now()) {
          if (this.spentRefreshTokens.has(presented)) this.counts.refreshReuse += 1;
          return { status: 400, body: { error: 'invalid_grant', error_description: 'The provided authorization grant or refresh token is invalid, expired or revoked.' } };
        }
        // A successful refresh deletes the previous access and refresh tokens.
        this.refreshTokens.delete(presented);
        this.spentRefreshTokens.add(presented);
        return { body: this.issue(accessSeconds, refreshSeconds) };
      }
    }
  }

  private issue(accessSeconds: number, refreshSeconds?: number): Record<string, unknown> {
    const access = randomBytes(16).toString('hex');
    this.accessTokens.set(access, this.now() + accessSeconds * 1000);
    const answer: Record<string, unknown> = { access_token: access, token_type: 'bearer', scope: 'read', expires_in: accessSeconds };
    if (refreshSeconds !== undefined) {
      const refresh = randomBytes(16).toString('hex');
      this.refreshTokens.set(refresh, this.now() + refreshSeconds * 1000);
      Object.assign(answer, { refresh_token: refresh, refresh_token_expires_in: refreshSeconds });
    }
    return answer;
  }

  /** A ticket create as the Tickets API and "Adding voice comments to tickets" document it, with Idempotency-Key. */
  private createTicket(req: RecordedRequest): FakeReply {
    if (req.headers['content-type'] !== 'application/json') return this.violation('tickets are created with a JSON body');
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || key.length > 255)) return this.violation('Idempotency-Key is one string of at most 255 characters');
    const ticket = (JSON.parse(req.body) as { ticket?: Record<string, unknown> }).ticket;
    if (!ticket) return this.violation('body is {"ticket": {...}}');
    const extra = Object.keys(ticket).filter((k) => !TICKET_KEYS.includes(k));
    if (extra.length) return this.violation(`unknown ticket properties ${extra.join(', ')}`);
    if (!this.users.some((u) => u.id === ticket.requester_id)) return this.violation(`requester_id ${String(ticket.requester_id)} is no user`);
    const isAgent = (id: unknown) => this.agents.some((a) => a.id === id && a.role !== 'end-user' && a.active);
    if (ticket.assignee_id !== undefined && !isAgent(ticket.assignee_id)) return this.violation(`assignee_id ${String(ticket.assignee_id)} is no agent`);
    const voice = ticket.voice_comment as Record<string, unknown> | undefined;
    if (!voice && !ticket.comment) return this.violation('a new ticket needs a comment or a voice_comment');
    if (voice) {
      const unknown = Object.keys(voice).filter((k) => !VOICE_COMMENT_KEYS.includes(k));
      if (unknown.length) return this.violation(`unknown voice_comment properties ${unknown.join(', ')}`);
      if (typeof voice.from !== 'string' || typeof voice.to !== 'string') return this.violation('voice_comment needs from and to');
      if (Number.isNaN(Date.parse(String(voice.started_at))) || !/T.*Z$/.test(String(voice.started_at))) return this.violation('started_at is an ISO 8601 time');
      if (!Number.isInteger(voice.call_duration) || (voice.call_duration as number) < 0) return this.violation('call_duration is whole seconds');
      if (voice.recording_url !== undefined && !/^https:\/\/.+\.(mp3|wav)$/.test(String(voice.recording_url))) return this.violation('recording_url is a link to an MP3 or WAV file');
      if (voice.answered_by_id !== undefined && !isAgent(voice.answered_by_id)) return this.violation('answered_by_id is no agent');
    }
    if (typeof key === 'string') {
      const first = this.tickets.find((t) => t.key === key);
      if (first) {
        if (JSON.stringify(first.ticket) !== JSON.stringify(ticket)) return { status: 400, body: { error: 'IdempotentRequestError', description: 'The idempotency key was used with a different request' } };
        return { status: 201, headers: { 'x-idempotency-lookup': 'hit' }, body: { ticket: { id: first.id, ...first.ticket } } };
      }
    }
    const id = (this.nextId += 1);
    this.tickets.push({ id, ...(typeof key === 'string' ? { key } : {}), ticket });
    return { status: 201, delayMs: this.createDelayMs, headers: { ...(typeof key === 'string' ? { 'x-idempotency-lookup': 'miss' } : {}) }, body: { ticket: { id, status: 'new', ...ticket }, audit: { id: id + 1, ticket_id: id, events: [] } } };
  }

  private createUser(req: RecordedRequest): FakeReply {
    const user = (JSON.parse(req.body) as { user?: Record<string, unknown> }).user;
    if (!user || typeof user.name !== 'string' || user.name === '') return this.violation('a user needs a name');
    if (user.role !== 'end-user') return this.violation('callers are created as end-user');
    const id = (this.nextId += 1);
    this.users.push({ id, name: user.name, phone: String(user.phone ?? ''), role: 'end-user', updated_at: new Date().toISOString() });
    return { status: 201, body: { user: { id, ...user } } };
  }

  private search(req: RecordedRequest): FakeReply {
    this.counts.searches += 1;
    if ([...req.query.keys()].join(',') !== 'query') return this.violation(`search.json takes only query (got ${[...req.query.keys()].join(',')})`);
    const match = /^type:user phone:\*(\d+)$/.exec(req.query.get('query')!);
    if (!match) return this.violation(`search query "${req.query.get('query')}" is not "type:user phone:*{digits}"`);
    const digits = match[1]!;
    const results = this.users
      .filter((u) => typeof u.phone === 'string' && u.phone.replace(/\D/g, '').includes(digits))
      .map((u) => ({ ...u, url: `${this.url}/api/v2/users/${u.id}.json`, result_type: 'user' }));
    return { body: { results, facets: null, next_page: null, previous_page: null, count: results.length } };
  }

  private organization(req: RecordedRequest, id: number): FakeReply {
    if ([...req.query.keys()].length > 0) return this.violation('organizations/{id} takes no query');
    const organization = this.organizations.find((o) => o.id === id);
    if (!organization) return { status: 404, body: { error: 'RecordNotFound', description: 'Not found' } };
    return { body: { organization } };
  }

  /** Two pages of one item each when there are several, to exercise next_page. */
  private fieldPage(req: RecordedRequest, key: string, items: unknown[]): FakeReply {
    const page = Number(req.query.get('page') ?? '1');
    const slice = items.slice(page - 1, page);
    const nextPage = page < items.length ? `${this.url}${req.path}?page=${page + 1}` : null;
    return { body: { [key]: slice, next_page: nextPage, previous_page: null, count: items.length } };
  }

  private violation(message: string, status = 400): FakeReply {
    this.ownViolations.push(message);
    return { status, body: { error: 'InvalidRequest', description: message } };
  }
}
