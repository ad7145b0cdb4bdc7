/**
 * The choices the Routing form offers, built once per render from the host's catalog, the
 * tenant's enabled integrations and the operator table.
 */
import type { CatalogEntry } from '../host';
import type { CrmKind } from '../domain/crm-kinds';
import { DESTINATION_TYPES, DESTINATION_TYPE_LABELS, OWNER_KEYS, OWNER_KEY_LABELS, type DestinationType } from '../domain/destination';
import { OPERATORS, OPERATOR_INFO, type OperatorInfo } from '../domain/operators';
import { OWNER_FIELDS } from '../crm/owner-fields';

/** An enabled integration as the rule form offers it. */
export interface IntegrationChoice {
  crm: CrmKind;
  label: string;
  modules: string[];
  /** What CRM Username / CRM Password mean for this CRM. */
  credentialsHelp: string;
  /** Default credentials stored in CRM > Integration: the rule's may be left blank. */
  hasDefaultCredentials: boolean;
  /** False for token-only CRMs: CRM Username means nothing there. */
  usesUsername: boolean;
}
export type IntegrationChoices = IntegrationChoice[];

export interface FormOptions {
  operators: Array<{ value: string } & OperatorInfo>;
  destinationTypes: Array<{ value: DestinationType; label: string }>;
  /** Catalog entries per destination type (hang up has none); for "Owner's extension", how the value names the owner. */
  targets: Record<DestinationType, Array<Pick<CatalogEntry, 'id' | 'label'>>>;
  /** Every catalog entry, for the Default Destination select ("kind:id"). */
  defaults: Array<{ group: string; entries: Array<{ value: string; label: string }> }>;
  recordings: CatalogEntry[];
  integrations: IntegrationChoices;
  /** Which CRM field names the record's owner, per CRM (for "Owner's extension" rows). */
  ownerFields: Array<{ crm: string; field: string; holds: string }>;
}

export function formOptions(catalog: CatalogEntry[], integrations: IntegrationChoices): FormOptions {
  const targets = Object.fromEntries(DESTINATION_TYPES.map((t) => [t, catalog.filter((e) => e.kind === t)])) as unknown as Record<DestinationType, Array<Pick<CatalogEntry, 'id' | 'label'>>>;
  targets.owner = OWNER_KEYS.map((key) => ({ id: key, label: OWNER_KEY_LABELS[key] }));
  // The default destination is where a call goes when the owner is unknown: never "Owner's extension".
  const defaults = DESTINATION_TYPES.filter((t) => t !== 'owner').map((t) => ({
    group: DESTINATION_TYPE_LABELS[t],
    entries: t === 'hangup' ? [{ value: 'hangup:', label: 'Hang up' }] : targets[t].map((e) => ({ value: `${t}:${e.id}`, label: e.label })),
  })).filter((g) => g.entries.length > 0);
  return {
    operators: OPERATORS.map((value) => ({ value, ...OPERATOR_INFO[value] })),
    destinationTypes: DESTINATION_TYPES.map((value) => ({ value, label: DESTINATION_TYPE_LABELS[value] })),
    targets,
    defaults,
    recordings: catalog.filter((e) => e.kind === 'recording'),
    integrations,
    ownerFields: Object.values(OWNER_FIELDS).map((f) => ({ crm: f.label, field: f.field, holds: f.key === 'email' ? "the owner's e-mail" : "the owner's CRM user id" })),
  };
}
