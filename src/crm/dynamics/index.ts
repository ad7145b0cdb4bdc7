/**
 * "Microsoft Dynamics 2015": one integration, two deployments (setting `deployment`).
 * - `onprem2015`: CRM 2015 on-premises, OData v2 Organization Data Service, Windows (NTLM)
 *   authentication; see crm-2015.ts.
 * - `online365`: Dynamics 365 / Dataverse Web API v9.2 with an Entra ID app (client credentials),
 *   or, after "Connect" (connect.ts), as the user who signed in (refresh token); see
 *   dynamics-365.ts.
 * Both search the entity's phone columns with a substring filter on the number's tail as
 * typed, re-check every number, and pick the most recently modified match, then the lowest id.
 * A rule's module names the entity ('Contact', 'Account', 'Lead' work in both; a custom entity
 * by its schema name on 2015, e.g. new_Customer, and its logical name on 365, e.g. new_customer).
 */
import { z } from 'zod';
import type { LookupRequest, LookupResult } from '../connector';
import { regionField, regionSchema } from '../shared/common-settings';
import { runConnectionTest, sampleOutcome, sampleRequest } from '../shared/connection-test';
import { dynamicsConnect } from './connect';
import { Dynamics2015Api } from './crm-2015';
import { Dynamics365Api } from './dynamics-365';
import { DYNAMICS_USER_ID } from './owners';
import { OwnerEmailCache, type OwnerEmailResult } from '../owner-lookup';
import { ODATA_NAME } from './odata';
import type { ConnectorServices, Credentials, CrmDefinition, CrmField, IntegrationConnector, SettingField, TestReport } from '../integration';
import { effectiveCredentials } from '../shared/session-key';
import { lookupResult } from '../shared/vendor-call';
import type { CountryCode } from '../../domain/phone';

export type DynamicsDeployment = 'onprem2015' | 'online365';

export interface DynamicsSettings extends Record<string, unknown> {
  deployment: DynamicsDeployment;
  orgUrl: string;
  username: string;
  password: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  loginHost: string;
  phoneColumns: string[];
  region: CountryCode;
}

const fields: SettingField[] = [
  {
    name: 'deployment', label: 'Deployment', type: 'select', secret: false, required: true, defaultValue: 'onprem2015',
    help: 'CRM 2015 on your own servers signs in with a Windows account; Dynamics 365 online with an Entra ID application.',
    options: [{ value: 'onprem2015', label: 'CRM 2015 on-premises (Windows authentication)' }, { value: 'online365', label: 'Dynamics 365 / Dataverse (Entra ID application)' }],
  },
  { name: 'orgUrl', label: 'Organization URL', help: 'On-premises: the organization\'s address, e.g. https://crm.contoso.local/Contoso. Dynamics 365: e.g. https://contoso.crm4.dynamics.com.', type: 'url', secret: false, required: true },
  { name: 'username', label: 'Windows user (on-premises)', help: 'DOMAIN\\user (or user@domain) of a CRM user the lookups run as, unless a rule gives its own CRM Username.', type: 'text', secret: false, required: false, placeholder: 'CONTOSO\\crm-routing' },
  { name: 'password', label: 'Windows password (on-premises)', help: "That Windows account's password, unless a rule gives its own CRM Password.", type: 'secret', secret: true, required: false },
  { name: 'tenantId', label: 'Tenant ID (Dynamics 365)', help: 'Directory (tenant) ID or domain of your Entra ID, e.g. contoso.onmicrosoft.com.', type: 'text', secret: false, required: false },
  { name: 'clientId', label: 'Application (client) ID (Dynamics 365)', help: 'The app registration whose application user exists in the environment with a role that reads contacts, accounts and leads.', type: 'text', secret: false, required: false },
  { name: 'clientSecret', label: 'Client secret (Dynamics 365)', help: "A client secret of that app registration (its value, not its ID).", type: 'secret', secret: true, required: false },
  { name: 'refreshToken', label: 'Refresh token (Dynamics 365, Connect)', help: 'Filled by Connect: lookups then run as the user who signed in instead of the application user. Empty: the application itself (client credentials).', type: 'secret', secret: true, required: false },
  { name: 'loginHost', label: 'Sign-in host (Dynamics 365)', help: 'Leave as is unless your tenant is in a national cloud (e.g. https://login.microsoftonline.us).', type: 'url', secret: false, required: false, defaultValue: 'https://login.microsoftonline.com' },
  { name: 'phoneColumns', label: 'Phone columns', help: 'Comma-separated columns to search in every entity (schema names on-premises, e.g. Telephone1, new_Phone; logical names on 365). Empty: Telephone1-3 and MobilePhone.', type: 'text', secret: false, required: false },
  regionField,
];

