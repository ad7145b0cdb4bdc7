/**
 * Every CRM of CRM > Integration, by kind, with what the rule form needs to know of its
 * credentials: whether the integration itself holds credentials (then a rule's CRM Username /
 * CRM Password may stay empty) and whether a username means anything at all.
 */
import type { CrmKind } from '../domain/crm-kinds';
import { bullhornDefinition } from './bullhorn';
import { dynamicsDefinition } from './dynamics';
import { hubspotDefinition } from './hubspot';
import type { CrmDefinition } from './integration';
import { pipedriveDefinition } from './pipedrive';
import { proprietaryDefinition, proprietary1Definition } from './proprietary';
import { salesforceDefinition, salesforceSignsInAlone } from './salesforce';
import { sugarcrmDefinition } from './sugarcrm';
import { suitecrmDefinition } from './suitecrm';
import { vtigerDefinition } from './vtiger';
import { zendeskDefinition, zendeskSignsInAlone } from './zendesk';
import { zohoDefinition } from './zoho';

export interface CrmEntry {
  definition: CrmDefinition;
  /** False where CRM Username is not used (token-only CRMs): the form never asks for it. */
  usesUsername: boolean;
  /** Whether the integration's own settings sign in without a rule's credentials. */
  hasDefaultCredentials(settings: Record<string, unknown>, storedSecrets: ReadonlySet<string>): boolean;
}

const has = (settings: Record<string, unknown>, name: string) => typeof settings[name] === 'string' && (settings[name] as string).trim() !== '';
const userAndSecret = (user: string, secret: string) => (s: Record<string, unknown>, stored: ReadonlySet<string>) => has(s, user) && stored.has(secret);

export const CRM_REGISTRY: Record<CrmKind, CrmEntry> = {
  bullhorn: {
    definition: bullhornDefinition as CrmDefinition, usesUsername: true,
    hasDefaultCredentials: (s, stored) => (has(s, 'username') && stored.has('refreshToken')) || userAndSecret('username', 'password')(s, stored),
  },
  dynamics: {
    definition: dynamicsDefinition as CrmDefinition, usesUsername: true,
    hasDefaultCredentials: (s, stored) => (s.deployment === 'online365' ? stored.has('clientSecret') && has(s, 'clientId') : has(s, 'username') && stored.has('password')),
  },
  hubspot: { definition: hubspotDefinition as CrmDefinition, usesUsername: false, hasDefaultCredentials: (_s, stored) => stored.has('accessToken') || stored.has('refreshToken') },
  pipedrive: {
    definition: pipedriveDefinition as CrmDefinition, usesUsername: false,
    hasDefaultCredentials: (s, stored) => (s.authMode === 'oauth' ? stored.has('refreshToken') && has(s, 'companyDomain') : stored.has('apiToken')),
  },
  proprietary: { definition: proprietaryDefinition as CrmDefinition, usesUsername: true, hasDefaultCredentials: () => true },
  proprietary_1: { definition: proprietary1Definition as CrmDefinition, usesUsername: true, hasDefaultCredentials: () => true },
  salesforce: { definition: salesforceDefinition as CrmDefinition, usesUsername: true, hasDefaultCredentials: salesforceSignsInAlone },
  sugarcrm: { definition: sugarcrmDefinition as CrmDefinition, usesUsername: true, hasDefaultCredentials: userAndSecret('username', 'password') },
  suitecrm: { definition: suitecrmDefinition as CrmDefinition, usesUsername: true, hasDefaultCredentials: userAndSecret('username', 'password') },
  vtiger: { definition: vtigerDefinition as CrmDefinition, usesUsername: true, hasDefaultCredentials: userAndSecret('username', 'accessKey') },
  zendesk: {
    definition: zendeskDefinition as CrmDefinition, usesUsername: true,
    hasDefaultCredentials: zendeskSignsInAlone,
  },
  zoho: { definition: zohoDefinition as CrmDefinition, usesUsername: false, hasDefaultCredentials: (_s, stored) => stored.has('refreshToken') },
};
