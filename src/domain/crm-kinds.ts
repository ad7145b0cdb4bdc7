/** The CRMs a rule can use through CRM > Integration, with the names administrators know. */
export const CRM_KINDS = [
  'bullhorn', 'hubspot', 'dynamics', 'pipedrive', 'proprietary', 'proprietary_1',
  'salesforce', 'sugarcrm', 'suitecrm', 'vtiger', 'zendesk', 'zoho',
] as const;
export type CrmKind = (typeof CRM_KINDS)[number];

export const CRM_LABELS: Record<CrmKind, string> = {
  bullhorn: 'Bullhorn',
  hubspot: 'HubSpot',
  dynamics: 'Microsoft Dynamics 2015',
  pipedrive: 'Pipedrive',
  proprietary: 'Proprietary CRM',
  proprietary_1: 'Proprietary CRM I',
  salesforce: 'Salesforce',
  sugarcrm: 'SugarCRM',
  suitecrm: 'SuiteCRM',
  vtiger: 'Vtiger CRM',
  zendesk: 'Zendesk',
  zoho: 'Zoho CRM',
};

export function isCrmKind(value: string): value is CrmKind {
  return (CRM_KINDS as readonly string[]).includes(value);
}
