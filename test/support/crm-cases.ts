/**
 * One small adapter per CRM of CRM > Integration, for the end-to-end call tests: how to start
 * its fake vendor server knowing a list of callers, the Integration page fields that point the
 * connector at that fake, the module and field a rule reads, and what the fake counts (sign-ins
 * and lookups). The fakes are the connectors' own (test/support/fakes); nothing here fakes a CRM.
 */
import type { CrmKind } from '../../src/domain/crm-kinds';
import { ZOHO_DATA_CENTRES } from '../../src/crm/zoho';
import { BullhornFake } from './fakes/bullhorn-fake';
import { Dynamics2015Fake, Dynamics365Fake } from './fakes/dynamics-fake';
import { HubSpotFake } from './fakes/hubspot-fake';
import { PipedriveFake, TIER_KEY } from './fakes/pipedrive-fake';
import { ProprietaryFake } from './fakes/proprietary-fake';
import { SalesforceFake } from './fakes/salesforce-fake';
import { SugarFake } from './fakes/sugarcrm-fake';
import { SuiteCrmFake } from './fakes/suitecrm-fake';
import { VtigerFake } from './fakes/vtiger-fake';
import { ZendeskFake } from './fakes/zendesk-fake';
import { ZohoFake } from './fakes/zoho-fake';

/** A caller the CRM knows: E.164 number and the value of the rule's field. */
export interface KnownCaller {
  phone: string;
  value: string;
}

export interface FakeCounts {
  /** Sign-ins (token grants, sessions, NTLM handshakes); absent for CRMs without one. */
  logins?: number;
  /** Lookups as the CRM saw them. */
  lookups: number;
  /** TCP connections that carried requests, where sign-in is per connection (NTLM). */
  connections?: number;
}

/** A CRM's fake, started and holding the callers. */
export interface StartedCrm {
  /** CRM > Integration fields (settings and secrets) that point the connector at the fake. */
  settings: Record<string, string>;
  counts(): FakeCounts;
  /** Requests the fake refused as not documented by the vendor. */
  violations(): string[];
  /** For connectors whose hosts are fixed (Zoho): vendor origin -> fake origin. */
  resolveOrigin?: (origin: string) => string;
  close(): Promise<void>;
}

export interface CrmCase {
  /** Test titles. */
  name: string;
  crm: CrmKind;
  /** The tenant's one integration of a kind: a second deployment of a CRM goes to the other tenant. */
  tenant: 'default' | 'other';
  module: string;
  fieldName: string;
  /** NTLM signs in per TCP connection, not per session: one handshake per connection used. */
  loginsPerConnection?: boolean;
  start(callers: readonly KnownCaller[]): Promise<StartedCrm>;
}

/** (202) 555-0100: how people type numbers into CRMs. */
function written(phone: string): string {
  const d = phone.replace(/\D/g, '').slice(-10);
  return `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`;
}

/** The fake's settings and counts, with its violations and close as every case hands them over. */
function started(fake: { violations: string[]; close(): Promise<void> }, crm: Omit<StartedCrm, 'violations' | 'close'>): StartedCrm {
  return { ...crm, violations: () => fake.violations, close: () => fake.close() };
}

const national = (phone: string) => phone.replace(/\D/g, '').slice(-10);
const modifiedOn = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 60_000);

export const bullhorn: CrmCase = {
  name: 'Bullhorn', crm: 'bullhorn', tenant: 'default', module: 'Candidate', fieldName: 'status',
  async start(callers) {
    const fake = await BullhornFake.start();
    fake.records.Candidate = callers.map((c, i) => ({ id: 1000 + i, firstName: `C${i}`, status: c.value, phone: written(c.phone), dateLastModified: modifiedOn(i).getTime() }));
    return started(fake, {
      settings: { clientId: fake.clientId, clientSecret: fake.clientSecret, username: fake.username, password: fake.password, loginInfoUrl: fake.url },
      counts: () => ({ logins: fake.counts.restLogins, lookups: fake.counts.finds }),
    });
  },
};

