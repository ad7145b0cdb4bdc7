/**
 * Pipedrive's v2 search, list and field-metadata endpoints (client-nodejs v2: persons-api,
 * person-fields-api, organization-fields-api), as documented, on one HTTPS
 * server standing in for https://{company}.pipedrive.com. The API token must arrive in the
 * x-api-token header (never the query), or an OAuth access token as Bearer. Search matches the
 * term anywhere in a phone's digits, as a substring search does; custom fields are keyed by
 * 40-character hashes. Every request is checked exactly; a mismatch is answered 400 and kept in
 * `violations`.
 *
 * The same server plays https://oauth.pipedrive.com (point it here with `resolveOrigin`): the
 * consent page `/oauth/authorize` (no PKCE), and `/oauth/token` (form body, the client in HTTP
 * Basic; authorization_code and refresh_token grants; the answer carries api_domain).
 */
import { randomBytes } from 'node:crypto';
import type { FakeHttpsServer, FakeReply, RecordedRequest } from '../fake-https';
import { ConsentPages, DECISION_PATH } from './consent-page';
import { formProblem } from './request-checks';
import { ScriptedReplies, VendorFake } from './vendor-fake';

export const PIPEDRIVE_OAUTH = 'https://oauth.pipedrive.com';

export const TIER_KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
export const HOTLINE_KEY = 'ffeeddccbbaa00998877665544332211ffeeddcc';
export const NOTE_KEY = '0123456789abcdef0123456789abcdef01234567';

export interface PipedriveFakeField {
  id: number;
  key: string;
  name: string;
  field_type: string;
  options?: Array<{ id: number; label: string }>;
}

export type PipedriveFakeRecord = { id: number; name: string; update_time: string; custom_fields: Record<string, unknown> } & Record<string, unknown>;

const OUTCOMES = ['connected', 'no_answer', 'left_message', 'left_voicemail', 'wrong_number', 'busy'];
const UTC_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
/** Fields of AddCallLogRequest (client-nodejs v1). */
const CALL_LOG_FIELDS = ['user_id', 'activity_id', 'subject', 'duration', 'outcome', 'from_phone_number', 'to_phone_number', 'start_time', 'end_time', 'person_id', 'org_id', 'deal_id', 'lead_id', 'note'];

/** One user, served by id (GET /api/v1/users/{id}, record owners) and by e-mail (users/find, call-log owners). */
export interface PipedriveFakeUser {
  id: number;
  email: string;
  active_flag: boolean;
  name?: string;
}

export type PipedriveFakeCallLog = { id: string; user_id: number } & Record<string, unknown>;

export class PipedriveFake extends VendorFake {
  readonly tokens = new Set(['pd-token-good']);
  readonly users: PipedriveFakeUser[] = [{ id: 77, email: 'pat@acme.test', active_flag: true, name: 'Pat Admin' }];
  readonly callLogs: PipedriveFakeCallLog[] = [];
  readonly leads: Array<{ id: string; title: string; person_id: number }> = [];
  /** How long a call log create is held before its answer (it is stored at once): a write that times out. */
  createDelayMs = 0;
  /** Activities a page of GET /api/v2/activities holds at most (Pipedrive: the request's limit; 2 here exercises the cursor). */
  activityPageSize = 2;
  private nextId = 100;
  readonly persons: PipedriveFakeRecord[] = [];
  readonly organizations: PipedriveFakeRecord[] = [];
  readonly personFields: PipedriveFakeField[] = [
    { id: 1, key: 'name', name: 'Name', field_type: 'varchar' },
    { id: 2, key: 'org_id', name: 'Organization', field_type: 'org' },
    { id: 3, key: 'phone', name: 'Phone', field_type: 'phone' },
    { id: 4, key: 'label', name: 'Label', field_type: 'set', options: [{ id: 5, label: 'Customer' }, { id: 6, label: 'Hot lead' }] },
    { id: 7, key: TIER_KEY, name: 'Customer tier', field_type: 'enum', options: [{ id: 31, label: 'Gold' }, { id: 32, label: 'Silver' }] },
    { id: 8, key: NOTE_KEY, name: 'Note', field_type: 'varchar' },
    { id: 9, key: 'f00d'.repeat(10), name: 'Note', field_type: 'text' },
  ];
  readonly organizationFields: PipedriveFakeField[] = [
    { id: 20, key: 'name', name: 'Name', field_type: 'varchar' },
    { id: 21, key: HOTLINE_KEY, name: 'Hotline', field_type: 'phone' },
  ];
  clientId = 'pd-app-client-id';
  clientSecret = 'pd-app-client-secret';
  readonly consent: ConsentPages;
  readonly counts = { codeGrants: 0, refreshGrants: 0 };
  private readonly scripted = new ScriptedReplies();
  private readonly accessTokens = new Set<string>();
  private readonly refreshTokens = new Set<string>();

