/**
 * Every setup guide, and which one each CRM of CRM > Integration links to. The Proprietary CRMs
 * share one guide; the Custom CRM (set up on a rule, not an integration) has its own.
 */
import type { CrmKind } from '../../domain/crm-kinds';
import { bullhornGuide } from './bullhorn';
import { customCrmGuide } from './custom-crm';
import { dynamicsGuide } from './dynamics';
import type { SetupGuide } from './guide';
import { hubspotGuide } from './hubspot';
import { pipedriveGuide } from './pipedrive';
import { proprietaryGuide } from './proprietary';
import { salesforceGuide } from './salesforce';
import { sugarcrmGuide } from './sugarcrm';
import { suitecrmGuide } from './suitecrm';
import { vtigerGuide } from './vtiger';
import { zendeskGuide } from './zendesk';
import { zohoGuide } from './zoho';

export { GUIDES_AS_OF, type SetupGuide } from './guide';

export const GUIDE_OF_CRM: Record<CrmKind, SetupGuide> = {
  bullhorn: bullhornGuide,
  hubspot: hubspotGuide,
  dynamics: dynamicsGuide,
  pipedrive: pipedriveGuide,
  proprietary: proprietaryGuide,
  proprietary_1: proprietaryGuide,
  salesforce: salesforceGuide,
  sugarcrm: sugarcrmGuide,
  suitecrm: suitecrmGuide,
  vtiger: vtigerGuide,
  zendesk: zendeskGuide,
  zoho: zohoGuide,
};

/** Every guide once, by slug (the URL name), the Custom CRM's included. */
export const SETUP_GUIDES: ReadonlyMap<string, SetupGuide> = new Map(
  [...new Set([...Object.values(GUIDE_OF_CRM), customCrmGuide])].map((guide) => [guide.slug, guide]),
);