export const hubspot: CrmCase = {
  name: 'HubSpot (OAuth)', crm: 'hubspot', tenant: 'default', module: 'contacts', fieldName: 'customer_tier',
  async start(callers) {
    const fake = await HubSpotFake.start();
    fake.records.contacts = callers.map((c, i) => ({
      id: String(501 + i), updatedAt: modifiedOn(i).toISOString(),
      properties: { customer_tier: c.value, phone: written(c.phone), hs_searchable_calculated_phone_number: national(c.phone) },
    }));
    return started(fake, {
      settings: { authMode: 'oauth', clientId: fake.clientId, clientSecret: fake.clientSecret, refreshToken: fake.refreshToken, baseUrl: fake.url },
      counts: () => ({ logins: fake.tokenRequests(), lookups: fake.searches().length }),
    });
  },
};

export const dynamics2015: CrmCase = {
  name: 'Microsoft Dynamics CRM 2015 (on-premises, NTLM)', crm: 'dynamics', tenant: 'default', module: 'Contact', fieldName: 'JobTitle', loginsPerConnection: true,
  async start(callers) {
    const fake = await Dynamics2015Fake.start();
    fake.records.Contact = callers.map((c, i) => ({
      ContactId: `a0000000-0000-0000-0000-${String(i).padStart(12, '0')}`, FullName: `Contact ${i}`, JobTitle: c.value,
      Telephone1: written(c.phone), Telephone2: null, Telephone3: null, MobilePhone: null, ModifiedOn: `/Date(${modifiedOn(i).getTime()})/`,
    }));
    return started(fake, {
      settings: { deployment: 'onprem2015', orgUrl: fake.orgUrl, username: 'CONTOSO\\crm-routing', password: 'Pa55word!' },
      counts: () => ({ logins: fake.handshakes, lookups: fake.served, connections: fake.connectionsUsed }),
    });
  },
};