  private constructor(server: FakeHttpsServer) {
    super(server);
    this.consent = new ConsentPages({ vendor: 'Pipedrive', clientId: this.clientId, redirectUris: [], pkce: false, responseType: false }, this.ownViolations);
  }

  static start(): Promise<PipedriveFake> {
    return VendorFake.serve((server) => new PipedriveFake(server));
  }

  /** For HostContext.resolveCrmOrigin: Pipedrive's OAuth host is this server. */
  readonly resolveOrigin = (origin: string): string => (origin === PIPEDRIVE_OAUTH ? this.url : origin);

  registerRedirectUri(uri: string): void {
    this.consent.options.redirectUris.push(uri);
  }

  /** Every OAuth access token issued so far answers 401 from now on (an expired hour). */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  script(when: (req: RecordedRequest) => boolean, reply: FakeReply): void {
    this.scripted.add(when, reply);
  }

  protected handle(req: RecordedRequest): FakeReply {
    if (req.path === '/oauth/authorize') return this.consent.authorize(req);
    if (req.path === DECISION_PATH && req.method === 'POST') return this.consent.decide(req);
    if (req.path === '/oauth/token') return this.token(req);
    const problem = this.check(req);
    if (problem) {
      this.violations.push(`${req.method} ${req.path}?${req.query}: ${problem}`);
      return { status: 400, body: { success: false, error: `fake Pipedrive: ${problem}`, error_info: 'Please check developers.pipedrive.com' } };
    }
    const scripted = this.scripted.take(req);
    if (scripted) return scripted;
    const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const known = bearer !== undefined ? this.accessTokens.has(bearer) : this.tokens.has(String(req.headers['x-api-token']));
    if (!known) return { status: 401, body: { success: false, error: 'unauthorized access', errorCode: 401, error_info: 'Please check developers.pipedrive.com' } };
    if (req.method === 'POST') return this.create(req);
    const user = /^\/api\/v1\/users\/(\d+)$/.exec(req.path);
    if (user) {
      const found = this.users.find((u) => u.id === Number(user[1]));
      if (!found) return { status: 404, body: { success: false, error: 'User not found', error_info: 'Please check developers.pipedrive.com', data: null, additional_data: null } };
      return { body: { success: true, data: { id: found.id, name: found.name ?? `User ${found.id}`, email: found.email, active_flag: found.active_flag, is_admin: 0, role_id: 1 } } };
    }
    switch (req.path) {
      case '/api/v1/users/find': {
        const term = req.query.get('term')!.toLowerCase();
        const data = this.users.filter((u) => u.email.toLowerCase().includes(term)).map((u) => ({ id: u.id, name: u.name ?? `User ${u.id}`, email: u.email, active_flag: u.active_flag, is_admin: 0 }));
        return { body: { success: true, data: data.length ? data : null } };
      }
      case '/api/v1/callLogs': {
        // The API user's (77's) call logs, newest first.
        const start = Number(req.query.get('start'));
        const mine = this.callLogs.filter((c) => c.user_id === 77).reverse();
        const data = mine.slice(start, start + Number(req.query.get('limit')));
        return { body: { success: true, data, additional_data: { pagination: { start, limit: Number(req.query.get('limit')), more_items_in_collection: start + data.length < mine.length } } } };
      }
      case '/api/v2/activities': {
        // Call logs as the activities they also are, newest first, two a page (activityPageSize) to exercise the cursor.
        const since = req.query.get('updated_since')!.replace('T', ' ').replace('Z', '');
        const all = this.callLogs.filter((c) => String(c.update_time) >= since).reverse();
        const start = Number(req.query.get('cursor') ?? '0');
        const size = Math.min(this.activityPageSize, Number(req.query.get('limit')));
        const data = all.slice(start, start + size).map((c) => ({ id: c.activity_id, type: 'call', subject: c.subject, note: c.note, owner_id: c.user_id, person_id: c.person_id ?? null, done: true, update_time: c.update_time }));
        return { body: { success: true, data, additional_data: { next_cursor: start + size < all.length ? String(start + size) : null } } };
      }
      case '/api/v1/users/me': return { body: { success: true, data: { id: 77, name: 'Pat Admin', email: 'pat@acme.test', company_domain: 'acme' } } };
      case '/api/v2/personFields': return this.fields(req, this.personFields);
      case '/api/v2/organizationFields': return this.fields(req, this.organizationFields);
      case '/api/v2/persons/search': return this.search(req, this.persons, (r) => ((r.phones as Array<{ value: string }>) ?? []).map((p) => p.value), 'person');
      case '/api/v2/organizations/search': return this.search(req, this.organizations, (r) => [String(r.custom_fields[HOTLINE_KEY] ?? '')], 'organization');
      case '/api/v2/persons': return this.list(req, this.persons);
      case '/api/v2/organizations': return this.list(req, this.organizations);
      default: return { status: 404, body: { success: false, error: 'Unknown method .', error_info: 'Please check developers.pipedrive.com' } };
    }
  }

