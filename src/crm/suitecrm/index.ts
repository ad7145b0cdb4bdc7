/**
 * SuiteCRM (crm-apis.md §7): one definition, two protocols chosen by the `apiVersion` setting.
 * - V8 JSON:API (7.10+ and 8.x, default, v8.ts): OAuth2 password grant at
 *   `{site}/Api/access_token` (7.x) or `{site}/legacy/Api/access_token` (8.x); "auto" tries 7.x
 *   first and keeps whichever answers. One `or` + `like` request per lookup on 7.12.5 and later;
 *   older servers, found out by one probe per integration, get one AND request per phone field
 *   (7.11.19+, `like`) or per phone field and written form (before, `eq` only).
 * - Legacy REST v4_1 (v4.ts): `login` with md5(password), `get_entry_list` with a SQL
 *   WHERE that strips punctuation with REPLACE and matches `LIKE '%{last digits}%'`.
 * protocol.ts holds what both speak through, settings.ts the settings; this file the re-check and the pick rule.
 *
 * Several matches: the most recently modified (date_modified), then, within the same minute
 * (V8 rounds it), the place in the server's answer sorted newest first on the full-precision
 * column, then the lowest id. Sign-in failures are AUTH, including SuiteCRM 7's HTTP 500 for an
 * unknown user, a wrong password or an unknown client id (its text, which holds the password,
 * is never shown). Modules: only those a lookup can search (phone columns known) are offered.
 */
import { isSamePhone, phoneVariants } from '../../domain/phone';
import { regionField } from '../shared/common-settings';
import { runConnectionTest, sampleRequest } from '../shared/connection-test';
import type { LookupRequest, LookupResult } from '../connector';
import { CrmError } from '../shared/crm-error';
import { fieldValueToText } from '../shared/field-value';
import type { ConnectorServices, CrmDefinition, CrmField, Credentials, IntegrationConnector, TestReport } from '../integration';
import { pickMostRecent } from '../shared/record-pick';
import { requiredCredentials, sessionKey } from '../shared/session-key';
import type { CachedToken } from '../shared/token-cache';
import { lookupResult, withSession } from '../shared/vendor-call';
import { SUITECRM, SUITECRM_PHONE_FIELDS, type SuiteCrmProtocol } from './protocol';
import { suitecrmSchema, type SuiteCrmSettings } from './settings';
import { SuiteCrmV4Protocol } from './v4';
import { SUITECRM_USER_ID } from './owners';
import { OWNER_READ, OwnerEmailCache, type OwnerEmailResult } from '../owner-lookup';
import { SuiteCrmV8Protocol } from './v8';


class SuiteCrmConnector<S extends CachedToken> implements IntegrationConnector {
  private readonly owners = new OwnerEmailCache(SUITECRM);

  constructor(private readonly settings: SuiteCrmSettings, private readonly services: ConnectorServices, private readonly protocol: SuiteCrmProtocol<S>) {}

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(SUITECRM, signal, () => this.find(request, signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(SUITECRM, signal, async () => {
      const result = await this.find(sampleRequest('Contacts', 'id', credentials), signal);
      return `Signed in to SuiteCRM and searched Contacts for a sample number (${result.kind === 'value' ? 'a record matched' : 'no match, as expected'}); lookups use ${await this.protocol.describe()}.`;
    });
  }

  async listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    const modules = await this.withSession(credentials, signal, Date.now() + 10_000, (session) => this.protocol.listModules(session, signal));
    // Only modules whose phone columns are known can be a rule's module.
    return modules.filter((module) => module in SUITECRM_PHONE_FIELDS);
  }

