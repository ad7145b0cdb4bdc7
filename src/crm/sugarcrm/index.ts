/**
 * SugarCRM (REST v10 / v11_x): the caller's record by a phone substring search, one field back.
 *
 * Auth: `POST {base}/oauth2/token` with the password grant (client "sugar", empty secret by
 * default) and a registered API platform; the access token goes in `OAuth-Token`. Tokens are
 * cached; near expiry the refresh token is used (single use: the token cache runs one refresh at
 * a time), and a refused refresh falls back to a password login. A 401 on a lookup gets one
 * fresh login, then is the answer.
 *
 * Lookup: `POST {base}/{Module}/filter` with a JSON body (chosen over the GET form's bracketed
 * query: JSON quoting is the only escaping needed, and the filter never hits URL length limits):
 *   {"filter":[{"$or":[{"phone_work":{"$contains":"123-4567"}}, ...]}],
 *    "fields":"id,date_modified,{field},phone_work,...","max_num":5,"order_by":"date_modified:DESC"}
 * Sugar stores numbers as typed and only offers $contains/$starts/$ends, so each phone field is
 * searched for the last 7 digits as typed in the usual forms (shared/phone-search-terms.ts); every
 * returned number is re-checked with isSamePhone.
 *
 * Several matches: the most recently modified record (date_modified), then the lowest id.
 *
 * Fields: `GET {base}/metadata?type_filter=modules&module_filter={Module}`; modules:
 * `GET {base}/metadata?type_filter=module_list`, narrowed to the modules whose phone fields are
 * known (or all of them when the "Phone fields" setting names them): the lookup refuses others.
 *
 * `{base}` is `{site}/rest/{version}`, the version negotiated once per integration
 * (api-version.ts): the newest Sugar documents, stepping down to what the server accepts.
 */
import { z } from 'zod';
import type { LookupRequest, LookupResult } from '../connector';
import { CrmError } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import { OWNER_READ, OwnerEmailCache, type OwnerEmailResult } from '../owner-lookup';
import { SUGAR_USER_ID, sugarUserAnswer, sugarUserEmail, sugarUserPath } from './owners';
import type { ConnectorServices, Credentials, CrmDefinition, CrmField, IntegrationConnector, SettingField } from '../integration';
import { regionField, regionSchema } from '../shared/common-settings';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import { isSamePhone, phoneVariants, type CountryCode } from '../../domain/phone';
import { phoneSearchTerms } from '../shared/phone-search-terms';
import { pickMostRecent } from '../shared/record-pick';
import { requiredCredentials, sessionKey } from '../shared/session-key';
import { NEWEST_SUGAR_API, SugarApiVersion } from './api-version';
import { SugarSession, type SugarToken } from './session';
import { lookupResult, requestJson, withSession } from '../shared/vendor-call';

const WHAT = 'SugarCRM';
const METADATA_TIMEOUT_MS = 10_000;
const METADATA_MAX_BYTES = 2 * 1024 * 1024;
const MAX_RECORDS = 5;
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Phone fields of the stock modules; other modules need the "Phone fields" setting. */
export const SUGAR_PHONE_FIELDS: Record<string, string[]> = {
  Contacts: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other'],
  Leads: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other'],
  Prospects: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other'],
  Accounts: ['phone_office', 'phone_alternate'],
};

export interface SugarSettings extends Record<string, unknown> {
  siteUrl: string;
  apiVersion: string;
  platform: string;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  phoneFields: string[];
  region: CountryCode;
}

const fields: SettingField[] = [
  { name: 'siteUrl', label: 'Sugar URL', help: 'Address of your Sugar instance, e.g. https://example.sugarondemand.com (without /rest/...).', type: 'url', secret: false, required: true, placeholder: 'https://example.sugarondemand.com' },
  {
    name: 'apiVersion', label: 'REST API version', type: 'text', secret: false, required: true, defaultValue: 'auto',
    help: `auto: start at ${NEWEST_SUGAR_API}, the newest Sugar documents, and step down to the newest your Sugar accepts (Sugar 12.0: v11_16); Test connection names it. A version such as v11_16 starts there instead.`,
  },
  {
    name: 'platform', label: 'API platform', type: 'text', secret: false, required: true, defaultValue: 'pbx_crm_routing',
    help: 'Register this name under Admin > Developer Tools > Configure API Platforms: Sugar keeps one session per user and platform, so "base" would log the user out of the web UI, and unregistered platforms are refused.',
  },
  { name: 'clientId', label: 'OAuth client ID', help: 'Leave "sugar" unless your administrator created an OAuth key for this integration (Admin > OAuth Keys).', type: 'text', secret: false, required: false, defaultValue: 'sugar' },
  { name: 'clientSecret', label: 'OAuth client secret', help: 'Empty for the built-in "sugar" client; the secret of your OAuth key otherwise.', type: 'secret', secret: true, required: false },
  { name: 'username', label: 'Default username', help: 'Sugar user the lookups sign in as, unless a rule gives its own CRM Username.', type: 'text', secret: false, required: false },
  { name: 'password', label: 'Default password', help: "That user's Sugar password, unless a rule gives its own CRM Password.", type: 'secret', secret: true, required: false },
  { name: 'phoneFields', label: 'Phone fields', help: 'Comma-separated phone fields to search in every module, e.g. phone_work, phone_mobile, cell_c. Empty: the stock phone fields of Contacts, Leads and Accounts.', type: 'text', secret: false, required: false },
  regionField,
];

