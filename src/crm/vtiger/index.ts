/**
 * Vtiger CRM, open-source webservice.php (crm-apis.md §8). Sign-in: `getchallenge` gives a
 * short-lived token; `login` posts md5(token + access key) and answers a sessionName, cached and
 * reused. The access key is the user's (My Preferences), not the login password. Vtiger reports
 * failures inside HTTP 200 as `{"success":false,"error":{"code"}}`: session and credential codes
 * become AUTH (so withSession signs in once more), ACCESS_DENIED becomes FORBIDDEN.
 *
 * Lookup: one VTQL `query` over the module's phone columns with LIKE. Phones are stored as typed,
 * so a plain `LIKE '%5551234567'` misses "(555) 123-4567"; the last digits are joined with `%`
 * ('%5%5%5%1%2%3%4%5%6%7%'), which matches any punctuation between them and an extension after.
 * Only digits and `%` are ever put in the literal (quoted anyway), and module and field names are
 * checked before they reach the statement. Every number returned is re-checked here.
 *
 * The query is limited (`LIMIT 0,10`), so it sorts `ORDER BY modifiedtime DESC` first: without
 * it Vtiger returns the ten oldest rows, and with more than ten records sharing a number an old
 * record would route the call. Several matches: the most recent modifiedtime, then the lowest id.
 *
 * Sign-in: an unknown user name is `ACCESS_DENIED` "username does not exists" from getchallenge
 * (vtws_getchallenge), reported as a sign-in error (AUTH), not as a permission on a module.
 * The field picker offers, and lists the fields of, only the modules the lookup searches.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isSamePhone, phoneVariants } from '../../domain/phone';
import { regionField, regionSchema } from '../shared/common-settings';
import { runConnectionTest, sampleRequest } from '../shared/connection-test';
import type { LookupRequest, LookupResult } from '../connector';
import { CrmError } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { HttpRequest } from '../shared/http-client';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { pickMostRecent } from '../shared/record-pick';
import { sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, requestJson, withSession } from '../shared/vendor-call';
import { OWNER_READ, OwnerEmailCache, type OwnerEmailResult } from '../owner-lookup';
import { NOT_A_USER, VTIGER_USER_ID, vtigerUserAnswer, vtigerUserEmail } from './owners';

const WHAT = 'Vtiger CRM';
/** Phone columns per module [U on custom layouts]; other modules are refused with a clear message. */
const PHONE_FIELDS: Record<string, string[]> = {
  Contacts: ['phone', 'mobile', 'homephone', 'otherphone'],
  Leads: ['phone', 'mobile'],
  Accounts: ['phone', 'otherphone'],
};
/** Webservice sessions end after idle time (30 min by default [U]); renew a little before. */
const SESSION_MS = 25 * 60_000;
const META_LIMITS = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };
const AUTH_CODES = new Set(['INVALID_SESSIONID', 'SESSION_EXPIRED', 'SESSION_LEFT_IDLE', 'AUTHENTICATION_REQUIRED', 'AUTHENTICATION_FAILURE', 'INVALID_AUTH_TOKEN', 'INVALID_USER_CREDENTIALS']);

export const vtigerSchema = z.object({
  url: z
    .string({ error: 'Enter the Vtiger address, starting with https://.' })
    .trim()
    .refine((value) => webserviceUrl(value) !== undefined, { message: 'Enter the Vtiger address, starting with https:// (e.g. https://crm.example.com).' }),
  username: z.string().trim().default(''),
  accessKey: z.string().trim().default(''),
  region: regionSchema,
});
export type VtigerSettings = z.infer<typeof vtigerSchema>;

/** `https://crm.example.com[/vtiger][/webservice.php]` -> the webservice.php URL. */
export function webserviceUrl(value: string): string | undefined {
  try {
    const url = new URL(value.trim());
    if (url.protocol !== 'https:' || url.search !== '' || url.username !== '' || url.password !== '') return undefined;
    const path = url.pathname.replace(/\/+$/, '').replace(/\/webservice\.php$/, '');
    return `${url.origin}${path}/webservice.php`;
  } catch {
    return undefined;
  }
}

interface VtigerSession extends CachedToken {
  sessionName: string;
}

const envelopeSchema = z.union([
  z.object({ success: z.literal(true), result: z.unknown() }),
  z.object({ success: z.literal(false), error: z.object({ code: z.string(), message: z.string().optional() }) }),
]);
const challengeSchema = z.object({ token: z.string().min(1) });
const loginSchema = z.object({ sessionName: z.string().min(1) });
const queryResultSchema = z.array(z.record(z.string(), z.unknown()));
const listTypesSchema = z.object({ types: z.array(z.string()) });
const describeSchema = z.object({ fields: z.array(z.object({ name: z.string(), label: z.string().optional(), type: z.object({ name: z.string() }).partial().optional() })) });