/** The tenant holds one Dynamics integration: Dynamics 365 runs in the other tenant. */
export const dynamics365: CrmCase = {
  name: 'Microsoft Dynamics 365 (client credentials)', crm: 'dynamics', tenant: 'other', module: 'contact', fieldName: 'jobtitle',
  async start(callers) {
    const fake = await Dynamics365Fake.start();
    fake.records.contacts = callers.map((c, i) => ({
      contactid: `c0000000-0000-0000-0000-${String(i).padStart(12, '0')}`, fullname: `Contact ${i}`, jobtitle: c.value,
      telephone1: written(c.phone), modifiedon: modifiedOn(i).toISOString(),
    }));
    return started(fake, {
      settings: { deployment: 'online365', orgUrl: fake.url, tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-3333-4444-555555555555', clientSecret: 'app~secret', loginHost: fake.url },
      counts: () => ({ logins: fake.tokenRequests.length, lookups: fake.dataRequests.length }),
    });
  },
};

export const pipedrive: CrmCase = {
  name: 'Pipedrive', crm: 'pipedrive', tenant: 'default', module: 'Persons', fieldName: TIER_KEY,
  async start(callers) {
    const fake = await PipedriveFake.start();
    // The tier is an option field: Pipedrive stores the option id, the connector answers its label.
    const option = (value: string) => fake.personFields.find((f) => f.key === TIER_KEY)!.options!.find((o) => o.label === value)!.id;
    fake.persons.push(...callers.map((c, i) => ({
      id: 2000 + i, name: `Person ${i}`, org_id: null, update_time: modifiedOn(i).toISOString().replace(/\.\d+Z$/, 'Z'),
      phones: [{ value: written(c.phone), primary: true, label: 'work' }], custom_fields: { [TIER_KEY]: option(c.value) },
    })));
    return started(fake, {
      settings: { companyDomain: fake.url, apiToken: [...fake.tokens][0]! },
      counts: () => ({ lookups: fake.count('/api/v2/persons/search') }),
    });
  },
};

const inHouseRecords = (callers: readonly KnownCaller[]) => callers.map((c, i) => ({ id: `r${i}`, phones: [written(c.phone)], fields: { Tier: c.value } }));

export const proprietary: CrmCase = {
  name: 'Proprietary CRM (OAuth2 client credentials, GET)', crm: 'proprietary', tenant: 'default', module: 'Contacts', fieldName: 'Tier',
  async start(callers) {
    const fake = await ProprietaryFake.start({ type: 'oauth2', clientId: 'cid', clientSecret: 'csecret', clientAuth: 'body', expiresIn: 3600 });
    fake.records = inHouseRecords(callers);
    return started(fake, {
      settings: {
        authType: 'oauth2_client_credentials', tokenUrl: `${fake.url}/oauth/token`, clientId: 'cid', clientSecret: 'csecret',
        method: 'GET', url: `${fake.url}/api/v1/contacts?phone={e164}`, queryParams: 'fields={field}', valuePath: 'data[*].{field}', phonePath: 'phones[*]',
      },
      counts: () => ({ logins: fake.tokenRequests.length, lookups: fake.dataRequests.length }),
    });
  },
};

export const proprietary1: CrmCase = {
  name: 'Proprietary CRM I (API key, POST)', crm: 'proprietary_1', tenant: 'default', module: 'Contacts', fieldName: 'Tier',
  async start(callers) {
    const fake = await ProprietaryFake.start({ type: 'api_key', header: 'X-Crm-Key', key: 'k-123' });
    fake.records = inHouseRecords(callers);
    return started(fake, {
      settings: {
        authType: 'api_key', apiKeyHeader: 'X-Crm-Key', password: 'k-123', method: 'POST', url: `${fake.url}/api/v1/search`,
        body: '{"query": {"phone": "{e164}"}, "fields": ["{field}"]}', valuePath: 'records[*].fields.{field}', phonePath: 'fields.phone',
      },
      counts: () => ({ lookups: fake.dataRequests.length }),
    });
  },
};

export const salesforce: CrmCase = {
  name: 'Salesforce', crm: 'salesforce', tenant: 'default', module: 'Contact', fieldName: 'Level__c',
  async start(callers) {
    const fake = await SalesforceFake.start();
    fake.records.Contact!.push(...callers.map((c, i) => ({
      Id: `003${String(i).padStart(12, '0')}AAA`, LastModifiedDate: modifiedOn(i).toISOString().replace('Z', '+0000'), Name: `Contact ${i}`, Phone: written(c.phone), Level__c: c.value,
    })));
    return started(fake, {
      settings: { loginUrl: fake.login.url, clientId: fake.clientId, clientSecret: fake.clientSecret, username: 'router@acme.example', password: 'Passw0rd!', securityToken: 'TOKEN123' },
      counts: () => ({ logins: fake.loginRequests, lookups: fake.searches().length }),
    });
  },
};

export const sugarcrm: CrmCase = {
  name: 'SugarCRM', crm: 'sugarcrm', tenant: 'default', module: 'Contacts', fieldName: 'tier_c',
  async start(callers) {
    const records = callers.map((c, i) => ({ id: `c-${i}`, date_modified: modifiedOn(i).toISOString().replace('.000Z', '+00:00'), phone_work: written(c.phone), tier_c: c.value }));
    const fake = await SugarFake.start({ records: { Contacts: records } });
    return started(fake, {
      settings: { siteUrl: fake.url, username: 'api', password: 'secret' },
      counts: () => ({ logins: fake.logins.length + fake.refreshes.length, lookups: fake.filterRequests.length }),
    });
  },
};


const suiteRecords = (callers: readonly KnownCaller[]) => callers.map((c, i) => ({ id: `c-${i}`, first_name: `C${i}`, tier_c: c.value, phone_work: written(c.phone), date_modified: modifiedOn(i).toISOString().slice(0, 19).replace('T', ' ') }));

export const suitecrm: CrmCase = {
  name: 'SuiteCRM (V8)', crm: 'suitecrm', tenant: 'default', module: 'Contacts', fieldName: 'tier_c',
  async start(callers) {
    const fake = await SuiteCrmFake.start();
    fake.records.Contacts = suiteRecords(callers);
    return started(fake, {
      settings: { site: fake.url, apiVersion: 'v8', clientId: fake.clientId, clientSecret: fake.clientSecret, username: fake.username, password: fake.password },
      // 7.12.5 and later: one `or` + `like` request per lookup (the filter-mode probe is not a lookup).
      counts: () => ({ logins: fake.counts.tokenGrants, lookups: fake.counts.phoneSearches }),
    });
  },
};

/** The same CRM over its legacy REST v4_1: one get_entry_list per lookup. */
export const suitecrmV4: CrmCase = {
  ...suitecrm, name: 'SuiteCRM (legacy v4_1)',
  async start(callers) {
    const fake = await SuiteCrmFake.start();
    fake.records.Contacts = suiteRecords(callers);
    return started(fake, {
      settings: { site: fake.url, apiVersion: 'v4_1', username: fake.username, password: fake.password },
      counts: () => ({ logins: fake.counts.v4Logins, lookups: fake.counts.searches }),
    });
  },
};

export const vtiger: CrmCase = {
  name: 'Vtiger', crm: 'vtiger', tenant: 'default', module: 'Contacts', fieldName: 'cf_853',
  async start(callers) {
    const fake = await VtigerFake.start();
    fake.rows.Contacts = callers.map((c, i) => ({ id: `12x${100 + i}`, firstname: `C${i}`, cf_853: c.value, phone: written(c.phone), mobile: '', modifiedtime: modifiedOn(i).toISOString().slice(0, 19).replace('T', ' ') }));
    return started(fake, {
      settings: { url: `${fake.url}/crm`, username: fake.username, accessKey: fake.accessKey },
      counts: () => ({ logins: fake.counts.logins, lookups: fake.counts.queries }),
    });
  },
};

export const zendesk: CrmCase = {
  name: 'Zendesk (OAuth client credentials)', crm: 'zendesk', tenant: 'default', module: 'users', fieldName: 'tier',
  async start(callers) {
    const fake = await ZendeskFake.start();
    fake.users = callers.map((c, i) => ({ id: 300 + i, name: `User ${i}`, phone: written(c.phone), role: 'end-user', updated_at: modifiedOn(i).toISOString(), organization_id: null, user_fields: { tier: c.value } }));
    return started(fake, {
      settings: { subdomain: fake.url, authMode: 'client_credentials', clientId: fake.clientId, clientSecret: fake.clientSecret },
      counts: () => ({ logins: fake.counts.clientCredentialGrants, lookups: fake.counts.searches }),
    });
  },
};

export const zoho: CrmCase = {
  name: 'Zoho CRM', crm: 'zoho', tenant: 'default', module: 'Contacts', fieldName: 'Tier',
  async start(callers) {
    const fake = await ZohoFake.start({ com: { accounts: ZOHO_DATA_CENTRES.com.accounts, api: 'https://www.zohoapis.com' } });
    callers.forEach((c, i) => fake.add('com', 'Contacts', { id: `41508680000006${String(i).padStart(5, '0')}`, Modified_Time: modifiedOn(i).toISOString(), Last_Name: `Contact ${i}`, Phone: written(c.phone), Tier: c.value }));
    return started(fake, {
      settings: { dataCentre: 'com', clientId: fake.clientId, clientSecret: fake.clientSecret, refreshToken: '1000.refresh-com' },
      counts: () => ({ logins: fake.tokenRequests(), lookups: fake.apiRequests().length }),
      resolveOrigin: fake.resolveOrigin,
    });
  },
};

/** Every CRM of CRM > Integration (Dynamics in both deployments), in the page's order. */
export const CRM_CASES: readonly CrmCase[] = [
  bullhorn, hubspot, dynamics2015, dynamics365, pipedrive, proprietary, proprietary1, salesforce, sugarcrm, suitecrm, vtiger, zendesk, zoho,
];

/** 100 callers the CRMs know, +1 202 555 0100 to 0199, alternately Gold and Silver. */
export const KNOWN_CALLERS: readonly KnownCaller[] = Array.from({ length: 100 }, (_, i) => ({ phone: `+1202555${String(100 + i).padStart(4, '0')}`, value: i % 2 === 0 ? 'Gold' : 'Silver' }));

/** A number no CRM holds (no fake matches it even loosely). */
export const UNKNOWN_CALLER = '+14155550000';
