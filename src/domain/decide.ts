/**
 * From what the CRM said to where the call goes: the outcome the call records and the
 * destination it takes. Keeps the outcomes apart (no row matched, caller not found, CRM error,
 * timeout, bad digits) and applies the default destination to every one that is not a match.
 * Pure: the call flow and the "Test rule" tool both use it.
 */
import type { DefaultVoicemail, DestinationRef } from './destination';
import { evaluateRows } from './evaluate';
import type { Rule } from './rule';

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

export interface RoutingDecision {
  outcome: Outcome;
  /** 0-based index of the matched row, or null. */
  rowIndex: number | null;
  destination: DestinationRef;
  /** Only the default destination carries the rule's voicemail choice. */
  voicemail: DefaultVoicemail | undefined;
}

export function decide(rule: Pick<Rule, 'rows' | 'defaultDestination' | 'defaultVoicemail'>, lookup: LookupOutcome): RoutingDecision {
  const fallback = (outcome: Outcome): RoutingDecision => ({ outcome, rowIndex: null, destination: rule.defaultDestination, voicemail: rule.defaultVoicemail });
  switch (lookup.kind) {
    case 'invalid_dtmf':
      return fallback('INVALID_DTMF');
    case 'error':
      return fallback(lookup.timeout ? 'CRM_TIMEOUT' : 'CRM_ERROR');
    default: {
      const value = lookup.kind === 'value' ? lookup.value : '';
      const rowIndex = evaluateRows(value, rule.rows);
      if (rowIndex !== null) return { outcome: 'MATCH', rowIndex, destination: rule.rows[rowIndex]!.destination, voicemail: undefined };
      if (lookup.kind === 'not_found') return fallback('NOT_FOUND');
      if (lookup.kind === 'no_caller_id') return fallback('NO_CALLER_ID');
      return fallback(value.trim() === '' ? 'EMPTY_VALUE' : 'NO_MATCH');
    }
  }
}