const schema = z.object({
  siteUrl: z.string().trim().url('Enter the Sugar URL, starting with https://').refine((u) => u.startsWith('https://'), 'Enter the Sugar URL, starting with https://').transform((u) => u.replace(/\/+$/, '').replace(/\/rest\/v[\d_]+$/, '')),
  apiVersion: z.string().trim().default('auto').transform((v) => v || 'auto').refine((v) => v === 'auto' || /^v1[01](_\d+)?$/.test(v), 'Enter auto, or a REST version such as v11_16 or v10.'),
  platform: z.string().trim().default('pbx_crm_routing').refine((p) => /^[A-Za-z0-9_-]{1,127}$/.test(p), 'Enter a platform name of letters, digits, - and _ (e.g. pbx_crm_routing), registered in Sugar.'),
  clientId: z.string().trim().default('sugar').transform((c) => c || 'sugar'),
  clientSecret: z.string().default(''),
  username: z.string().trim().default(''),
  password: z.string().default(''),
  phoneFields: z.union([z.string(), z.array(z.string())]).default('').transform((v) => (Array.isArray(v) ? v : v.split(',')).map((f) => f.trim()).filter((f) => f !== ''))
    .refine((list) => list.every((f) => NAME.test(f)), 'Phone fields are field names such as phone_work, separated by commas.'),
  region: regionSchema,
}) as unknown as z.ZodType<SugarSettings>;

const recordsSchema = z.object({ records: z.array(z.record(z.string(), z.unknown())) });

export class SugarCrmConnector implements IntegrationConnector {
  private readonly version: SugarApiVersion;
  private readonly sessions = new Map<string, SugarSession>();
  private readonly owners = new OwnerEmailCache(WHAT);

  constructor(private readonly settings: SugarSettings, private readonly services: ConnectorServices) {
    this.version = new SugarApiVersion(services.http, settings.siteUrl, settings.apiVersion);
  }

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  async testConnection(credentials: Credentials, signal: AbortSignal) {
    return runConnectionTest(WHAT, signal, async () => {
      const result = await this.find(sampleRequest('Contacts', 'id', credentials), signal);
      const version = await this.version.resolve(signal);
      const which = version === this.version.startedAt ? `REST ${version}` : `REST ${version}, the newest this server accepts (${this.version.startedAt} refused as incorrect_version)`;
      return `Signed in to SugarCRM (${which}; platform ${this.settings.platform}) and searched Contacts: ${sampleOutcome(result)}.`;
    });
  }

