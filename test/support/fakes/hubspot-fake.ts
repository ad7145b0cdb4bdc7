/**
 * HubSpot as it serves today, on one HTTPS server: the CRM search and properties endpoints and
 * the OAuth token endpoint at their date-versioned paths only (/crm/objects/{version}/...,
 * /crm/properties/{version}/..., /oauth/{version}/token, versions 2026-03 and 2026-09), plus an
 * app's consent page (app.hubspot.com/oauth/authorize, reached through `resolveOrigin`),
 * approved at once. The numeric paths (/crm/v3/..., /oauth/v1/token) are refused like the
 * retired endpoints they become, and written to `violations`.
 *
 * Service keys (static tokens) are fixed; OAuth access tokens are issued by the token endpoint
 * and can be expired on demand. Search filters are evaluated like HubSpot does (EQ and IN are
 * exact, groups OR-ed, filters in a group AND-ed) against stored records, including HubSpot's
 * computed `hs_searchable_calculated_*` properties, which tests set as HubSpot would; results
 * come in the one sort asked for, else in stored order. Every request is checked exactly; a
 * mismatch is answered 400 and kept in `violations`.
 */
import type { FakeReply, RecordedRequest } from '../fake-https';
import { AuthorizationCodes, redirectBack } from './authorization-codes';
import { bearerToken, formProblem } from './request-checks';
import { ScriptedReplies, VendorFake } from './vendor-fake';

export interface HubSpotRecord {
  id: string;
  updatedAt: string;
  properties: Record<string, string | null>;
}

interface Filter {
  propertyName?: unknown;
  operator?: unknown;
  value?: unknown;
  values?: unknown;
}

interface SearchBody {
  filterGroups: Array<{ filters: Filter[] }>;
  sorts?: Array<{ propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }>;
  properties: string[];
  limit: number;
}

/** Date versions HubSpot serves now. */
export const HUBSPOT_VERSIONS = ['2026-03', '2026-09'];
const VERSION = `(${HUBSPOT_VERSIONS.join('|')})`;
const SEARCH = new RegExp(`^/crm/objects/${VERSION}/([^/]+)/search$`);
const PROPERTIES = new RegExp(`^/crm/properties/${VERSION}/([^/]+)$`);
const TOKEN = new RegExp(`^/oauth/${VERSION}/token$`);
const RETIRED = /^\/(crm\/v\d+|oauth\/v1)\//;
const CREATE = new RegExp(`^/crm/objects/${VERSION}/(calls|contacts)$`);
/** The owners API, which has no date-versioned path yet: v3 is served (supported until September 2027). */
const OWNERS = /^\/crm\/v3\/owners\/$/;
const OWNER = /^\/crm\/v3\/owners\/([^/]+)$/;
/** The calls properties HubSpot documents (Calls guide) that a PBX can fill. */
const CALL_PROPERTIES = new Set(['hs_timestamp', 'hs_call_title', 'hs_call_body', 'hs_call_direction', 'hs_call_status', 'hs_call_disposition', 'hs_call_duration', 'hs_call_from_number', 'hs_call_to_number', 'hs_call_recording_url', 'hubspot_owner_id', 'hs_call_external_id', 'hs_call_callee_object_id', 'hs_call_callee_object_type']);
const CALL_STATUSES = ['BUSY', 'CALLING_CRM_USER', 'CANCELED', 'COMPLETED', 'CONNECTING', 'FAILED', 'IN_PROGRESS', 'NO_ANSWER', 'QUEUED', 'RINGING'];
/** The default outcomes of every account (hs_call_disposition). */
export const HUBSPOT_DEFAULT_OUTCOMES = ['9d9162e7-6cf3-4944-bf63-4dff82258764', 'f240bbac-87c9-4f6e-bf70-924b57d47db7', 'a4c4c377-d246-4b32-a13b-75a56a4cd0ff', 'b2cf5968-551e-4856-9783-52b3da59a7d0', '73a0d17f-1163-4015-bdd5-ec830791da20', '17b47fee-58de-441e-a44c-c6300d46f273'];

/** One owner, served by id (GET /crm/v3/owners/{ownerId}) and by e-mail (GET /crm/v3/owners/?email=). */
export interface HubSpotOwner {
  id: string;
  email: string | null;
  userId: number;
  firstName?: string;
  lastName?: string;
}