class VtigerConnector implements IntegrationConnector {
  private readonly endpoint: string;
  private readonly owners = new OwnerEmailCache(WHAT);

  constructor(private readonly settings: VtigerSettings, private readonly services: ConnectorServices) {
    this.endpoint = webserviceUrl(settings.url)!;
  }

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(WHAT, signal, async () => {
      const result = await this.find(sampleRequest('Contacts', 'id', credentials), signal);
      return `Signed in to Vtiger and queried Contacts for a sample number (${result.kind === 'value' ? 'a record matched' : 'no match, as expected'}).`;
    });
  }

  async listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    const types = await this.withSession(credentials, signal, Date.now() + 10_000, (session) =>
      this.call({ method: 'GET', url: this.url({ operation: 'listtypes', sessionName: session.sessionName }), signal, what: WHAT, ...META_LIMITS }, listTypesSchema));
    // Only modules whose phone columns are known can be a rule's module.
    return types.types.filter((type) => type in PHONE_FIELDS);
  }

  async listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const elementType = checkModule(module);
    const described = await this.withSession(credentials, signal, Date.now() + 10_000, (session) =>
      this.call({ method: 'GET', url: this.url({ operation: 'describe', sessionName: session.sessionName, elementType }), signal, what: WHAT, ...META_LIMITS }, describeSchema));
    return described.fields.map((f) => ({ name: f.name, label: f.label ?? f.name, type: f.type?.name ?? '' }));
  }

  /** The e-mail of the user an assigned_user_id names (owners.ts); a group or unknown id has none. */
  ownerEmail(ownerId: string, credentials: Credentials, signal: AbortSignal): Promise<OwnerEmailResult> {
    return this.owners.get(ownerId, VTIGER_USER_ID, signal, (id) => this.withSession(credentials, signal, Date.now() + OWNER_READ.timeoutMs, async (session) => {
      try {
        return vtigerUserEmail(await this.call({ method: 'GET', url: this.url({ operation: 'retrieve', sessionName: session.sessionName, id }), signal, what: WHAT, ...OWNER_READ }, vtigerUserAnswer));
      } catch (err) {
        if (err instanceof CrmError && (err.code === 'FORBIDDEN' || err.code === 'HTTP_ERROR') && NOT_A_USER.test(err.message)) return null;
        throw err;
      }
    }));
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national.length < 5) return { kind: 'not_found' };
    const module = checkModule(request.module || 'Contacts');
    const field = checkName(request.fieldName, 'field');
    const phoneFields = PHONE_FIELDS[module]!;
    const query = phoneQuery(module, field, phoneFields, phone.national);
    return this.withSession(request.credentials, signal, request.deadlineAt, async (session) => {
      const rows = await this.call({ method: 'GET', url: this.url({ operation: 'query', sessionName: session.sessionName, query }), signal, what: WHAT }, queryResultSchema);
      const matches = rows.filter((row) => phoneFields.some((name) => typeof row[name] === 'string' && isSamePhone(row[name], phone)));
      const best = pickMostRecent(matches.map((row) => ({ record: row, modifiedAt: modified(row.modifiedtime), id: String(recordNumber(row.id)).padStart(20, '0') })));
      if (!best) return { kind: 'not_found' };
      return { kind: 'value', value: fieldValueToText(best.record[field]), matches: matches.length };
    });
  }

  private withSession<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (session: VtigerSession) => Promise<R>): Promise<R> {
    const username = credentials.username.trim() || this.settings.username;
    const accessKey = credentials.password.trim() || this.settings.accessKey;
    if (!username || !accessKey) throw new CrmError('CONFIG', 'Vtiger needs a user name and that user\'s access key: set them on the rule or as the integration\'s defaults.');
    const key = sessionKey('vtiger', this.endpoint, [], [username, accessKey]);
    return withSession({ tokens: this.services.tokens, key, login: (_previous, loginSignal) => this.login(username, accessKey, loginSignal), signal, deadlineAt }, attempt);
  }

  private async login(username: string, accessKey: string, signal: AbortSignal): Promise<VtigerSession> {
    try {
      const challenge = await this.call({ method: 'GET', url: this.url({ operation: 'getchallenge', username }), signal, what: `${WHAT} sign-in` }, challengeSchema);
      const body = new URLSearchParams({ operation: 'login', username, accessKey: createHash('md5').update(challenge.token + accessKey).digest('hex') });
      const login = await this.call({ method: 'POST', url: this.endpoint, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString(), signal, what: `${WHAT} sign-in` }, loginSchema);
      return { sessionName: login.sessionName, expiresAt: Date.now() + SESSION_MS };
    } catch (err) {
      // Vtiger answers an unknown user name with ACCESS_DENIED: a sign-in error, not a missing permission.
      if (err instanceof CrmError && err.code === 'FORBIDDEN') {
        throw new CrmError('AUTH', `${WHAT} refused the sign-in (ACCESS_DENIED: ${err.details.cause ?? 'the user name is not known'}): check the user name.`);
      }
      throw err;
    }
  }

  /** One webservice call: HTTP statuses as usual, then Vtiger's own success flag and error code. */
  private async call<T>(req: HttpRequest, schema: z.ZodType<T>): Promise<T> {
    const what = req.what ?? WHAT;
    const res = await requestJson(this.services.http, req, { schema: envelopeSchema });
    const envelope = res.body;
    if (envelope === null) throw new CrmError('BAD_RESPONSE', `${what} answered with an empty body: check that the address points at Vtiger.`);
    if (!envelope.success) throw vtigerError(envelope.error.code, envelope.error.message, what);
    const result = schema.safeParse(envelope.result);
    if (!result.success) throw new CrmError('BAD_RESPONSE', `${what} answered in an unexpected shape (${result.error.issues[0]?.path.join('.') || 'result'}).`);
    return result.data;
  }

  private url(params: Record<string, string>): string {
    return `${this.endpoint}?${new URLSearchParams(params)}`;
  }
}