  async listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    const body = await this.metadata({ type_filter: 'module_list' }, credentials, signal);
    const list = (body as { module_list?: unknown }).module_list;
    const names = Array.isArray(list) ? list : list && typeof list === 'object' ? Object.keys(list) : [];
    // Only modules the lookup can search: those with known phone fields, unless the setting names them.
    return names.filter((n): n is string => typeof n === 'string' && n !== '_hash' && this.phoneFieldsOf(n) !== undefined).sort();
  }

  async listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    checkName(module, 'module');
    this.searchableFields(module);
    const body = await this.metadata({ type_filter: 'modules', module_filter: module }, credentials, signal);
    const defs = (body as { modules?: Record<string, { fields?: Record<string, unknown> }> }).modules?.[module]?.fields;
    if (!defs) throw new CrmError('NOT_FOUND_URL', `SugarCRM has no module named ${module} (check its API name, e.g. Contacts, Accounts, Leads).`);
    return Object.entries(defs)
      .filter(([name, def]) => name !== '_hash' && def && typeof def === 'object' && (def as { type?: unknown }).type !== 'link')
      .map(([name, def]) => {
        const d = def as { name?: unknown; type?: unknown; vname?: unknown };
        return { name: typeof d.name === 'string' ? d.name : name, label: typeof d.vname === 'string' ? d.vname : name, type: typeof d.type === 'string' ? d.type : 'unknown' };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    const terms = phoneSearchTerms(phone);
    if (terms.length === 0) return { kind: 'not_found' };
    const module = request.module.trim() || 'Contacts';
    checkName(module, 'module');
    checkName(request.fieldName, 'field');
    const phoneFields = this.searchableFields(module);
    const body = {
      filter: [{ $or: phoneFields.flatMap((f) => terms.map((term) => ({ [f]: { $contains: term } }))) }],
      fields: [...new Set(['id', 'date_modified', request.fieldName, ...phoneFields])].join(','),
      max_num: MAX_RECORDS,
      order_by: 'date_modified:DESC',
    };
    const credentials = this.credentialsFor(request.credentials);
    const base = await this.base(signal);
    const res = await withSession(
      { tokens: this.services.tokens, key: this.key(base, credentials), login: this.session(base).fetcher(credentials), signal, deadlineAt: request.deadlineAt, durable: true },
      (token: SugarToken) => requestJson(this.services.http, {
        method: 'POST', url: `${base}/${module}/filter`, signal, what: WHAT,
        headers: { 'OAuth-Token': token.accessToken, 'content-type': 'application/json' }, body: JSON.stringify(body),
      }, { schema: recordsSchema }),
    );
    const matches = (res.body?.records ?? []).filter((r) => phoneFields.some((f) => typeof r[f] === 'string' && isSamePhone(r[f] as string, phone)));
    const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: Date.parse(String(record.date_modified ?? '')), id: String(record.id ?? '') })));
    if (!best) return { kind: 'not_found' };
    return { kind: 'value', value: fieldValueToText(best.record[request.fieldName]), matches: matches.length };
  }

  /** The e-mail of the user an assigned_user_id names (owners.ts); 404 is a user Sugar does not know. */
  ownerEmail(ownerId: string, credentials: Credentials, signal: AbortSignal): Promise<OwnerEmailResult> {
    return this.owners.get(ownerId, SUGAR_USER_ID, signal, async (id) => {
      const effective = this.credentialsFor(credentials);
      const base = await this.base(signal);
      const res = await withSession(
        { tokens: this.services.tokens, key: this.key(base, effective), login: this.session(base).fetcher(effective), signal, deadlineAt: Date.now() + OWNER_READ.timeoutMs, durable: true },
        (token: SugarToken) => requestJson(this.services.http, { method: 'GET', url: sugarUserPath(base, id), signal, what: WHAT, headers: { 'OAuth-Token': token.accessToken }, ...OWNER_READ }, { schema: sugarUserAnswer, accept: [404] }),
      );
      return res.status === 404 ? null : sugarUserEmail(res.body);
    });
  }

  private async metadata(query: Record<string, string>, credentials: Credentials, signal: AbortSignal): Promise<unknown> {
    const effective = this.credentialsFor(credentials);
    const base = await this.base(signal);
    const url = `${base}/metadata?${new URLSearchParams(query).toString()}`;
    const res = await withSession(
      { tokens: this.services.tokens, key: this.key(base, effective), login: this.session(base).fetcher(effective), signal, deadlineAt: Date.now() + METADATA_TIMEOUT_MS, durable: true },
      (token: SugarToken) => requestJson(this.services.http, { method: 'GET', url, signal, what: WHAT, headers: { 'OAuth-Token': token.accessToken }, timeoutMs: METADATA_TIMEOUT_MS, maxBodyBytes: METADATA_MAX_BYTES }),
    );
    if (!res.body || typeof res.body !== 'object') throw new CrmError('BAD_RESPONSE', 'SugarCRM sent empty metadata.');
    return res.body;
  }

  private credentialsFor(rule: Credentials): Credentials {
    return requiredCredentials(rule, this.settings, 'SugarCRM needs a username and password: enter them on the Integration page or in the rule.');
  }

  private key(base: string, credentials: Credentials): string {
    return sessionKey('sugarcrm', base, [this.settings.platform, this.settings.clientId], [credentials.username, credentials.password, this.settings.clientSecret]);
  }

  /** `{site}/rest/{version}` with the version this Sugar accepts. */
  private async base(signal: AbortSignal): Promise<string> {
    return `${this.settings.siteUrl}/rest/${await this.version.resolve(signal)}`;
  }

  private session(base: string): SugarSession {
    let session = this.sessions.get(base);
    if (!session) {
      session = new SugarSession(this.services.http, { base, platform: this.settings.platform, clientId: this.settings.clientId, clientSecret: this.settings.clientSecret });
      this.sessions.set(base, session);
    }
    return session;
  }

  private phoneFieldsOf(module: string): string[] | undefined {
    return this.settings.phoneFields.length > 0 ? this.settings.phoneFields : SUGAR_PHONE_FIELDS[module];
  }

  /** The module's phone fields, or CONFIG: a module the lookup cannot search is refused everywhere. */
  private searchableFields(module: string): string[] {
    const phoneFields = this.phoneFieldsOf(module);
    if (!phoneFields) throw new CrmError('CONFIG', `SugarCRM module ${module} has no known phone fields, so a lookup cannot search it: use ${Object.keys(SUGAR_PHONE_FIELDS).join(', ')}, or list its phone fields in the integration's "Phone fields" setting.`);
    return phoneFields;
  }
}

function checkName(name: string, what: 'module' | 'field'): void {
  if (!NAME.test(name)) throw new CrmError('CONFIG', `"${name}" is not a SugarCRM ${what} API name (letters, digits and _ only${what === 'module' ? ', e.g. Contacts' : ', e.g. account_name'}).`);
}

export const sugarcrmDefinition: CrmDefinition<SugarSettings> = {
  kind: 'sugarcrm',
  label: 'SugarCRM',
  credentialsHelp: 'Username and Password: a Sugar user\'s login (the lookups see what that user may see).',
  modules: ['Contacts', 'Accounts', 'Leads'],
  fields,
  schema,
  create: (settings, services) => new SugarCrmConnector(settings, services),
};
