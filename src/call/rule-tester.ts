/**
 * "Test rule": the call path without a call. A caller number (and digits) in; the CRM's answer,
 * the matching row, the destination and the time taken out. Uses the same connector, deadline,
 * evaluation and destination lookup as a live call, so what it shows is what a call would do.
 */
import type { DialplanTarget, HostDestinations } from '../host';
import { decide, toDefault, type RoutingDecision } from '../domain/decide';
import { digitsAccepted } from './dtmf';
import type { Rule } from '../domain/rule';
import type { LookupResult } from '../crm/connector';
import type { RuleConnectors } from '../crm/rule-connectors';
import { lookupWithin } from './lookup-within';
import type { OwnerRouting } from './owner-routing';

export interface RuleTestInput {
  callerId: string;
  did: string;
  dtmf: string;
}

export interface RuleTestReport {
  result: LookupResult | { kind: 'skipped'; reason: string };
  decision: RoutingDecision;
  /** Where the call would be sent; undefined when that destination no longer exists. */
  target: DialplanTarget | undefined;
  lookupMs: number | null;
  /** "Owner's extension" rows: who the value named, and why they got no extension (OWNER_UNKNOWN). */
  owner?: { owner: string | null; why?: string };
}

export class RuleTester {
  constructor(private readonly connectors: RuleConnectors, private readonly destinations: HostDestinations, private readonly owners: Pick<OwnerRouting, 'resolve'>) {}

  async test(rule: Rule, input: RuleTestInput): Promise<RuleTestReport> {
    if (rule.location === 'ivr' && rule.greeting && !digitsAccepted(input.dtmf, rule.greeting.pattern)) {
      const decision = this.reachable(rule, decide(rule, { kind: 'invalid_dtmf' }));
      return { result: { kind: 'skipped', reason: 'The digits do not match the greeting\'s validation pattern: a caller would get INVALID_DTMF after the retries.' }, decision, target: this.targetOf(rule, decision), lookupMs: null };
    }
    const { result, lookupMs } = await lookupWithin(this.connectors.forRule(rule), {
      tenantId: rule.tenantId, ruleId: rule.id, callerId: input.callerId, did: input.did, dtmf: input.dtmf,
      fieldName: rule.fieldName, module: rule.source.kind === 'integration' ? rule.source.module : '',
      credentials: rule.source.kind === 'integration' ? { username: rule.source.username, password: rule.source.password } : { username: '', password: '' },
    }, rule.deadlineSeconds * 1000);
    const decided = this.reachable(rule, decide(rule, result.kind === 'error'
      ? { kind: 'error', timeout: result.code === 'TIMEOUT' }
      : result.kind === 'not_found' ? (input.callerId === '' ? { kind: 'no_caller_id' } : { kind: 'not_found' }) : result));
    if (decided.outcome !== 'MATCH' || decided.destination.type !== 'owner') return { result, decision: decided, target: this.targetOf(rule, decided), lookupMs };
    const remainingMs = rule.deadlineSeconds * 1000 - (lookupMs ?? 0);
    const resolved = await this.owners.resolve(rule, decided, result.kind === 'value' ? result.value : '', remainingMs);
    const owner = { owner: resolved.owner, ...(resolved.why ? { why: resolved.why } : {}) };
    return { result, decision: resolved.decision, target: this.targetOf(rule, resolved.decision), lookupMs, owner };
  }

  /** As a call: a failure branch whose destination left the PBX gives way to the default destination. */
  private reachable(rule: Rule, decision: RoutingDecision): RoutingDecision {
    if (decision.branch === 'row' || decision.branch === 'default' || this.targetOf(rule, decision)) return decision;
    return toDefault(rule, decision.outcome);
  }

  private targetOf(rule: Rule, decision: RoutingDecision): DialplanTarget | undefined {
    return this.destinations.target(rule.tenantId, decision.destination, decision.voicemail ? { voicemail: decision.voicemail } : {});
  }
}
