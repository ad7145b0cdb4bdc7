/**
 * Zendesk Support (crm-apis.md §9, §13). Sign-in (sign-in.ts): OAuth by default, with the
 * client credentials grant or, after "Connect" (connect.ts), an agent's rotating refresh token;
 * Basic `{agent email}/token:{API token}` only as the legacy choice (API tokens stop working on
 * 2027-04-30), or when a rule gives its own CRM Username / CRM Password. The token is held in the
 * TokenCache so withSession applies the shared 401 / 429 discipline.
 *
 * Lookup: `search.json?query=type:user phone:*{national digits}`, the form Zendesk documents for
 * callers: digits only, and the leading `*` matches any stored formatting. Every returned number
 * is re-checked here.
 * Modules: `users` (default) reads the field from the user: standard attributes at the root,
 * custom fields under `user_fields` (`user_fields.{key}` or the bare key). `organizations` reads it
 * from the user's organization (root, or `organization_fields`); a user without one gives ''.
 *
 * Several matches: the most recently updated user (updated_at), then the lowest id.
 * Zendesk Sell (a separate product and API, api.getbase.com) is out of scope.
 */
import { z } from 'zod';
import { isSamePhone, phoneVariants } from '../../domain/phone';
import { runConnectionTest, sampleRequest } from '../shared/connection-test';
import type { LookupRequest, LookupResult } from '../connector';
import { withCallLog } from '../shared/call-log-result';
import { CrmError } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { pickMostRecent } from '../shared/record-pick';
import { lookupResult, requestJson, withSession, type JsonResponse } from '../shared/vendor-call';
import { ZendeskCallLog } from './call-log';
import { zendeskConnect } from './connect';
import { API_TOKENS_END, zendeskBaseUrl, zendeskFields, zendeskSchema, type ZendeskSettings } from './settings';
import { zendeskSignIn, type ZendeskAuth } from './sign-in';

export { zendeskBaseUrl, zendeskSchema, zendeskSignsInAlone, type ZendeskSettings } from './settings';

const WHAT = 'Zendesk';
const META_LIMITS = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };
const MODULES = ['users', 'organizations'] as const;
type ZendeskModule = (typeof MODULES)[number];

const USER_ATTRIBUTES = ['id', 'name', 'email', 'phone', 'role', 'organization_id', 'external_id', 'alias', 'details', 'notes', 'tags', 'time_zone', 'locale', 'verified', 'suspended', 'active', 'shared_phone_number', 'default_group_id', 'custom_role_id', 'created_at', 'updated_at', 'last_login_at'];
const ORGANIZATION_ATTRIBUTES = ['id', 'name', 'external_id', 'details', 'notes', 'domain_names', 'group_id', 'shared_tickets', 'shared_comments', 'tags', 'created_at', 'updated_at'];

const userSchema = z.looseObject({ id: z.number(), phone: z.string().nullable().optional(), organization_id: z.number().nullable().optional(), updated_at: z.string().nullable().optional(), user_fields: z.record(z.string(), z.unknown()).nullable().optional() });
const searchSchema = z.object({ results: z.array(z.looseObject({ result_type: z.string().optional() })).default([]) });
const organizationSchema = z.object({ organization: z.looseObject({ organization_fields: z.record(z.string(), z.unknown()).nullable().optional() }) });
const fieldListSchema = z.object({ next_page: z.string().nullable().optional() }).catchall(z.unknown());
const customFieldSchema = z.object({ key: z.string(), title: z.string().optional(), type: z.string().optional() });

export class ZendeskConnector implements IntegrationConnector {
  readonly baseUrl: string;

