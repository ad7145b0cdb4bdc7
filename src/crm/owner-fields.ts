/**
 * Which field of each CRM's records names the record's owner, and how: the e-mail itself
 * (Salesforce, Zoho) or a user id that the connector's owners.ts turns into an e-mail with a
 * second read. The rule form warns from this table; the README shows it.
 */
import { CRM_LABELS, type CrmKind } from '../domain/crm-kinds';
import type { OwnerKey } from '../domain/destination';

export interface OwnerField {
  label: string;
  /** The rule's CRM Field Name that gives the owner. */
  field: string;
  /** What that field holds. */
  key: Extract<OwnerKey, 'email' | 'user_id'>;
  /** Whether the connector can turn a user id of this CRM into an e-mail. */
  resolvesUserId: boolean;
  /** Where the e-mail comes from. */
  source: string;
}

const entry = (crm: CrmKind, field: string, key: OwnerField['key'], source: string): OwnerField =>
  ({ label: CRM_LABELS[crm], field, key, resolvesUserId: key === 'user_id', source });

export const OWNER_FIELDS: Partial<Record<CrmKind, OwnerField>> = {
  salesforce: entry('salesforce', 'Owner.Email', 'email', 'in the record (the Owner relationship)'),
  zoho: entry('zoho', 'Owner.email', 'email', 'in the record (Owner is {name, id, email})'),
  hubspot: entry('hubspot', 'hubspot_owner_id', 'user_id', 'GET /crm/v3/owners/{id}, email'),
  pipedrive: entry('pipedrive', 'owner_id', 'user_id', 'GET /api/v1/users/{id}, data.email'),
  dynamics: entry('dynamics', 'ownerid', 'user_id', 'Dynamics 365: GET systemusers({id})?$select=internalemailaddress; CRM 2015: SystemUserSet(guid\'{id}\'), InternalEMailAddress'),
  sugarcrm: entry('sugarcrm', 'assigned_user_id', 'user_id', 'GET /rest/{version}/Users/{id}, email1'),
  suitecrm: entry('suitecrm', 'assigned_user_id', 'user_id', 'v8: GET /Api/V8/module/Users/{id}, email1; v4_1: get_entry Users, email1'),
  vtiger: entry('vtiger', 'assigned_user_id', 'user_id', 'retrieve of the Users id (19x...), email1'),
  bullhorn: entry('bullhorn', 'owner(id)', 'user_id', 'GET entity/CorporateUser/{id}?fields=email'),
};
