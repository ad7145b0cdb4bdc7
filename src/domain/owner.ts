/**
 * "Owner's extension" rows: the CRM value names the record's owner (an e-mail, an extension
 * number or a CRM user id); once the call path has looked that owner up, this decides where the
 * call goes. An owner found with an extension takes the row; an owner unknown to the PBX (or a
 * PBX without a directory) takes the default destination with its own outcome, OWNER_UNKNOWN.
 * Pure: the call flow and "Test rule" share it.
 */
import type { RoutingDecision } from './decide';
import { isOwnerKey, type OwnerKey } from './destination';
import type { Rule } from './rule';

/** What the directory (and the CRM, for a user id) said about the owner the value names. */
export type OwnerFound =
  | { kind: 'extension'; extension: string; owner: string }
  /** `owner` is what was looked for (the e-mail or number), when known; `why` says what went wrong. */
  | { kind: 'unknown'; owner: string | null; why: string };

/** The row's owner key when the decision is an "Owner's extension" row; undefined otherwise. */
export function ownerKeyOf(decision: RoutingDecision): OwnerKey | undefined {
  if (decision.outcome !== 'MATCH' || decision.destination.type !== 'owner') return undefined;
  return isOwnerKey(decision.destination.target) ? decision.destination.target : 'email';
}

export function ownerDecision(rule: Pick<Rule, 'defaultDestination' | 'defaultVoicemail'>, matched: RoutingDecision, found: OwnerFound): RoutingDecision {
  if (found.kind === 'extension') {
    return { outcome: 'MATCH', branch: 'row', rowIndex: matched.rowIndex, destination: { type: 'extension', target: found.extension }, voicemail: undefined };
  }
  return { outcome: 'OWNER_UNKNOWN', branch: 'default', rowIndex: null, destination: rule.defaultDestination, voicemail: rule.defaultVoicemail };
}

/** A value a directory may be asked about: one line, bounded; anything else names no one. */
export function ownerValue(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > 254 || /[\u0000-\u001f\u007f]/.test(trimmed)) return undefined;
  return trimmed;
}
