/**
 * Made-up but realistic routing rules for demos and benchmarks: rule `i` is always the same
 * draft, so seeding is repeatable and a second run can tell which rules are already there.
 * Destinations come from the reference host's catalog, so every seeded rule routes and opens
 * in the form as it would after a save.
 */
import type { CrmKind } from '../../src/domain/crm-kinds';
import type { DestinationRef } from '../../src/domain/destination';
import type { Operator } from '../../src/domain/operators';
import { NO_BRANCHES, type RuleDraft, type RuleRow } from '../../src/domain/rule';

const TEAMS = ['Sales', 'Support', 'Billing', 'Renewals', 'Onboarding', 'Partners', 'Enterprise', 'Small Business', 'Collections', 'Field Service'];
const AUDIENCES = [
  'VIP customers', 'Gold accounts', 'Silver accounts', 'New leads', 'Open tickets', 'Overdue invoices', 'Trial users',
  'Key accounts', 'Resellers', 'Churn risk', 'Premium plan', 'Basic plan', 'Returning callers', 'Escalations',
  'Warranty claims', 'Spanish speakers', 'French speakers', 'German speakers', 'After hours', 'Weekend line',
  'Holiday line', 'Public sector', 'Healthcare', 'Education', 'Hospitality',
];
const REGIONS = [
  'EMEA', 'APAC', 'North America', 'LATAM', 'UK', 'Ireland', 'DACH', 'Nordics', 'France', 'Iberia', 'Italy', 'Benelux',
  'Poland', 'Japan', 'Korea', 'ANZ', 'Canada', 'US East', 'US West', 'US Central', 'India', 'Singapore', 'Middle East',
  'South Africa', 'Brazil', 'Mexico', 'Argentina', 'Chile', 'Colombia', 'Turkey', 'Greece', 'Israel', 'Egypt',
  'Kenya', 'Nigeria', 'Philippines', 'Indonesia', 'Vietnam', 'Thailand', 'Malaysia',
];
/** Distinct names before a " (2)" suffix is needed: 10 x 25 x 40 = 10,000. */
export const DISTINCT_SEED_NAMES = TEAMS.length * AUDIENCES.length * REGIONS.length;

const CRMS: Array<{ crm: CrmKind; modules: string[]; fields: string[] }> = [
  { crm: 'salesforce', modules: ['Contact', 'Account', 'Lead'], fields: ['Account.Name', 'Customer_Tier__c', 'Rating', 'Industry', 'Owner_Region__c'] },
  { crm: 'zoho', modules: ['Contacts', 'Accounts', 'Leads'], fields: ['Account_Name', 'Customer_Tier', 'Lead_Status', 'Rating', 'Language'] },
  { crm: 'hubspot', modules: ['contacts', 'companies'], fields: ['lifecyclestage', 'hs_lead_status', 'customer_tier', 'annualrevenue'] },
  { crm: 'dynamics', modules: ['contacts', 'accounts'], fields: ['accountcategorycode', 'new_tier', 'preferredcontactmethodcode'] },
  { crm: 'pipedrive', modules: ['persons', 'organizations'], fields: ['label', 'owner_id', 'tier'] },
  { crm: 'zendesk', modules: ['users'], fields: ['user_fields.plan', 'user_fields.priority', 'organization_id'] },
];
const CUSTOM_FIELDS = ['tier', 'balance_due', 'open_tickets', 'language', 'account_manager', 'sla_level'];
const VALUES = ['Gold', 'Silver', 'Bronze', 'VIP', 'Platinum', 'Open', 'Closed', 'Hot', 'Warm', 'Cold', 'Enterprise', 'Trial', 'es', 'fr', 'de'];
const OPERATORS: Operator[] = ['eq', 'eq', 'eq', 'ne', 'contains', 'starts_with', 'gt', 'ge', 'lt', 'regex', 'empty'];
const DESTINATIONS: DestinationRef[] = [
  { type: 'queue', target: '103' }, { type: 'queue', target: '104' }, { type: 'queue', target: '105' },
  { type: 'extension', target: '100' }, { type: 'extension', target: '101' }, { type: 'extension', target: '102' },
  { type: 'ivr', target: '200' }, { type: 'ivr', target: '201' }, { type: 'voicemail', target: '101' },
  { type: 'recording', target: 'closed' },
];
const DEFAULT_DESTINATIONS: DestinationRef[] = [{ type: 'queue', target: '104' }, { type: 'extension', target: '101' }, { type: 'ivr', target: '200' }];

