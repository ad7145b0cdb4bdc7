/**
 * From what the CRM said to where the call goes: the outcome the call records, the branch it
 * takes and its destination. Keeps the outcomes apart (no row matched, caller not found, CRM
 * error, timeout, bad digits); a failure goes to the rule's branch for it when one is set
 * ("When the lookup fails"), every other outcome that is not a match to the default destination.
 * Pure: the call flow and the "Test rule" tool both use it.
 */
import type { DefaultVoicemail, DestinationRef } from './destination';
import { evaluateRows } from './evaluate';
import type { OutcomeBranches, Rule } from './rule';

export const OUTCOMES = [
  'MATCH', // a row matched
  'NO_MATCH', // a value, but no row matched
  'EMPTY_VALUE', // the caller was found, the field is blank, no row matched
  'NOT_FOUND', // no CRM record for the caller, no row matched ("is empty" rows match it)
  'CRM_ERROR', // the CRM failed (HTTP error, TLS, auth, bad answer...)
  'CRM_TIMEOUT', // the deadline passed before the CRM answered
  'INVALID_DTMF', // the greeting collected no or invalid digits
  'NO_CALLER_ID', // the call had no caller ID to look up and no row matched an empty value
  'DESTINATION_MISSING', // the matched row's destination no longer exists: default used
  'OWNER_UNKNOWN', // an "Owner's extension" row matched, but the owner has no extension (or no directory): default used
  'OVERLOADED', // too many calls at once: default destination without a lookup
  'STOPPING', // the plugin stopped while the call waited: default destination
  'HANGUP', // the caller left; nothing was moved
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What the lookup produced, in the terms decide() needs. */
export type LookupOutcome =
  | { kind: 'value'; value: string }
  | { kind: 'not_found' }
  | { kind: 'no_caller_id' }
  | { kind: 'error'; timeout: boolean }
  | { kind: 'invalid_dtmf' };

/**
 * Which way the call went: a row, the default destination, or one of the rule's failure
 * branches. Recorded with every decision (null only when nothing was moved).
 */
export const BRANCHES = ['row', 'default', 'not_found', 'crm_error', 'invalid_digits'] as const;
export type Branch = (typeof BRANCHES)[number];

/** Labels as the pages show them. */
export const BRANCH_LABELS: Record<Branch, string> = {
  row: 'Matching row',
  default: 'Default destination',
  not_found: 'Caller not found in the CRM',
  crm_error: 'CRM error or deadline passed',
  invalid_digits: 'No or invalid digits',
};

/** The failure branch an outcome takes when the rule sets one. */
const BRANCH_OF: Partial<Record<Outcome, { branch: Exclude<Branch, 'row' | 'default'>; key: keyof OutcomeBranches }>> = {
  NOT_FOUND: { branch: 'not_found', key: 'notFound' },
  NO_CALLER_ID: { branch: 'not_found', key: 'notFound' },
  CRM_ERROR: { branch: 'crm_error', key: 'crmError' },
  CRM_TIMEOUT: { branch: 'crm_error', key: 'crmError' },
  INVALID_DTMF: { branch: 'invalid_digits', key: 'invalidDigits' },
};

export interface RoutingDecision {
  outcome: Outcome;
  branch: Branch;
  /** 0-based index of the matched row, or null. */
  rowIndex: number | null;
  destination: DestinationRef;
  /** Only the default destination carries the rule's voicemail choice. */
  voicemail: DefaultVoicemail | undefined;
}

/** What decide() reads of a rule; a rule without `branches` sends every failure to the default. */
export type DecidingRule = Pick<Rule, 'rows' | 'defaultDestination' | 'defaultVoicemail'> & Partial<Pick<Rule, 'branches' | 'location'>>;

export function decide(rule: DecidingRule, lookup: LookupOutcome): RoutingDecision {
  const fallback = (outcome: Outcome): RoutingDecision => {
    const branch = branchFor(rule, outcome);
    if (branch) return { outcome, branch: branch.branch, rowIndex: null, destination: branch.destination, voicemail: undefined };
    return toDefault(rule, outcome);
  };
  switch (lookup.kind) {
    case 'invalid_dtmf':
      return fallback('INVALID_DTMF');
    case 'error':
      return fallback(lookup.timeout ? 'CRM_TIMEOUT' : 'CRM_ERROR');
    default: {
      const value = lookup.kind === 'value' ? lookup.value : '';
      const rowIndex = evaluateRows(value, rule.rows);
      if (rowIndex !== null) return { outcome: 'MATCH', branch: 'row', rowIndex, destination: rule.rows[rowIndex]!.destination, voicemail: undefined };
      if (lookup.kind === 'not_found') return fallback('NOT_FOUND');
      if (lookup.kind === 'no_caller_id') return fallback('NO_CALLER_ID');
      return fallback(value.trim() === '' ? 'EMPTY_VALUE' : 'NO_MATCH');
    }
  }
}

/** The default destination with its voicemail choice, for `outcome`. */
export function toDefault(rule: Pick<Rule, 'defaultDestination' | 'defaultVoicemail'>, outcome: Outcome): RoutingDecision {
  return { outcome, branch: 'default', rowIndex: null, destination: rule.defaultDestination, voicemail: rule.defaultVoicemail };
}

/** The rule's branch for a failure outcome, when it sets one ("No or invalid digits" only on IVR rules). */
function branchFor(rule: DecidingRule, outcome: Outcome): { branch: Branch; destination: DestinationRef } | undefined {
  const which = BRANCH_OF[outcome];
  if (!which || !rule.branches) return undefined;
  if (which.key === 'invalidDigits' && rule.location === 'did') return undefined;
  const destination = rule.branches[which.key];
  return destination ? { branch: which.branch, destination } : undefined;
}