const httpsUrl = (message: string) => z.string().trim().url(message).refine((u) => u.startsWith('https://'), message).transform((u) => u.replace(/\/+$/, ''));

const schema = z.object({
  deployment: z.enum(['onprem2015', 'online365'], { message: 'Choose CRM 2015 on-premises or Dynamics 365.' }).default('onprem2015'),
  orgUrl: httpsUrl('Enter the organization URL, starting with https://'),
  username: z.string().trim().default(''),
  password: z.string().default(''),
  tenantId: z.string().trim().default(''),
  clientId: z.string().trim().default(''),
  clientSecret: z.string().default(''),
  refreshToken: z.string().trim().default(''),
  loginHost: httpsUrl('Enter the sign-in host, starting with https://').default('https://login.microsoftonline.com'),
  phoneColumns: z.union([z.string(), z.array(z.string())]).default('').transform((v) => (Array.isArray(v) ? v : v.split(',')).map((c) => c.trim()).filter((c) => c !== ''))
    .refine((list) => list.every((c) => ODATA_NAME.test(c)), 'Phone columns are column names such as Telephone1, separated by commas.'),
  region: regionSchema,
}).superRefine((s, ctx) => {
  if (s.deployment === 'online365') {
    if (!/^[A-Za-z0-9.-]+$/.test(s.tenantId)) ctx.addIssue({ code: 'custom', path: ['tenantId'], message: 'Enter the tenant ID (a GUID) or its domain, e.g. contoso.onmicrosoft.com.' });
  } else if (s.username !== '' && !/^[^\\\s]+\\[^\\\s]+$|^[^@\s]+@[^@\s]+$/.test(s.username)) {
    ctx.addIssue({ code: 'custom', path: ['username'], message: 'Enter the Windows user as DOMAIN\\user (or user@domain).' });
  }
}) as unknown as z.ZodType<DynamicsSettings>;

export class DynamicsConnector implements IntegrationConnector {
  private readonly api: Dynamics2015Api | Dynamics365Api;
  private readonly owners: OwnerEmailCache;
  private readonly what: string;

  constructor(private readonly settings: DynamicsSettings, services: ConnectorServices) {
    const { orgUrl, phoneColumns, region } = settings;
    this.api = settings.deployment === 'online365'
      ? new Dynamics365Api({ orgUrl, phoneColumns, region, tenantId: settings.tenantId, loginHost: settings.loginHost, ...(settings.refreshToken ? { connected: { clientId: settings.clientId, refreshToken: settings.refreshToken } } : {}) }, services)
      : new Dynamics2015Api({ orgUrl, phoneColumns, region }, services);
    this.what = settings.deployment === 'online365' ? 'Dynamics 365' : 'Dynamics CRM';
    this.owners = new OwnerEmailCache(this.what);
  }

  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    return lookupResult(this.what, signal, () => this.api.find(request, this.credentials(request.credentials), signal));
  }

  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport> {
    return runConnectionTest(this.what, signal, async () => {
      const request = sampleRequest('Contact', this.settings.deployment === 'online365' ? 'fullname' : 'FullName', credentials);
      const result = await this.api.find(request, this.credentials(credentials), signal);
      return `Signed in to ${this.what} and searched contacts: ${sampleOutcome(result)}.`;
    });
  }

  /** The e-mail of the system user an `ownerid` names (owners.ts). */
  ownerEmail(ownerId: string, credentials: Credentials, signal: AbortSignal): Promise<OwnerEmailResult> {
    return this.owners.get(ownerId, DYNAMICS_USER_ID, signal, (id) => this.api.ownerEmail(id, this.credentials(credentials), signal));
  }

  listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]> {
    return this.api.listModules(this.credentials(credentials), signal);
  }

  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]> {
    return this.api.listFields(module, this.credentials(credentials), signal);
  }

  /** On-premises: DOMAIN\user + password. Dynamics 365: client ID as the username, secret as the password. */
  private credentials(rule: Credentials): Credentials {
    return this.settings.deployment === 'online365'
      ? effectiveCredentials(rule, { username: this.settings.clientId, password: this.settings.clientSecret })
      : effectiveCredentials(rule, this.settings);
  }
}

export const dynamicsDefinition: CrmDefinition<DynamicsSettings> = {
  kind: 'dynamics',
  label: 'Microsoft Dynamics 2015',
  credentialsHelp: 'On-premises: Username DOMAIN\\user and its Windows password. Dynamics 365: Username the application (client) ID, Password a client secret.',
  modules: ['Contact', 'Account', 'Lead'],
  fields,
  schema,
  create: (settings, services) => new DynamicsConnector(settings, services),
  connect: dynamicsConnect,
};
