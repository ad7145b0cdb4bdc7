/**
 * What a CRM's setup guide says (CRM > Integration > "Setup guide"): numbered steps as of the
 * date below, the exact kind of app or credential to create, the scopes or permissions it needs,
 * where each value of the Integration page comes from, what Test connection checks, and the
 * vendor's own documentation. Guides are data, rendered escaped by views/integration/guide.ejs.
 */
export const GUIDES_AS_OF = '2026-12-04';

export interface SetupGuide {
  /** URL name: /crm/integration/guides/{slug}. */
  slug: string;
  title: string;
  /** One or two sentences: what the plugin signs in with and what it searches. */
  summary: string;
  /** The exact app type or credential to create at the vendor. */
  appType: string;
  /** Scopes, roles or permissions that credential needs. */
  permissions: string[];
  /** Numbered steps, in order. */
  steps: string[];
  /** Each value of the Integration page and where to find it. */
  values: Array<{ field: string; where: string }>;
  /** What Test connection does and reports. */
  testChecks: string;
  /** Sign-in choices that are legacy or retiring, with their dates. */
  notes?: string[];
  /** The vendor's documentation (https only). */
  docs: Array<{ label: string; url: string }>;
}
