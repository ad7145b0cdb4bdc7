/**
 * HubSpot's CRM v3 search, properties and OAuth v1 token endpoints, as documented, on one HTTPS
 * server. Private-app tokens are fixed; OAuth access tokens are issued by the refresh endpoint
 * and can be expired on demand. Search filters are evaluated like HubSpot does (EQ and IN are
 * exact, groups OR-ed, filters in a group AND-ed) against stored records, including HubSpot's
 * computed `hs_searchable_calculated_*` properties, which tests set as HubSpot would.
 * Every request is checked exactly; a mismatch is answered 400 and kept in `violations`.
 */
import type { FakeReply, RecordedRequest } from '../fake-https';
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

export class HubSpotFake extends VendorFake {
  readonly privateAppTokens = new Set(['pat-na1-good']);
  readonly clientId = 'hs-client';
  readonly clientSecret = 'hs-secret';
  readonly refreshToken = 'hs-refresh';
  /** Lifetime of issued OAuth access tokens, in seconds (HubSpot: 1800). */
  expiresIn = 1800;
  readonly records: Record<string, HubSpotRecord[]> = { contacts: [], companies: [] };
  /** Ids the last search answered with, before any re-check of the connector. */
  lastSearchIds: string[] = [];
  private readonly scripted = new ScriptedReplies();
  private readonly oauthTokens = new Set<string>();
  private issued = 0;

  static start(): Promise<HubSpotFake> {
    return VendorFake.serve((server) => new HubSpotFake(server));
  }

  tokenRequests(): number {
    return this.requests.filter((r) => r.path === '/oauth/v1/token').length;
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
    const problem = this.check(req);
    if (problem) {
      this.violations.push(`${req.method} ${req.path}: ${problem}`);
      return { status: 400, body: { status: 'error', message: `fake HubSpot: ${problem}`, category: 'VALIDATION_ERROR' } };
    }
    const scripted = this.scripted.take(req);
    if (scripted) return scripted;
    if (req.path === '/oauth/v1/token') return this.refresh(req);
    const token = bearerToken(req)!;
    if (!this.privateAppTokens.has(token) && !this.oauthTokens.has(token)) {
      const expired = token.startsWith('oauth-');
      return { status: 401, body: { status: 'error', message: expired ? 'The OAuth token used to make this call expired 1 minute(s) ago.' : 'Authentication credentials not found.', category: expired ? 'EXPIRED_AUTHENTICATION' : 'INVALID_AUTHENTICATION' } };
    }
    const search = /^\/crm\/v3\/objects\/([^/]+)\/search$/.exec(req.path);
    if (search) return this.search(search[1]!, JSON.parse(req.body) as { filterGroups: Array<{ filters: Filter[] }>; properties: string[]; limit: number });
    const properties = /^\/crm\/v3\/properties\/([^/]+)$/.exec(req.path);
    if (properties && this.records[properties[1]!]) {
      return { body: { results: [
        { name: 'firstname', label: 'First Name', type: 'string', fieldType: 'text' },
        { name: 'phone', label: 'Phone Number', type: 'string', fieldType: 'phonenumber' },
        { name: 'lifecyclestage', label: 'Lifecycle Stage', type: 'enumeration', fieldType: 'radio' },
      ] } };
    }
    return { status: 404, body: { status: 'error', message: 'Unable to infer object type from: ' + req.path, category: 'OBJECT_NOT_FOUND' } };
  }

  private check(req: RecordedRequest): string | undefined {
    if (req.path === '/oauth/v1/token') {
      if (req.method !== 'POST') return 'token endpoint takes POST';
      return formProblem(req, ['client_id', 'client_secret', 'grant_type', 'refresh_token'], { grant_type: 'refresh_token' });
    }
    if (bearerToken(req) === undefined) return 'Authorization must be "Bearer {token}"';
    if (req.path.endsWith('/search')) {
      if (req.method !== 'POST') return 'search takes POST';
      if (req.headers['content-type'] !== 'application/json') return 'search body must be application/json';
      let body: { filterGroups?: unknown; properties?: unknown; limit?: unknown };
      try { body = JSON.parse(req.body) as typeof body; } catch { return 'search body is not JSON'; }
      const keys = Object.keys(body).sort().join(',');
      if (keys !== 'filterGroups,limit,properties') return `search body must hold exactly filterGroups, properties, limit (got ${keys})`;
      if (typeof body.limit !== 'number' || body.limit < 1 || body.limit > 200) return 'limit must be 1..200';
      if (!Array.isArray(body.properties) || body.properties.some((p) => typeof p !== 'string')) return 'properties must be a list of names';
      const groups = body.filterGroups as Array<{ filters?: Filter[] }>;
      if (!Array.isArray(groups) || groups.length === 0 || groups.length > 5) return 'filterGroups: 1 to 5 groups';
      const filters = groups.flatMap((g) => g.filters ?? []);
      if (filters.length > 25 || groups.some((g) => !Array.isArray(g.filters) || g.filters.length === 0 || g.filters.length > 10)) return 'at most 10 filters a group and 25 in all';
      for (const f of filters) {
        if (typeof f.propertyName !== 'string' || (f.operator !== 'EQ' && f.operator !== 'IN')) return 'each filter needs propertyName and operator EQ or IN';
        const values = f.operator === 'IN' ? f.values : [f.value];
        if (!Array.isArray(values) || values.some((v) => typeof v !== 'string' || !/^[0-9+ ().-]+$/.test(v))) return `filter values must be phone numbers, got ${JSON.stringify(values)}`;
      }
      return undefined;
    }
    if (req.path.startsWith('/crm/v3/properties/')) return req.method === 'GET' && [...req.query.keys()].length === 0 ? undefined : 'properties takes GET without parameters';
    return undefined;
  }

  private refresh(req: RecordedRequest): FakeReply {
    const form = new URLSearchParams(req.body);
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret || form.get('refresh_token') !== this.refreshToken) {
      return { status: 400, body: { status: 'BAD_REFRESH_TOKEN', message: 'missing or invalid refresh token', correlationId: 'c0ffee' } };
    }
    this.issued += 1;
    const token = `oauth-${this.issued}`;
    this.oauthTokens.add(token);
    return { body: { token_type: 'bearer', refresh_token: this.refreshToken, access_token: token, expires_in: this.expiresIn } };
  }

  private search(type: string, body: { filterGroups: Array<{ filters: Filter[] }>; properties: string[]; limit: number }): FakeReply {
    const records = this.records[type];
    if (!records) return { status: 404, body: { status: 'error', message: `Unable to infer object type from: ${type}`, category: 'OBJECT_NOT_FOUND' } };
    const matches = (r: HubSpotRecord, f: Filter) => {
      const value = r.properties[String(f.propertyName)];
      return f.operator === 'IN' ? (f.values as string[]).includes(value ?? '') : value === f.value;
    };
    const found = records.filter((r) => body.filterGroups.some((g) => g.filters.every((f) => matches(r, f))));
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
