/**
 * Pipedrive's v2 search, list and field-metadata endpoints (client-nodejs v2: persons-api,
 * person-fields-api, organization-fields-api), as documented, on one HTTPS
 * server standing in for https://{company}.pipedrive.com. The API token must arrive in the
 * x-api-token header (never the query). Search matches the term anywhere in a phone's digits,
 * as a substring search does; custom fields are keyed by 40-character hashes. Every request is
 * checked exactly; a mismatch is answered 400 and kept in `violations`.
 */
import type { FakeReply, RecordedRequest } from '../fake-https';
import { ScriptedReplies, VendorFake } from './vendor-fake';

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

export class PipedriveFake extends VendorFake {
  readonly tokens = new Set(['pd-token-good']);
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
  private readonly scripted = new ScriptedReplies();

  static start(): Promise<PipedriveFake> {
    return VendorFake.serve((server) => new PipedriveFake(server));
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  script(when: (req: RecordedRequest) => boolean, reply: FakeReply): void {
    this.scripted.add(when, reply);
  }

  protected handle(req: RecordedRequest): FakeReply {
    const problem = this.check(req);
    if (problem) {
      this.violations.push(`${req.method} ${req.path}?${req.query}: ${problem}`);
      return { status: 400, body: { success: false, error: `fake Pipedrive: ${problem}`, error_info: 'Please check developers.pipedrive.com' } };
    }
    const scripted = this.scripted.take(req);
    if (scripted) return scripted;
    if (!this.tokens.has(String(req.headers['x-api-token']))) return { status: 401, body: { success: false, error: 'unauthorized access', errorCode: 401, error_info: 'Please check developers.pipedrive.com' } };
    switch (req.path) {
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
    if (req.method !== 'GET') return 'only GET is expected';
    if (req.query.has('api_token')) return 'the token belongs in the x-api-token header, not the query';
    if (req.headers.authorization !== undefined) return 'no Authorization header is expected with an API token';
    if (typeof req.headers['x-api-token'] !== 'string' || req.headers['x-api-token'] === '') return 'x-api-token header missing';
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
