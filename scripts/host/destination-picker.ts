/**
 * The host's destination pickers (a DID's destination, an IVR option's), as a PBX admin offers
 * them: CRM Routing rules of the picker's own Location (DID rules on DIDs, IVR rules on IVR
 * options), none while the license is off, then the catalog. Also how a chosen destination is
 * described, checked on save, and written as dialplan lines.
 */
import type { CatalogEntry, HostDestinations, RoutingDestination } from '../../src/host';

export const RULE_PREFIX = 'crm-routing:';

export interface PickerContext {
  rules: RoutingDestination[];
  catalog: CatalogEntry[];
  /** Which rules this picker may offer. */
  location: 'did' | 'ivr';
  licensed: boolean;
}

export interface PickerGroup {
  label: string;
  choices: Array<{ value: string; label: string }>;
}

const LOCATION_NAMES = { did: 'DID', ivr: 'IVR' } as const;

export function pickerGroups(ctx: PickerContext): PickerGroup[] {
  const rules = ctx.licensed ? ctx.rules.filter((r) => r.location === ctx.location) : [];
  const groups: PickerGroup[] = [];
  if (rules.length > 0) groups.push({ label: 'CRM Routing', choices: rules.map((r) => ({ value: `${RULE_PREFIX}${r.ruleId}`, label: r.name })) });
  groups.push({ label: 'Catalog', choices: ctx.catalog.map((e) => ({ value: `${e.kind}:${e.id}`, label: e.label })) });
  return groups;
}

/** Why `choice` cannot be saved in this picker, or undefined when it can. */
export function destinationProblem(choice: string, ctx: PickerContext): string | undefined {
  if (choice === '') return 'Choose a destination.';
  if (choice.startsWith(RULE_PREFIX)) {
    if (!ctx.licensed) return 'CRM Routing is not enabled in the license: its rules cannot be chosen. Enable it on the License page.';
    const rule = ruleOf(choice, ctx.rules);
    if (!rule) return 'That CRM Routing rule no longer exists; choose another destination.';
    if (rule.location !== ctx.location) {
      return ctx.location === 'did'
        ? `Rule '${rule.name}' has Location IVR: it is meant for an IVR option. Choose a DID rule, or change the rule's Location under CRM > Routing.`
        : `Rule '${rule.name}' has Location DID: an IVR option can use only rules whose Location is IVR. Choose an IVR rule, or change the rule's Location under CRM > Routing.`;
    }
    return undefined;
  }
  return ctx.catalog.some((e) => `${e.kind}:${e.id}` === choice) ? undefined : 'That destination is not on this PBX; choose one from the list.';
}

export function ruleOf(choice: string, rules: RoutingDestination[]): RoutingDestination | undefined {
  return choice.startsWith(RULE_PREFIX) ? rules.find((r) => `${RULE_PREFIX}${r.ruleId}` === choice) : undefined;
}

/** What a saved destination is, as the DID and IVR pages list it. */
export function describeChoice(choice: string, ctx: Omit<PickerContext, 'location'>): string {
  if (choice.startsWith(RULE_PREFIX)) {
    const rule = ruleOf(choice, ctx.rules);
    if (!rule) return `CRM Routing: rule ${choice.slice(RULE_PREFIX.length)} was removed (calls take the dialplan's fallback line): choose another destination`;
    return `CRM Routing: ${rule.name} (${LOCATION_NAMES[rule.location]})${ctx.licensed ? '' : ' - not licensed: calls take the fallback line'}`;
  }
  return ctx.catalog.find((e) => `${e.kind}:${e.id}` === choice)?.label ?? choice;
}

/** The dialplan lines of one extension (a DID number, an IVR key) sending calls to `choice`. */
export function dialplanLines(exten: string, choice: string, rules: RoutingDestination[], tenantId: string, destinations: HostDestinations): string[] {
  const rule = ruleOf(choice, rules);
  if (rule) return [`exten => ${exten},1,NoOp(CRM Routing rule ${rule.ruleId})`, ...rule.dialplan.map((line) => ` same => n,${line}`)];
  const at = choice.indexOf(':');
  const target = at > 0 ? destinations.target(tenantId, { type: choice.slice(0, at) as never, target: choice.slice(at + 1) }) : undefined;
  if (!target) return [`exten => ${exten},1,Hangup()`];
  const sets = Object.entries(target.variables ?? {}).map(([name, value]) => ` same => n,Set(${name}=${value})`);
  return sets.length === 0
    ? [`exten => ${exten},1,Goto(${target.context},${target.exten},${target.priority})`]
    : [`exten => ${exten},1,NoOp(${choice})`, ...sets, ` same => n,Goto(${target.context},${target.exten},${target.priority})`];
}
