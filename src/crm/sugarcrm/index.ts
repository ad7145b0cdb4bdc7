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
 * `GET {base}/metadata?type_filter=module_list`.
 */
import { z } from 'zod';
import type { LookupRequest, LookupResult } from '../connector';
import { CrmError } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { ConnectorServices, Credentials, CrmDefinition, CrmField, IntegrationConnector, SettingField } from '../integration';
import { regionField, regionSchema } from '../shared/common-settings';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import { isSamePhone, phoneVariants, type CountryCode } from '../../domain/phone';
import { phoneSearchTerms } from '../shared/phone-search-terms';
import { pickMostRecent } from '../shared/record-pick';
import { requiredCredentials, sessionKey } from '../shared/session-key';
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
  { name: 'apiVersion', label: 'REST API version', help: 'The REST version your Sugar serves, e.g. v11_20 (Sugar 12/13) or v10 for older releases.', type: 'text', secret: false, required: true, defaultValue: 'v11_20' },
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
  apiVersion: z.string().trim().default('v11_20').refine((v) => /^v1[01](_\d+)?$/.test(v), 'Enter a REST version such as v11_20 or v10.'),
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
  private readonly base: string;
  private readonly session: SugarSession;

  constructor(private readonly settings: SugarSettings, private readonly services: ConnectorServices) {
    this.base = `${settings.siteUrl}/rest/${settings.apiVersion}`;
    this.session = new SugarSession(services.http, { base: this.base, platform: settings.platform, clientId: settings.clientId, clientSecret: settings.clientSecret });
  }

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(WHAT, signal, () => this.find(request, signal));
  }

  async testConnection(credentials: Credentials, signal: AbortSignal) {
    return runConnectionTest(WHAT, signal, async () => {
      const result = await this.find(sampleRequest('Contacts', 'id', credentials), signal);
      return `Signed in to SugarCRM (${this.settings.apiVersion}, platform ${this.settings.platform}) and searched Contacts: ${sampleOutcome(result)}.`;
    });
  }

  async listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    const body = await this.metadata({ type_filter: 'module_list' }, credentials, signal);
    const list = (body as { module_list?: unknown }).module_list;
    const names = Array.isArray(list) ? list : list && typeof list === 'object' ? Object.keys(list) : [];
    return names.filter((n): n is string => typeof n === 'string' && n !== '_hash').sort();
  }

  async listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    checkName(module, 'module');
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
    const phoneFields = this.settings.phoneFields.length > 0 ? this.settings.phoneFields : SUGAR_PHONE_FIELDS[module];
    if (!phoneFields) throw new CrmError('CONFIG', `SugarCRM module ${module} has no known phone fields: list them in the integration's "Phone fields" setting.`);
    const body = {
      filter: [{ $or: phoneFields.flatMap((f) => terms.map((term) => ({ [f]: { $contains: term } }))) }],
      fields: [...new Set(['id', 'date_modified', request.fieldName, ...phoneFields])].join(','),
      max_num: MAX_RECORDS,
      order_by: 'date_modified:DESC',
    };
    const credentials = this.credentialsFor(request.credentials);
    const res = await withSession(
      { tokens: this.services.tokens, key: this.key(credentials), login: this.session.fetcher(credentials), signal, deadlineAt: request.deadlineAt },
      (token: SugarToken) => requestJson(this.services.http, {
        method: 'POST', url: `${this.base}/${module}/filter`, signal, what: WHAT,
        headers: { 'OAuth-Token': token.accessToken, 'content-type': 'application/json' }, body: JSON.stringify(body),
      }, { schema: recordsSchema }),
    );
    const matches = (res.body?.records ?? []).filter((r) => phoneFields.some((f) => typeof r[f] === 'string' && isSamePhone(r[f] as string, phone)));
    const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: Date.parse(String(record.date_modified ?? '')), id: String(record.id ?? '') })));
    if (!best) return { kind: 'not_found' };
    return { kind: 'value', value: fieldValueToText(best.record[request.fieldName]), matches: matches.length };
  }

  private async metadata(query: Record<string, string>, credentials: Credentials, signal: AbortSignal): Promise<unknown> {
    const effective = this.credentialsFor(credentials);
    const url = `${this.base}/metadata?${new URLSearchParams(query).toString()}`;
    const res = await withSession(
      { tokens: this.services.tokens, key: this.key(effective), login: this.session.fetcher(effective), signal, deadlineAt: Date.now() + METADATA_TIMEOUT_MS },
      (token: SugarToken) => requestJson(this.services.http, { method: 'GET', url, signal, what: WHAT, headers: { 'OAuth-Token': token.accessToken }, timeoutMs: METADATA_TIMEOUT_MS, maxBodyBytes: METADATA_MAX_BYTES }),
    );
    if (!res.body || typeof res.body !== 'object') throw new CrmError('BAD_RESPONSE', 'SugarCRM sent empty metadata.');
    return res.body;
  }

  private credentialsFor(rule: Credentials): Credentials {
    return requiredCredentials(rule, this.settings, 'SugarCRM needs a username and password: enter them on the Integration page or in the rule.');
  }

  private key(credentials: Credentials): string {
    return sessionKey('sugarcrm', this.base, [this.settings.platform, this.settings.clientId], [credentials.username, credentials.password, this.settings.clientSecret]);
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