function vtigerError(code: string, message: string | undefined, what: string): CrmError {
  const detail = message ? `: ${message.slice(0, 200)}` : '';
  if (code === 'INVALID_USER_CREDENTIALS' || code === 'INVALID_AUTH_TOKEN') {
    return new CrmError('AUTH', `${what} rejected the user name or access key (${code}); the password is the user's Access Key from My Preferences, not the login password.`);
  }
  if (AUTH_CODES.has(code)) return new CrmError('AUTH', `${what} ended the session (${code})${detail}.`);
  if (code === 'ACCESS_DENIED') return new CrmError('FORBIDDEN', `${what} denied access (${code})${detail}: the user lacks permission for this module or field.`, { cause: message?.slice(0, 120) });
  if (code === 'QUERY_SYNTAX_ERROR') return new CrmError('CONFIG', `${what} refused the query (${code})${detail}: check the module and field names.`);
  return new CrmError('HTTP_ERROR', `${what} answered ${code}${detail}.`);
}

/** The VTQL statement; the literal holds only digits and `%`, and is quoted regardless. */
export function phoneQuery(module: string, field: string, phoneFields: string[], nationalDigits: string): string {
  const pattern = `%${nationalDigits.replace(/\D/g, '').slice(-10).split('').join('%')}%`;
  const columns = [...new Set(['id', field, 'modifiedtime', ...phoneFields])].join(',');
  const where = phoneFields.map((name) => `${name} LIKE ${sqlLiteral(pattern)}`).join(' OR ');
  return `SELECT ${columns} FROM ${module} WHERE ${where} ORDER BY modifiedtime DESC LIMIT 0,10;`;
}

function sqlLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function checkModule(module: string): string {
  const name = checkName(module, 'module');
  if (!(name in PHONE_FIELDS)) throw new CrmError('CONFIG', `Vtiger module "${name}" cannot be searched by phone here: use ${Object.keys(PHONE_FIELDS).join(', ')}.`);
  return name;
}

function checkName(name: string, what: 'module' | 'field'): string {
  const trimmed = name.trim();
  if (/^[A-Za-z0-9_]{1,64}$/.test(trimmed)) return trimmed;
  throw new CrmError('CONFIG', `"${name}" is not a Vtiger ${what} name (letters, digits and underscores only).`);
}

function modified(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value.replace(' ', 'T')) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

/** `12x345` -> 345 (padded by the caller, so text order is number order). */
function recordNumber(id: unknown): number {
  const match = typeof id === 'string' ? /x(\d+)$/.exec(id) : null;
  return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
}

export const vtigerDefinition: CrmDefinition<VtigerSettings> = {
  kind: 'vtiger',
  label: 'Vtiger CRM',
  credentialsHelp: "Username: the Vtiger user name. Password: that user's Access Key (My Preferences), not the login password.",
  modules: Object.keys(PHONE_FIELDS),
  fields: [
    { name: 'url', label: 'Vtiger address', help: 'The address you open Vtiger at, e.g. https://crm.example.com (webservice.php is added).', type: 'url', secret: false, required: true, placeholder: 'https://crm.example.com' },
    { name: 'username', label: 'Default user name', help: 'Used when a rule leaves CRM Username empty.', type: 'text', secret: false, required: false },
    { name: 'accessKey', label: 'Default access key', help: "That user's Access Key from My Preferences, used when a rule leaves CRM Password empty.", type: 'secret', secret: true, required: false },
    regionField,
  ],
  schema: vtigerSchema,
  create: (settings, services) => new VtigerConnector(settings, services),
};