export interface HubSpotCall {
  id: string;
  properties: Record<string, string>;
  associations: Array<{ to: { id: string }; types: Array<{ associationCategory: string; associationTypeId: number }> }>;
}
const HUB_ID = 4417000;

export class HubSpotFake extends VendorFake {
  readonly privateAppTokens = new Set(['pat-na1-good']);
  readonly clientId = 'hs-client';
  readonly clientSecret = 'hs-secret';
  readonly refreshToken = 'hs-refresh';
  /** Lifetime of issued OAuth access tokens, in seconds (HubSpot: 1800). */
  expiresIn = 1800;
  readonly records: Record<string, HubSpotRecord[]> = { contacts: [], companies: [], calls: [] };
  /** Call engagements created (also searchable as records.calls). */
  readonly calls: HubSpotCall[] = [];
  /** Owners: record owners (read by id) and call-log owners (read by e-mail). */
  readonly owners: HubSpotOwner[] = [];
  /** How long a create is held before its answer (it is stored at once): a write that times out. */
  createDelayMs = 0;
  private nextId = 5000;
  /** Ids the last search answered with, before any re-check of the connector. */
  lastSearchIds: string[] = [];
  private readonly scripted = new ScriptedReplies();
  private readonly oauthTokens = new Set<string>();
  private readonly refreshTokens = new Set([this.refreshToken]);
  private readonly codes = new AuthorizationCodes();
  private issued = 0;

  static start(): Promise<HubSpotFake> {
    return VendorFake.serve((server) => new HubSpotFake(server));
  }

  /** For ConnectorServices.resolveOrigin: app.hubspot.com (the consent page) is served here. */
  readonly resolveOrigin = (origin: string): string => {
    if (origin !== 'https://app.hubspot.com') throw new Error(`the HubSpot fake does not serve ${origin}`);
    return this.url;
  };

  tokenRequests(): number {
    return this.requests.filter((r) => TOKEN.test(r.path)).length;
  }