/** The name of seeded rule `index` (0-based): "Sales - VIP customers (EMEA)", then "... (EMEA) 2" past 10,000. */
export function seededRuleName(index: number): string {
  const team = TEAMS[index % TEAMS.length]!;
  const audience = AUDIENCES[Math.floor(index / TEAMS.length) % AUDIENCES.length]!;
  const region = REGIONS[Math.floor(index / (TEAMS.length * AUDIENCES.length)) % REGIONS.length]!;
  const round = Math.floor(index / DISTINCT_SEED_NAMES);
  return `${team} - ${audience} (${region})${round > 0 ? ` ${round + 1}` : ''}`;
}

/** Seeded rule `index`: about one in four is an IVR rule with a greeting, one in four asks a Custom CRM. */
export function seededRuleDraft(index: number): RuleDraft {
  const pick = <T>(list: readonly T[], salt: number): T => list[mix(index, salt) % list.length]!;
  const isIvr = mix(index, 1) % 4 === 0;
  const isCustom = mix(index, 2) % 4 === 0;
  const crm = pick(CRMS, 3);
  const fieldName = isCustom ? pick(CUSTOM_FIELDS, 4) : pick(crm.fields, 4);
  const rowCount = 1 + (mix(index, 5) % 5);
  const rows: RuleRow[] = Array.from({ length: rowCount }, (_, row) => seededRow(index, row));
  const slug = TEAMS[index % TEAMS.length]!.toLowerCase().replace(/ /g, '-');
  return {
    name: seededRuleName(index),
    fieldName,
    location: isIvr ? 'ivr' : 'did',
    greeting: isIvr
      ? { recording: 'enter-account', maxDigits: 6, timeoutSeconds: 5, retries: 2, pattern: mix(index, 6) % 2 === 0 ? '\\d{6}' : '' }
      : null,
    source: isCustom
      ? {
          kind: 'custom', url: `https://crm-gateway.example.com/lookup/${slug}`, post: mix(index, 7) % 2 === 0,
          headers: [{ name: 'Authorization', value: `Bearer seed-token-${mix(index, 8).toString(36)}`, secret: true }],
        }
      : { kind: 'integration', crm: crm.crm, module: pick(crm.modules, 9), username: '', password: '' },
    deadlineSeconds: 2 + (mix(index, 10) % 4),
    defaultDestination: pick(DEFAULT_DESTINATIONS, 11),
    defaultVoicemail: 'unset',
    branches: { ...NO_BRANCHES },
    rows,
  };
}

function seededRow(index: number, row: number): RuleRow {
  const operator = OPERATORS[mix(index, 20 + row) % OPERATORS.length]!;
  const numeric = operator === 'gt' || operator === 'ge' || operator === 'lt';
  const value = operator === 'empty' ? ''
    : numeric ? String(100 * (1 + (mix(index, 30 + row) % 50)))
    : operator === 'regex' ? '^(gold|platinum)$'
    : VALUES[mix(index, 40 + row) % VALUES.length]!;
  return { operator, value, destination: DESTINATIONS[mix(index, 50 + row) % DESTINATIONS.length]! };
}

/** A small deterministic hash of (index, salt), so fields vary independently of each other. */
function mix(index: number, salt: number): number {
  let h = Math.imul(index ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 16;
  return h >>> 0;
}