  constructor(private readonly settings: ZendeskSettings, private readonly services: ConnectorServices) {
    this.baseUrl = zendeskBaseUrl(settings.subdomain)!;
  }

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(WHAT, signal, async () => {
      const result = await this.find(sampleRequest('users', 'id', credentials), signal);
      return `Authenticated with Zendesk and searched users for a sample number (${result.kind === 'value' ? 'a user matched' : 'no match, as expected'}).`;
    });
  }

  /** Zendesk Support has no module metadata: users, or the user's organization. */
  async listModules(): Promise<string[]> {
    return [...MODULES];
  }

  async listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const kind = checkModule(module);
    const [path, listKey, prefix, standard] = kind === 'users'
      ? ['user_fields', 'user_fields', 'user_fields', USER_ATTRIBUTES]
      : ['organization_fields', 'organization_fields', 'organization_fields', ORGANIZATION_ATTRIBUTES];
    const custom = await this.withAuth(credentials, signal, Date.now() + 10_000, async (auth) => {
      const fields: CrmField[] = [];
      let url: string | undefined = `${this.baseUrl}/api/v2/${path}`;
      // Follow next_page, only on the same account, for at most 10 pages of 100.
      for (let page = 0; url && page < 10; page += 1) {
        const res: JsonResponse<z.infer<typeof fieldListSchema>> = await requestJson(this.services.http, { method: 'GET', url, headers: { authorization: auth.authorization }, signal, what: WHAT, ...META_LIMITS }, { schema: fieldListSchema });
        const items = z.array(customFieldSchema).safeParse(res.body?.[listKey]);
        if (!items.success) throw new CrmError('BAD_RESPONSE', `${WHAT} answered ${path} without a ${listKey} list.`);
        fields.push(...items.data.map((f) => ({ name: `${prefix}.${f.key}`, label: f.title ?? f.key, type: f.type ?? 'custom' })));
        const next: string | null | undefined = res.body?.next_page;
        url = next && new URL(next).origin === this.baseUrl ? next : undefined;
      }
      return fields;
    });
    return [...standard.map((name) => ({ name, label: name, type: 'standard' })), ...custom];
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national.length < 5) return { kind: 'not_found' };
    const module = checkModule(request.module || 'users');
    const fieldName = checkFieldName(request.fieldName);
    return this.withAuth(request.credentials, signal, request.deadlineAt, async (auth) => {
      const user = await this.findUser(auth, phone.national, (stored) => isSamePhone(stored, phone), signal);
      if (!user) return { kind: 'not_found' };
      if (module === 'users') return { kind: 'value', value: readField(user.record, fieldName, 'user_fields'), matches: user.matches };
      if (typeof user.record.organization_id !== 'number') return { kind: 'value', value: '', matches: user.matches };
      const org = await requestJson(this.services.http, { method: 'GET', url: `${this.baseUrl}/api/v2/organizations/${user.record.organization_id}`, headers: { authorization: auth.authorization }, signal, what: WHAT }, { schema: organizationSchema });
      return { kind: 'value', value: readField(org.body!.organization, fieldName, 'organization_fields'), matches: user.matches };
    });
  }

  /** The users the phone search returns, re-checked; the most recently updated wins (the lookup's, and the call log's caller). */
  async findUser(auth: ZendeskAuth, digits: string, sameCaller: (stored: string) => boolean, signal: AbortSignal, limits: { timeoutMs?: number } = {}) {
    const query = new URLSearchParams({ query: `type:user phone:*${digits.replace(/\D/g, '')}` });
    const res = await requestJson(this.services.http, { method: 'GET', url: `${this.baseUrl}/api/v2/search.json?${query}`, headers: { authorization: auth.authorization }, signal, what: WHAT, ...limits }, { schema: searchSchema });
    const users = (res.body?.results ?? [])
      .filter((item) => item.result_type === 'user')
      .map((item) => userSchema.safeParse(item))
      .flatMap((parsed) => (parsed.success ? [parsed.data] : []))
      .filter((user) => typeof user.phone === 'string' && sameCaller(user.phone));
    // Ids are numbers: padded, their text order is their number order.
    const best = pickMostRecent(users.map((user) => ({ record: user, modifiedAt: time(user.updated_at), id: String(user.id).padStart(20, '0') })));
    return best && { record: best.record, matches: users.length };
  }

  /** Runs `attempt` signed in (the shared 401 / 429 discipline); also the call log's sign-in. */
  withAuth<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (auth: ZendeskAuth) => Promise<R>): Promise<R> {
    const { key, login, durable } = zendeskSignIn(this.settings, this.baseUrl, credentials, this.services);
    return withSession({ tokens: this.services.tokens, key, login, signal, deadlineAt, durable }, attempt);
  }
}

/** Root attribute, `{container}.{key}`, or a bare custom field key. */
function readField(record: Record<string, unknown>, name: string, container: 'user_fields' | 'organization_fields'): string {
  const custom = (record[container] ?? {}) as Record<string, unknown>;
  if (name.startsWith(`${container}.`)) return fieldValueToText(custom[name.slice(container.length + 1)]);
  if (Object.hasOwn(record, name)) return fieldValueToText(record[name]);
  if (Object.hasOwn(custom, name)) return fieldValueToText(custom[name]);
  throw new CrmError('CONFIG', `Zendesk has no field "${name}" here: use a standard attribute (e.g. name, role) or a custom field key (${container}.{key}).`);
}

function checkModule(module: string): ZendeskModule {
  const name = module.trim().toLowerCase();
  if ((MODULES as readonly string[]).includes(name)) return name as ZendeskModule;
  throw new CrmError('CONFIG', `Zendesk module "${module}" is not supported: use users or organizations.`);
}

function checkFieldName(name: string): string {
  if (/^[A-Za-z0-9_.-]{1,100}$/.test(name.trim())) return name.trim();
  throw new CrmError('CONFIG', `"${name}" is not a Zendesk field name or key.`);
}

function time(value: string | null | undefined): number {
  const ms = value ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

export const zendeskDefinition: CrmDefinition<ZendeskSettings> = {
  kind: 'zendesk',
  label: 'Zendesk',
  credentialsHelp: `Username / Password: normally empty (the integration's OAuth sign-in is used). Legacy, until ${API_TOKENS_END}: an agent's email address and a Zendesk API token.`,
  modules: [...MODULES],
  fields: zendeskFields,
  schema: zendeskSchema,
  create: (settings, services) => {
    const connector = new ZendeskConnector(settings, services);
    return withCallLog(connector, new ZendeskCallLog(connector, settings, services));
  },
  connect: zendeskConnect,
};