  searches(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith('/search'));
  }

  script(when: (req: RecordedRequest) => boolean, reply: FakeReply): void {
    this.scripted.add(when, reply);
  }

  expireOAuthTokens(): void {
    this.oauthTokens.clear();
  }

  protected handle(req: RecordedRequest): FakeReply {
    if (RETIRED.test(req.path) && !OWNER.test(req.path) && !OWNERS.test(req.path)) {
      this.violations.push(`${req.method} ${req.path}: a numeric API version, retired in favour of the date-versioned paths`);
      return { status: 404, body: { status: 'error', message: 'This API version is no longer supported; use a date-versioned path.', category: 'OBJECT_NOT_FOUND' } };
    }
    const problem = this.check(req);
    if (problem) {
      this.violations.push(`${req.method} ${req.path}: ${problem}`);
      return { status: 400, body: { status: 'error', message: `fake HubSpot: ${problem}`, category: 'VALIDATION_ERROR' } };
    }
    const scripted = this.scripted.take(req);
    if (scripted) return scripted;
    if (req.path === '/oauth/authorize') return this.consent(req);
    if (TOKEN.test(req.path)) return this.token(req);
    const token = bearerToken(req)!;
    if (!this.privateAppTokens.has(token) && !this.oauthTokens.has(token)) {
      const expired = token.startsWith('oauth-');
      return { status: 401, body: { status: 'error', message: expired ? 'The OAuth token used to make this call expired 1 minute(s) ago.' : 'Authentication credentials not found.', category: expired ? 'EXPIRED_AUTHENTICATION' : 'INVALID_AUTHENTICATION' } };
    }
    const create = CREATE.exec(req.path);
    if (create) return this.create(create[2]!, JSON.parse(req.body) as { properties: Record<string, string>; associations?: HubSpotCall['associations'] });
    if (OWNERS.test(req.path)) {
      const email = req.query.get('email')?.toLowerCase();
      const results = this.owners.filter((o) => email === undefined || o.email?.toLowerCase() === email).slice(0, Number(req.query.get('limit') ?? 100))
        .map((o) => ownerBody(o));
      return { body: { results } };
    }
    const owner = OWNER.exec(req.path);
    if (owner) return this.owner(decodeURIComponent(owner[1]!));
    const search = SEARCH.exec(req.path);
    if (search) return this.search(search[2]!, JSON.parse(req.body) as SearchBody);
    const properties = PROPERTIES.exec(req.path);
    if (properties && properties[2] === 'deals') {
      return { body: { results: [{ name: 'dealname', label: 'Deal Name', type: 'string', fieldType: 'text' }, { name: 'amount', label: 'Amount', type: 'number', fieldType: 'number' }] } };
    }
    if (properties && this.records[properties[2]!]) {
      return { body: { results: [
        { name: 'firstname', label: 'First Name', type: 'string', fieldType: 'text' },
        { name: 'phone', label: 'Phone Number', type: 'string', fieldType: 'phonenumber' },
        { name: 'lifecyclestage', label: 'Lifecycle Stage', type: 'enumeration', fieldType: 'radio' },
      ] } };
    }
    return { status: 404, body: { status: 'error', message: 'Unable to infer object type from: ' + req.path, category: 'OBJECT_NOT_FOUND' } };
  }

  private check(req: RecordedRequest): string | undefined {
    if (req.path === '/oauth/authorize') {
      const keys = [...req.query.keys()].sort().join(',');
      if (req.method !== 'GET' || keys !== 'client_id,redirect_uri,scope,state') return `the consent page takes GET with exactly client_id, redirect_uri, scope, state (got ${keys})`;
      return undefined;
    }
    if (TOKEN.test(req.path)) {
      if (req.method !== 'POST') return 'token endpoint takes POST';
      const grant = new URLSearchParams(req.body).get('grant_type');
      if (grant === 'authorization_code') return formProblem(req, ['client_id', 'client_secret', 'code', 'grant_type', 'redirect_uri']);
      return formProblem(req, ['client_id', 'client_secret', 'grant_type', 'refresh_token'], { grant_type: 'refresh_token' });
    }
    if (bearerToken(req) === undefined) return 'Authorization must be "Bearer {token}"';
    if (SEARCH.test(req.path)) return searchProblem(req);
    const create = CREATE.exec(req.path);
    if (create) return create[2] === 'calls' ? this.callProblem(req) : contactProblem(req);
    if (OWNERS.test(req.path)) {
      const keys = [...req.query.keys()].filter((k) => !['email', 'limit', 'after', 'archived'].includes(k));
      return req.method === 'GET' && keys.length === 0 ? undefined : `owners takes GET with email, limit, after, archived (got ${req.method} ${keys.join(',')})`;
    }
    if (PROPERTIES.test(req.path)) return req.method === 'GET' && [...req.query.keys()].length === 0 ? undefined : 'properties takes GET without parameters';
    if (OWNER.test(req.path)) return req.method === 'GET' && [...req.query.keys()].join(',') === 'idProperty' && req.query.get('idProperty') === 'id' ? undefined : 'an owner is read with GET ?idProperty=id';
    return `${req.path} is not an endpoint the connector has any business calling`;
  }

  /** What HubSpot would refuse in a call create, as the Calls guide documents it. */
  private callProblem(req: RecordedRequest): string | undefined {
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/json') return 'calls are created with a JSON POST';
    let body: { properties?: Record<string, unknown>; associations?: unknown };
    try { body = JSON.parse(req.body) as typeof body; } catch { return 'body is not JSON'; }
    if (Object.keys(body).sort().join(',') !== 'associations,properties') return 'body must hold properties and associations';
    const p = body.properties ?? {};
    const unknown = Object.keys(p).filter((k) => !CALL_PROPERTIES.has(k));
    if (unknown.length > 0) return `unknown call properties ${unknown.join(', ')}`;
    if (Object.values(p).some((v) => typeof v !== 'string')) return 'property values are sent as strings';
    if (!/^\d{13}$/.test(String(p.hs_timestamp ?? ''))) return 'hs_timestamp is required (Unix ms)';
    if (p.hs_call_duration !== undefined && !/^\d+$/.test(String(p.hs_call_duration))) return 'hs_call_duration is whole milliseconds';
    if (p.hs_call_direction !== undefined && !['INBOUND', 'OUTBOUND'].includes(String(p.hs_call_direction))) return 'hs_call_direction is INBOUND or OUTBOUND';
    if (p.hs_call_status !== undefined && !CALL_STATUSES.includes(String(p.hs_call_status))) return `hs_call_status ${String(p.hs_call_status)} is not a status`;
    if (p.hs_call_disposition !== undefined && !HUBSPOT_DEFAULT_OUTCOMES.includes(String(p.hs_call_disposition))) return 'hs_call_disposition must be an outcome GUID';
    if (p.hs_call_recording_url !== undefined && !String(p.hs_call_recording_url).startsWith('https://')) return 'hs_call_recording_url must be https';
    if (p.hubspot_owner_id !== undefined && !this.owners.some((o) => o.id === p.hubspot_owner_id)) return `hubspot_owner_id ${String(p.hubspot_owner_id)} is no owner id`;
    const associations = body.associations as HubSpotCall['associations'];
    if (!Array.isArray(associations)) return 'associations must be a list';
    for (const a of associations) {
      if (!this.records.contacts!.some((c) => c.id === a?.to?.id)) return `association to ${JSON.stringify(a?.to)}: no such contact`;
      if (JSON.stringify(a.types) !== JSON.stringify([{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 194 }])) return 'a call-to-contact association is HUBSPOT_DEFINED type 194';
    }
    return undefined;
  }

  private create(type: string, body: { properties: Record<string, string>; associations?: HubSpotCall['associations'] }): FakeReply {
    const id = String((this.nextId += 1));
    const now = new Date().toISOString();
    this.records[type]!.push({ id, updatedAt: now, properties: { ...body.properties } });
    if (type === 'calls') this.calls.push({ id, properties: body.properties, associations: body.associations ?? [] });
    return { status: 201, delayMs: this.createDelayMs, body: { id, properties: { ...body.properties, hs_object_id: id }, createdAt: now, updatedAt: now, archived: false } };
  }

  /** The app's consent page, approved at once: back to the redirect URI with a code. */
  private consent(req: RecordedRequest): FakeReply {
    if (req.query.get('client_id') !== this.clientId) return { status: 400, body: 'Invalid client_id' };
    const redirectUri = req.query.get('redirect_uri')!;
    const code = this.codes.issue({ clientId: this.clientId, redirectUri, scopes: req.query.get('scope')!.split(' ') });
    return { status: 302, headers: { location: redirectBack(redirectUri, { code, state: req.query.get('state')! }) } };
  }

  private token(req: RecordedRequest): FakeReply {
    const form = new URLSearchParams(req.body);
    const refuse = (error: string, status: string, message: string): FakeReply => ({ status: 400, body: { error, error_description: message, status, message, correlationId: 'c0ffee' } });
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) return refuse('invalid_client', 'BAD_CLIENT_ID', 'missing or invalid client credentials');
    let refreshToken = form.get('refresh_token') ?? '';
    if (form.get('grant_type') === 'authorization_code') {
      const redeemed = this.codes.redeem(form.get('code') ?? '', form);
      if (typeof redeemed === 'string') return refuse('invalid_grant', 'BAD_AUTH_CODE', redeemed);
      refreshToken = `hs-refresh-connected-${(this.issued += 1)}`;
      this.refreshTokens.add(refreshToken);
    } else if (!this.refreshTokens.has(refreshToken)) {
      return refuse('invalid_grant', 'BAD_REFRESH_TOKEN', 'missing or invalid refresh token');
    }
    this.issued += 1;
    const token = `oauth-${this.issued}`;
    this.oauthTokens.add(token);
    return { body: { token_type: 'bearer', token_use: 'access_token', refresh_token: refreshToken, access_token: token, expires_in: this.expiresIn, hub_id: HUB_ID } };
  }

  /** GET /crm/v3/owners/{ownerId}: the owner, or 404 as HubSpot answers an id it does not know. */
  private owner(id: string): FakeReply {
    const owner = this.owners.find((o) => o.id === id);
    if (!owner) return { status: 404, body: { status: 'error', message: `Unable to find owner with id ${id}`, correlationId: 'c0ffee', category: 'OBJECT_NOT_FOUND' } };
    return { body: ownerBody(owner) };
  }

  private search(type: string, body: SearchBody): FakeReply {
    const records = this.records[type];
    if (!records) return { status: 404, body: { status: 'error', message: `Unable to infer object type from: ${type}`, category: 'OBJECT_NOT_FOUND' } };
    const matches = (r: HubSpotRecord, f: Filter) => {
      const value = r.properties[String(f.propertyName)];
      return f.operator === 'IN' ? (f.values as string[]).includes(value ?? '') : value === f.value;
    };
    const found = records.filter((r) => body.filterGroups.some((g) => g.filters.every((f) => matches(r, f))));
    const sort = body.sorts?.[0];
    if (sort) {
      const key = (r: HubSpotRecord) => r.properties[sort.propertyName] ?? (/lastmodifieddate$/.test(sort.propertyName) ? r.updatedAt : '');
      found.sort((a, b) => String(key(a)).localeCompare(String(key(b))) * (sort.direction === 'DESCENDING' ? -1 : 1));
    }
    this.lastSearchIds = found.slice(0, body.limit).map((r) => r.id);
    const results = found.slice(0, body.limit).map((r) => ({
      id: r.id,
      properties: Object.fromEntries([...body.properties, 'hs_object_id'].map((p) => [p, p === 'hs_object_id' ? r.id : r.properties[p] ?? null])),
      createdAt: '2023-01-01T00:00:00.000Z',
      updatedAt: r.updatedAt,
      archived: false,
    }));
    return { body: { total: found.length, results, ...(found.length > body.limit ? { paging: { next: { after: String(body.limit) } } } : {}) } };
  }
}