  async listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    const name = checkModule(module);
    return this.withSession(credentials, signal, Date.now() + 10_000, (session) => this.protocol.listFields(session, name, signal));
  }

  /** The e-mail of the user an assigned_user_id names (owners.ts). */
  ownerEmail(ownerId: string, credentials: Credentials, signal: AbortSignal): Promise<OwnerEmailResult> {
    return this.owners.get(ownerId, SUITECRM_USER_ID, signal, (id) =>
      this.withSession(credentials, signal, Date.now() + OWNER_READ.timeoutMs, (session) => this.protocol.ownerEmail(session, id, signal)));
  }

  private async find(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const phone = phoneVariants(request.callerId, this.settings.region);
    if (phone.national.length < 5) return { kind: 'not_found' };
    const module = checkModule(request.module || 'Contacts');
    const field = checkName(request.fieldName, 'field');
    const phoneFields = SUITECRM_PHONE_FIELDS[module]!;
    return this.withSession(request.credentials, signal, request.deadlineAt, async (session) => {
      const records = await this.protocol.search(session, { module, field, phoneFields, phone, signal });
      const matches = records.filter((record) => phoneFields.some((name) => typeof record[name] === 'string' && isSamePhone(record[name], phone)));
      const best = pickMostRecent(matches.map((record) => ({ record, modifiedAt: modified(record.date_modified), rank: Number(record.rank), id: String(record.id) })));
      if (!best) return { kind: 'not_found' };
      return { kind: 'value', value: fieldValueToText(best.record[field]), matches: matches.length };
    });
  }

  private async withSession<R>(credentials: Credentials, signal: AbortSignal, deadlineAt: number, attempt: (session: S) => Promise<R>): Promise<R> {
    const creds = requiredCredentials(credentials, this.settings, "SuiteCRM needs a user name and password: set them on the rule or as the integration's defaults.");
    const key = sessionKey('suitecrm', this.settings.site, [this.settings.apiVersion, this.settings.clientId], [creds.username, creds.password, this.settings.clientSecret]);
    return withSession({ tokens: this.services.tokens, key, login: (_previous, loginSignal) => this.protocol.login(creds, loginSignal), signal, deadlineAt }, attempt);
  }
}

export function checkName(name: string, what: 'module' | 'field'): string {
  const trimmed = name.trim();
  if (/^[A-Za-z0-9_]{1,64}$/.test(trimmed)) return trimmed;
  throw new CrmError('CONFIG', `"${name}" is not a SuiteCRM ${what} name (letters, digits and underscores only).`);
}

function checkModule(module: string): string {
  const name = checkName(module, 'module');
  if (!(name in SUITECRM_PHONE_FIELDS)) throw new CrmError('CONFIG', `SuiteCRM module "${name}" cannot be searched by phone here: use ${Object.keys(SUITECRM_PHONE_FIELDS).join(', ')}.`);
  return name;
}

function modified(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value.includes('T') ? value : value.replace(' ', 'T')) : NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

export const suitecrmDefinition: CrmDefinition<SuiteCrmSettings> = {
  kind: 'suitecrm',
  label: 'SuiteCRM',
  credentialsHelp: 'Username: the SuiteCRM user name. Password: that user\'s password (V8 also uses the OAuth2 client set on the integration).',
  modules: ['Contacts', 'Leads', 'Accounts', 'Prospects'],
  fields: [
    { name: 'site', label: 'SuiteCRM address', help: 'The address you log in at, e.g. https://crm.example.com.', type: 'url', secret: false, required: true, placeholder: 'https://crm.example.com' },
    { name: 'apiVersion', label: 'API', help: 'V8 for SuiteCRM 7.10 and later (needs an OAuth2 client); v4_1 for older 7.x sites.', type: 'select', secret: false, required: true, defaultValue: 'v8', options: [{ value: 'v8', label: 'V8 (JSON:API)' }, { value: 'v4_1', label: 'Legacy REST v4_1' }] },
    { name: 'apiPath', label: 'V8 API location', help: 'Api for SuiteCRM 7.x, legacy/Api for 8.x; auto tries both.', type: 'select', secret: false, required: false, defaultValue: 'auto', options: [{ value: 'auto', label: 'Auto' }, { value: 'Api', label: 'Api (7.x)' }, { value: 'legacy/Api', label: 'legacy/Api (8.x)' }] },
    { name: 'clientId', label: 'OAuth2 client id', help: 'V8 only: the id of a password-grant client from Admin > OAuth2 Clients and Tokens.', type: 'text', secret: false, required: false },
    { name: 'clientSecret', label: 'OAuth2 client secret', help: 'V8 only: that client\'s secret.', type: 'secret', secret: true, required: false },
    { name: 'username', label: 'Default user name', help: 'Used when a rule leaves CRM Username empty.', type: 'text', secret: false, required: false },
    { name: 'password', label: 'Default password', help: 'Used when a rule leaves CRM Password empty.', type: 'secret', secret: true, required: false },
    regionField,
  ],
  schema: suitecrmSchema,
  create: (settings, services) =>
    settings.apiVersion === 'v4_1'
      ? new SuiteCrmConnector(settings, services, new SuiteCrmV4Protocol(settings.site, services.http))
      : new SuiteCrmConnector(settings, services, new SuiteCrmV8Protocol(settings, services.http)),
};