  private check(req: RecordedRequest): string | undefined {
    if (req.query.has('api_token')) return 'the token belongs in the x-api-token header, not the query';
    const bearer = typeof req.headers.authorization === 'string';
    const apiToken = typeof req.headers['x-api-token'] === 'string' && req.headers['x-api-token'] !== '';
    if (bearer === apiToken) return 'exactly one of x-api-token (API token) and Authorization: Bearer (OAuth) is expected';
    if (bearer && !/^Bearer \S+$/.test(String(req.headers.authorization))) return 'Authorization must be Bearer {access token}';
    if (req.method === 'POST') return this.createProblem(req);
    if (req.method !== 'GET') return 'only GET, and POST of a call log, person or lead, are expected';
    if (req.path === '/api/v1/users/find') return [...req.query.keys()].sort().join(',') === 'search_by_email,term' && req.query.get('search_by_email') === '1' ? undefined : 'users/find takes term and search_by_email=1';
    if (req.path === '/api/v2/activities') {
      const keys = [...req.query.keys()].filter((k) => k !== 'cursor').sort().join(',');
      if (keys !== 'limit,sort_by,sort_direction,updated_since') return `activities are read here with updated_since, sort_by, sort_direction, limit (got ${keys})`;
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(req.query.get('updated_since') ?? '')) return 'updated_since is RFC 3339 (YYYY-MM-DDTHH:MM:SSZ)';
      if (req.query.get('sort_by') !== 'update_time' || !['asc', 'desc'].includes(req.query.get('sort_direction') ?? '')) return 'sort_by update_time, sort_direction asc or desc';
      return Number(req.query.get('limit')) <= 500 ? undefined : 'limit at most 500';
    }
    if (req.path === '/api/v1/callLogs') {
      const limit = Number(req.query.get('limit'));
      return [...req.query.keys()].sort().join(',') === 'limit,start' && limit >= 1 && limit <= 50 ? undefined : 'callLogs takes start and limit (at most 50)';
    }
    if (req.path === '/api/v1/users/me') return [...req.query.keys()].length === 0 ? undefined : 'users/me takes no query';
    if (/^\/api\/v1\/users\/\d+$/.test(req.path)) return [...req.query.keys()].length === 0 ? undefined : 'users/{id} takes no query';
    const keys = [...req.query.keys()].sort().join(',');
    if (req.path.startsWith('/v1/')) return 'v1 is not used: v2 has these endpoints';
    if (req.path.endsWith('Fields')) return (keys === 'limit' || keys === 'cursor,limit') && Number(req.query.get('limit')) <= 500 ? undefined : `v2 field lists take limit (at most 500) and a cursor (got ${keys})`;
    if (req.path.endsWith('/search')) {
      if (keys !== 'exact_match,fields,limit,term') return `search takes exactly term, fields, exact_match, limit (got ${keys})`;
      const fields = req.path.includes('persons') ? 'phone' : 'custom_fields';
      if (req.query.get('fields') !== fields) return `fields must be ${fields}`;
      if (req.query.get('exact_match') !== 'false' || Number(req.query.get('limit')) > 500) return 'exact_match=false and a limit of at most 500 expected';
      if (!/^\d{2,}$/.test(req.query.get('term') ?? '')) return `term must be at least two digits, got ${req.query.get('term')}`;
      return undefined;
    }
    if (req.path === '/api/v2/persons' || req.path === '/api/v2/organizations') {
      if (keys !== 'ids,limit,sort_by,sort_direction' && keys !== 'custom_fields,ids,limit,sort_by,sort_direction') return `list takes ids, sort_by, sort_direction, limit and optionally custom_fields (got ${keys})`;
      if (req.query.get('sort_by') !== 'update_time' || req.query.get('sort_direction') !== 'desc') return 'newest first: sort_by=update_time&sort_direction=desc';
      if (!/^\d+(,\d+){0,99}$/.test(req.query.get('ids') ?? '')) return 'ids must be a comma-separated list of ids';
      const custom = req.query.get('custom_fields');
      if (custom !== null && (!/^[0-9a-f]{40}(,[0-9a-f]{40})*$/.test(custom) || custom.split(',').length > 15)) return 'custom_fields: up to 15 field keys';
      return undefined;
    }
    return undefined;
  }

  /** What Pipedrive would refuse in a create of a call log (v1), a person (v2) or a lead (v1). */
  private createProblem(req: RecordedRequest): string | undefined {
    if ([...req.query.keys()].length) return 'a create takes no query parameters';
    if (req.headers['content-type'] !== 'application/json') return 'a create is a JSON body';
    let b: Record<string, unknown>;
    try { b = JSON.parse(req.body) as Record<string, unknown>; } catch { return 'body is not JSON'; }
    const userOk = (key: string) => b[key] === undefined || this.users.some((u) => u.id === b[key] && u.active_flag);
    if (req.path === '/api/v1/callLogs') {
      const unknown = Object.keys(b).filter((k) => !CALL_LOG_FIELDS.includes(k));
      if (unknown.length) return `call logs have no ${unknown.join(', ')}`;
      if (!OUTCOMES.includes(String(b.outcome))) return `outcome ${String(b.outcome)} is not one of ${OUTCOMES.join(', ')}`;
      if (typeof b.to_phone_number !== 'string' || b.to_phone_number === '') return 'to_phone_number is required';
      if (!UTC_TIME.test(String(b.start_time)) || !UTC_TIME.test(String(b.end_time))) return 'start_time and end_time are UTC YYYY-MM-DD HH:MM:SS';
      if (String(b.end_time) < String(b.start_time)) return 'end_time is before start_time';
      if (b.duration !== undefined && (typeof b.duration !== 'string' || !/^\d+$/.test(b.duration))) return 'duration is a string of seconds';
      if (b.deal_id !== undefined && b.lead_id !== undefined) return 'deal_id or lead_id, not both';
      if (b.person_id !== undefined && !this.persons.some((p) => p.id === b.person_id)) return `person_id ${String(b.person_id)} is no person`;
      if (b.lead_id !== undefined && !this.leads.some((l) => l.id === b.lead_id)) return `lead_id ${String(b.lead_id)} is no lead`;
      if (!userOk('user_id')) return `user_id ${String(b.user_id)} is no active user`;
      return undefined;
    }
    if (req.path === '/api/v2/persons') {
      if (typeof b.name !== 'string' || b.name === '') return 'Name must be given';
      const phones = b.phones as Array<{ value?: unknown; primary?: unknown; label?: unknown }> | undefined;
      if (phones !== undefined && (!Array.isArray(phones) || phones.some((p) => typeof p.value !== 'string' || typeof p.primary !== 'boolean'))) return 'phones are [{value, primary, label}]';
      return userOk('owner_id') ? undefined : 'owner_id is no active user';
    }
    if (req.path === '/api/v1/leads') {
      if (typeof b.title !== 'string' || b.title === '') return 'a lead needs a title';
      if (!this.persons.some((p) => p.id === b.person_id)) return 'a lead needs a person_id or organization_id';
      return userOk('owner_id') ? undefined : 'owner_id is no active user';
    }
    return `POST ${req.path} is not a create the connector makes`;
  }

  private create(req: RecordedRequest): FakeReply {
    const b = JSON.parse(req.body) as Record<string, unknown>;
    const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
    if (req.path === '/api/v1/callLogs') {
      const id = `${(this.nextId += 1).toString(16)}c0ffee`;
      // A call log is an activity too (developers.pipedrive.com CallLogs), with an id of its own.
      this.callLogs.push({ ...b, id, activity_id: (this.nextId += 1), user_id: (b.user_id as number | undefined) ?? 77, has_recording: false, company_id: 1, update_time: now });
      return { status: 201, delayMs: this.createDelayMs, body: { success: true, data: { ...b, id, user_id: (b.user_id as number | undefined) ?? 77, has_recording: false, company_id: 1 } } };
    }
    if (req.path === '/api/v2/persons') {
      const id = (this.nextId += 1);
      this.persons.push({ id, name: String(b.name), org_id: null, update_time: now, phones: b.phones, custom_fields: {} });
      return { body: { success: true, data: { id, name: b.name, phones: b.phones, owner_id: b.owner_id ?? 77, add_time: now, update_time: now } } };
    }
    const id = `5d6f${(this.nextId += 1)}-0000-4000-8000-000000000000`;
    this.leads.push({ id, title: String(b.title), person_id: Number(b.person_id) });
    return { status: 201, body: { success: true, data: { id, title: b.title, person_id: b.person_id, owner_id: b.owner_id ?? 77 } } };
  }

  private token(req: RecordedRequest): FakeReply {
    const basic = `Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')}`;
    const grant = new URLSearchParams(req.body).get('grant_type');
    const fields = grant === 'refresh_token' ? ['grant_type', 'refresh_token'] : ['grant_type', 'code', 'redirect_uri'];
    const problem = req.method !== 'POST' ? 'the token endpoint takes POST' : formProblem(req, fields);
    if (problem) {
      this.ownViolations.push(`/oauth/token: ${problem}`);
      return { status: 400, body: { success: false, error: 'invalid_request', error_description: problem } };
    }
    if (req.headers.authorization !== basic) return { status: 401, body: { error: 'invalid_client', error_description: 'Invalid client credentials' } };
    const form = new URLSearchParams(req.body);
    if (grant === 'authorization_code') {
      this.counts.codeGrants += 1;
      const redeemed = this.consent.redeem(form.get('code')!, { clientId: this.clientId, redirectUri: form.get('redirect_uri')! });
      if ('error' in redeemed) return { status: 400, body: redeemed };
      const refresh = randomBytes(16).toString('hex');
      this.refreshTokens.add(refresh);
      return { body: this.issue(refresh) };
    }
    if (grant !== 'refresh_token') return { status: 400, body: { error: 'unsupported_grant_type', error_description: `grant_type ${grant} is not supported` } };
    this.counts.refreshGrants += 1;
    const refresh = form.get('refresh_token')!;
    if (!this.refreshTokens.has(refresh)) return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid refresh token' } };
    return { body: this.issue(refresh) };
  }

  private issue(refreshToken: string): Record<string, unknown> {
    const access = randomBytes(16).toString('hex');
    this.accessTokens.add(access);
    return { access_token: access, token_type: 'Bearer', refresh_token: refreshToken, scope: 'base,contacts:read', expires_in: 3599, api_domain: this.url };
  }

  private search(req: RecordedRequest, records: PipedriveFakeRecord[], phones: (r: PipedriveFakeRecord) => string[], type: string): FakeReply {
    const term = req.query.get('term')!;
    const found = records.filter((r) => phones(r).some((p) => p.replace(/\D/g, '').includes(term))).slice(0, Number(req.query.get('limit')));
    const items = found.map((r) => ({
      result_score: 0.5,
      item: {
        id: r.id, type, name: r.name,
        ...(type === 'person' ? { phones: phones(r), emails: [], organization: r.org_id ? { id: r.org_id, name: `Org ${r.org_id}`, address: null } : null } : { address: null }),
        owner: { id: 1 }, visible_to: 3, custom_fields: [], notes: [],
      },
    }));
    return { body: { success: true, data: { items }, additional_data: { next_cursor: null } } };
  }

  /** v2 field metadata: field_code, field_name, field_type, is_custom_field, options; two per page to exercise the cursor. */
  private fields(req: RecordedRequest, fields: PipedriveFakeField[]): FakeReply {
    const start = Number(req.query.get('cursor') ?? '0');
    const page = fields.slice(start, start + 2).map((f) => ({
      field_code: f.key, field_name: f.name, field_type: f.field_type, is_custom_field: /^[0-9a-f]{40}$/.test(f.key), is_optional_response_field: false, options: f.options ?? null, subfields: null,
    }));
    const next = start + 2 < fields.length ? String(start + 2) : null;
    return { body: { success: true, data: page, additional_data: { next_cursor: next } } };
  }

  private list(req: RecordedRequest, records: PipedriveFakeRecord[]): FakeReply {
    const ids = req.query.get('ids')!.split(',').map(Number);
    const custom = req.query.get('custom_fields')?.split(',');
    const data = records.filter((r) => ids.includes(r.id)).sort((a, b) => b.update_time.localeCompare(a.update_time)).map((r) => ({
      ...r,
      custom_fields: custom ? Object.fromEntries(custom.map((k) => [k, r.custom_fields[k] ?? null])) : r.custom_fields,
    }));
    return { body: { success: true, data, additional_data: { next_cursor: null } } };
  }
}
