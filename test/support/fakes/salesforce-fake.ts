/**
 * Salesforce as documented: a login server (`/services/oauth2/token`, username-password and
 * client-credentials flows) and a separate instance server (the `instance_url` it hands out)
 * answering SOSL `search/`, `sobjects/` and `describe`. The SOSL the connector sends is parsed
 * strictly (FIND {terms} IN PHONE FIELDS RETURNING Object(fields) LIMIT n, every reserved
 * character escaped) and run against stored records the loose way a full-text phone search may
 * match (the digits anywhere in a phone field). Every request is checked exactly; a mismatch is
 * answered 400 MALFORMED_QUERY and kept in `violations`.
 */
import { FakeHttpsServer, type FakeReply, type RecordedRequest } from '../fake-https';
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
  limit: number;
}

export class SalesforceFake {
  readonly clientId = '3MVG9fakeConsumerKey';
  readonly clientSecret = 'fake-consumer-secret';
  readonly users = new Map([['router@acme.example', 'Passw0rd!TOKEN123']]);
  readonly records: Record<string, SalesforceRecord[]> = { Contact: [], Lead: [], Account: [], Invoice__c: [] };
  readonly fields: Record<string, FieldMeta[]> = {
    Contact: [
      { name: 'Id', label: 'Contact ID', type: 'id' },
      { name: 'Name', label: 'Full Name', type: 'string' },
      { name: 'AccountId', label: 'Account ID', type: 'reference', relationshipName: 'Account' },
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
  };
  readonly violations: string[] = [];
  private readonly scripted = new ScriptedReplies();
  private readonly sessions = new Set<string>();
  private issued = 0;

  private constructor(readonly login: FakeHttpsServer, readonly instance: FakeHttpsServer) {}

  static async start(): Promise<SalesforceFake> {
    let fake: SalesforceFake | undefined;
    const login = await FakeHttpsServer.start((req) => fake!.handleLogin(req));
    const instance = await FakeHttpsServer.start((req) => fake!.handleApi(req));
    fake = new SalesforceFake(login, instance);
    return fake;
  }

  get loginRequests(): number {
    return this.login.requests.length;
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
    if (req.method !== 'POST' || req.path !== '/services/oauth2/token') return this.violation(req, 'expected POST /services/oauth2/token');
    const form = new URLSearchParams(req.body);
    const grant = form.get('grant_type');
    const fields = grant === 'password' ? ['grant_type', 'client_id', 'client_secret', 'username', 'password'] : grant === 'client_credentials' ? ['grant_type', 'client_id', 'client_secret'] : undefined;
    if (!fields) return this.violation(req, `grant_type ${grant} is neither password nor client_credentials`);
    const problem = formProblem(req, fields);
    if (problem) return this.violation(req, problem);
    const scripted = this.scripted.take(req);
    if (scripted) return scripted;
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) return { status: 400, body: { error: 'invalid_client_id', error_description: 'client identifier invalid' } };
    if (grant === 'password' && this.users.get(form.get('username') ?? '') !== form.get('password')) return { status: 400, body: { error: 'invalid_grant', error_description: 'authentication failure' } };
    this.issued += 1;
    const token = `00Dfake!session${this.issued}`;
    this.sessions.add(token);
    return { body: { access_token: token, instance_url: this.instance.url, id: `https://login.salesforce.com/id/00Dfake/005fake`, token_type: 'Bearer', issued_at: String(Date.now()), signature: 'c2lnbmF0dXJl' } };
  }

  private handleApi(req: RecordedRequest): FakeReply {
    if (req.method !== 'GET') return this.violation(req, 'only GET is expected');
    const session = bearerToken(req);
    if (session === undefined) return this.violation(req, 'Authorization must be "Bearer {session}"');
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
      return { body: { encoding: 'UTF-8', maxBatchSize: 200, sobjects: [...Object.keys(this.fields).map((name) => ({ name, searchable: true, queryable: true })), { name: 'ApexLog', searchable: false, queryable: true }] } };
    }
    const describe = new RegExp(`^${API}/sobjects/([A-Za-z0-9_]+)/describe$`).exec(req.path);
    if (describe) {
      const fields = this.fields[describe[1]!];
      return fields ? { body: { name: describe[1], fields } } : { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
    }
    return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
  }

  private search(sosl: Sosl): FakeReply {
    const meta = this.fields[sosl.object];
    if (!meta) return { status: 400, body: [{ message: `sObject type '${sosl.object}' is not supported.`, errorCode: 'INVALID_TYPE' }] };
    const unknown = sosl.fields.find((f) => !meta.some((m) => m.name.toLowerCase() === f.toLowerCase() || (m.relationshipName && f.toLowerCase().startsWith(`${m.relationshipName.toLowerCase()}.`))));
    if (unknown) return { status: 400, body: [{ message: `No such column '${unknown}' on entity '${sosl.object}'.`, errorCode: 'INVALID_FIELD' }] };
    const phones = meta.filter((m) => m.type === 'phone').map((m) => m.name);
    const found = this.records[sosl.object]!.filter((r) => phones.some((p) => sosl.terms.some((t) => String(r[p] ?? '').replace(/\D/g, '').includes(t))));
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

/** Strict parse of the SOSL the connector may send; a string is what is wrong with it. */
function parseSosl(q: string): Sosl | string {
  const match = /^FIND \{(.+)\} IN PHONE FIELDS RETURNING ([A-Za-z][A-Za-z0-9_]*)\(([^()]*)\) LIMIT (\d+)$/.exec(q);
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
  return { terms: terms.map((t) => t.replace(/\\(.)/g, '$1')), object: match[2]!, fields, limit: Number(match[4]) };
}