/** A contact create: `{properties}`, with one of email, firstname, lastname (HubSpot asks for one). */
function contactProblem(req: RecordedRequest): string | undefined {
  if (req.method !== 'POST' || req.headers['content-type'] !== 'application/json') return 'contacts are created with a JSON POST';
  const body = JSON.parse(req.body) as { properties?: Record<string, unknown> };
  if (Object.keys(body).join(',') !== 'properties') return 'body must hold properties';
  const p = body.properties ?? {};
  if (!['email', 'firstname', 'lastname'].some((k) => typeof p[k] === 'string' && p[k] !== '')) return 'a contact needs email, firstname or lastname';
  if (p.lifecyclestage !== undefined && !['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other'].includes(String(p.lifecyclestage))) return 'lifecyclestage is not a stage';
  return undefined;
}

/** What HubSpot would refuse in a search request, as its search guide states the limits. */
function searchProblem(req: RecordedRequest): string | undefined {
  if (req.method !== 'POST') return 'search takes POST';
  if (req.headers['content-type'] !== 'application/json') return 'search body must be application/json';
  let body: { filterGroups?: unknown; properties?: unknown; limit?: unknown; sorts?: unknown };
  try { body = JSON.parse(req.body) as typeof body; } catch { return 'search body is not JSON'; }
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'filterGroups,limit,properties,sorts') return `search body must hold exactly filterGroups, sorts, properties, limit (got ${keys})`;
  if (typeof body.limit !== 'number' || body.limit < 1 || body.limit > 200) return 'limit must be 1..200';
  if (!Array.isArray(body.properties) || body.properties.some((p) => typeof p !== 'string')) return 'properties must be a list of names';
  const sorts = body.sorts as Array<{ propertyName?: unknown; direction?: unknown }>;
  if (!Array.isArray(sorts) || sorts.length !== 1 || typeof sorts[0]!.propertyName !== 'string' || !['ASCENDING', 'DESCENDING'].includes(String(sorts[0]!.direction))) return 'sorts: HubSpot applies exactly one {propertyName, direction}';
  const groups = body.filterGroups as Array<{ filters?: Filter[] }>;
  if (!Array.isArray(groups) || groups.length === 0 || groups.length > 5) return 'filterGroups: 1 to 5 groups';
  const filters = groups.flatMap((g) => g.filters ?? []);
  if (filters.length > 25 || groups.some((g) => !Array.isArray(g.filters) || g.filters.length === 0 || g.filters.length > 10)) return 'at most 10 filters a group and 25 in all';
  for (const f of filters) {
    if (typeof f.propertyName !== 'string' || (f.operator !== 'EQ' && f.operator !== 'IN')) return 'each filter needs propertyName and operator EQ or IN';
    const values = f.operator === 'IN' ? f.values : [f.value];
    const allowed = f.propertyName === 'hs_call_external_id' ? /^[A-Za-z0-9_-]{1,64}$/ : /^[0-9+ ().-]+$/;
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' || !allowed.test(v))) return `filter values must be phone numbers (or a call's external id), got ${JSON.stringify(values)}`;
  }
  return undefined;
}

/** An owner as the owners API answers it (list entry or single read). */
function ownerBody(o: HubSpotOwner): Record<string, unknown> {
  return { id: o.id, email: o.email, type: 'PERSON', firstName: o.firstName ?? 'Agent', lastName: o.lastName ?? o.id, userId: o.userId, userIdIncludingInactive: o.userId, createdAt: '2019-12-25T13:01:35.228Z', updatedAt: '2020-01-09T20:28:50.080Z', archived: false };
}
