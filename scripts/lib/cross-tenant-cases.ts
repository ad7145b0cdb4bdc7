/**
 * The cross-tenant AGI matrix: what a client that reaches the AGI port may try in order to run
 * another tenant's rule (and so have the plugin ask that tenant's CRM about a number of its
 * choice). The attacker is tenant A, with a signed line of its own; the victim is tenant B, whose
 * rule id and tenant name it knows (neither is a secret). Every case must be refused before any
 * lookup. Used by `npm run matrix:tenants` and test/e2e/cross-tenant.test.ts.
 */
export interface CrossTenantCase {
  group: 'no tenant' | 'wrong case' | 'encoded' | 'repeated' | "other tenant's id" | 'bad signature' | 'agi_arg_1';
  label: string;
  /** agi_network_script as Asterisk would send it. */
  script: string;
  args?: string[];
}

export interface MatrixParties {
  /** The attacker's own rule and the signed query of its line (`rule=..&tenant=..&sig=..`). */
  attacker: { ruleId: number; tenantId: string; signedQuery: string; sig: string };
  /** The rule the attacker wants to run. */
  victim: { ruleId: number; tenantId: string };
}

export function crossTenantCases({ attacker, victim }: MatrixParties): CrossTenantCase[] {
  const B = victim.ruleId;
  const b = encodeURIComponent(victim.tenantId);
  const a = encodeURIComponent(attacker.tenantId);
  const encodedB = [...victim.tenantId].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
  return [
    { group: 'no tenant', label: 'rule only', script: `crm-routing?rule=${B}` },
    { group: 'no tenant', label: "rule with the attacker's signature", script: `crm-routing?rule=${B}&sig=${attacker.sig}` },
    { group: 'wrong case', label: 'Tenant=', script: `crm-routing?rule=${B}&Tenant=${b}` },
    { group: 'wrong case', label: 'RULE= and TENANT=', script: `crm-routing?RULE=${B}&TENANT=${b}` },
    { group: 'wrong case', label: 'the tenant name in upper case, signed line', script: `crm-routing?rule=${B}&tenant=${victim.tenantId.toUpperCase()}&sig=${attacker.sig}` },
    { group: 'encoded', label: 'tenant fully percent-encoded', script: `crm-routing?rule=${B}&tenant=${encodedB}` },
    { group: 'encoded', label: 'parameter names percent-encoded', script: `crm-routing?ru%6Ce=${B}&t%65nant=${b}` },
    { group: 'encoded', label: "the attacker's line with an encoded rule= added", script: `crm-routing?${attacker.signedQuery}&ru%6Ce=${B}` },
    { group: 'repeated', label: "the attacker's line, then rule=B", script: `crm-routing?${attacker.signedQuery}&rule=${B}` },
    { group: 'repeated', label: "rule=B, then the attacker's line", script: `crm-routing?rule=${B}&${attacker.signedQuery}` },
    { group: 'repeated', label: "the attacker's line, then tenant=B", script: `crm-routing?${attacker.signedQuery}&tenant=${b}` },
    { group: "other tenant's id", label: "B's rule id in the attacker's signed line", script: `crm-routing?rule=${B}&tenant=${a}&sig=${attacker.sig}` },
    { group: "other tenant's id", label: "B's rule and tenant with the attacker's signature", script: `crm-routing?rule=${B}&tenant=${b}&sig=${attacker.sig}` },
    { group: 'bad signature', label: 'made-up signature', script: `crm-routing?rule=${B}&tenant=${b}&sig=AAAAAAAAAAAAAAAAAAAAAA` },
    { group: 'bad signature', label: 'empty signature', script: `crm-routing?rule=${B}&tenant=${b}&sig=` },
    { group: 'bad signature', label: 'signature of another length', script: `crm-routing?rule=${B}&tenant=${b}&sig=${attacker.sig}${attacker.sig}` },
    { group: 'agi_arg_1', label: 'AGI(agi://host/crm-routing,B)', script: 'crm-routing', args: [String(B)] },
    { group: 'agi_arg_1', label: 'AGI(agi://host/crm-routing?tenant=B,B)', script: `crm-routing?tenant=${b}`, args: [String(B)] },
    { group: 'agi_arg_1', label: "the attacker's line path with B as agi_arg_1", script: `crm-routing?tenant=${a}&sig=${attacker.sig}`, args: [String(B)] },
  ];
}

/** Statuses that mean "refused, nothing looked up". */
export const REFUSED_STATUSES = new Set(['FORBIDDEN', 'UNKNOWN_RULE', 'BAD_REQUEST']);
