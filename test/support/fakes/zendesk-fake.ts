/**
 * A fake Zendesk Support account: search.json (users by phone, with the leading-* form Zendesk
 * documents for callers), organizations/{id}, user_fields and organization_fields (paginated by
 * next_page). Authentication is Basic `{email}/token:{api_token}` or an OAuth Bearer token.
 * Requests outside the documented shapes are answered 400 and written to `violations`.
 * The phone search matches loosely (digits contained), as a wildcard search would.
 */
import type { FakeReply, RecordedRequest } from '../fake-https';
import { VendorFake } from './vendor-fake';

export type ZendeskUser = { id: number; phone: string | null; updated_at: string; organization_id?: number | null; user_fields?: Record<string, unknown> } & Record<string, unknown>;
export type ZendeskOrganization = { id: number; organization_fields?: Record<string, unknown> } & Record<string, unknown>;

export class ZendeskFake extends VendorFake {
  email = 'agent@acme.test';
  apiToken = 'tok3n/with+chars';
  oauthToken = 'oauth-abc';
  users: ZendeskUser[] = [];
  organizations: ZendeskOrganization[] = [];
  userFields = [{ id: 1, key: 'tier', title: 'Support tier', type: 'dropdown', active: true }, { id: 2, key: 'account_no', title: 'Account number', type: 'text', active: true }];
  organizationFields = [{ id: 3, key: 'region_code', title: 'Region code', type: 'text', active: true }];
  readonly counts = { searches: 0, unauthenticated: 0 };

  static start(): Promise<ZendeskFake> {
    return VendorFake.serve((server) => new ZendeskFake(server));
  }

  protected handle(req: RecordedRequest): FakeReply {
    if (req.method !== 'GET') return this.violation(`${req.method} ${req.path}: the connector only reads`, 405);
    if (!this.authenticated(req)) {
      this.counts.unauthenticated += 1;
      return { status: 401, body: { error: "Couldn't authenticate you" } };
    }
    if (req.path === '/api/v2/search.json') return this.search(req);
    const org = /^\/api\/v2\/organizations\/(\d+)$/.exec(req.path);
    if (org) return this.organization(req, Number(org[1]));
    if (req.path === '/api/v2/user_fields') return this.fieldPage(req, 'user_fields', this.userFields);
    if (req.path === '/api/v2/organization_fields') return this.fieldPage(req, 'organization_fields', this.organizationFields);
    return { status: 404, body: { error: 'InvalidEndpoint', description: 'Not found' } };
  }

  private authenticated(req: RecordedRequest): boolean {
    const header = String(req.headers.authorization ?? '');
    if (header === `Bearer ${this.oauthToken}`) return true;
    if (!header.startsWith('Basic ')) return false;
    return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${this.email}/token:${this.apiToken}`;
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
    this.violations.push(message);
    return { status, body: { error: 'InvalidRequest', description: message } };
  }
}
