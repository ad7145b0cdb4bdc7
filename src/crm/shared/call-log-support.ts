/**
 * What the call-log writers of several CRMs share: a CrmError turned into a CallLogResult (with
 * whether a retry can help, from call-log-result.ts), the record id derived from the call's external id (CRMs that take
 * a client-chosen id make a retry find its own earlier write), durations in minutes, the
 * Held / Not Held status of the Sugar family, the limits every write runs under, and the order in
 * which the writers that choose their record's id go about a call (logCallWithId).
 */
import { createHash } from 'node:crypto';
import type { CallActivity, CallLogResult } from '../call-log-writer';
import { CALL_LOG_TIMEOUT_MS, callLogResult, unknownCallerName as nameOfNumber } from './call-log-result';

/** Shared with the other writers (call-log-result.ts): error results and whether a retry can help. */
export { callLogResult, isRetryable } from './call-log-result';

/** Each write request's own timeout: a CRM that takes longer is retried later by the outbox. */
export const WRITE_TIMEOUT_MS = CALL_LOG_TIMEOUT_MS;
/** How long one logCall may wait out a 429 (withSession's deadline); the outbox waits for longer ones. */
export const WRITE_BUDGET_MS = 30_000;

/** The plugin's own UUID namespace for ids derived from external ids (RFC 9562 name-based, SHA-1). */
const NAMESPACE = Buffer.from('8e0a4f1c5b7d4e2a9c3f6d1b2a4e7c90', 'hex');

/**
 * A version 5 UUID of `externalId` (and a `purpose`, so the call and a contact created for it get
 * different ids): the same call always yields the same id, in every process.
 */
export function callUuid(externalId: string, purpose = 'call'): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${purpose}:${externalId}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Talk time in whole minutes, rounded up: a 40 s answered call is 1 minute, not 0. */
export function durationMinutes(seconds: number): number {
  return seconds > 0 ? Math.ceil(seconds / 60) : 0;
}

/** Hours and minutes (Sugar, SuiteCRM, Vtiger), from the rounded-up minutes. */
export function hoursAndMinutes(seconds: number): { hours: number; minutes: number } {
  const total = durationMinutes(seconds);
  return { hours: Math.floor(total / 60), minutes: total % 60 };
}

/** Sugar / SuiteCRM / Vtiger call status: only an answered call was Held. */
export function heldStatus(activity: CallActivity): 'Held' | 'Not Held' {
  return activity.disposition === 'answered' ? 'Held' : 'Not Held';
}

/** Inbound / Outbound, the word the Sugar family and Vtiger use. */
export function directionWord(activity: CallActivity): 'Inbound' | 'Outbound' {
  return activity.direction === 'inbound' ? 'Inbound' : 'Outbound';
}

/** When the call ended: start plus talk time. */
export function endedAt(activity: CallActivity): Date {
  return new Date(activity.startedAt.getTime() + Math.max(0, activity.durationSeconds) * 1000);
}

/** Naive UTC `YYYY-MM-DD HH:MM:SS` (SuiteCRM stores dates so, and both its APIs take them as stored). */
export function naiveUtc(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** The notes with the recording link (no CRM of these has a recording field). */
export function notesWithRecording(activity: CallActivity): string {
  return activity.recordingUrl ? `${activity.notes}\nRecording: ${activity.recordingUrl}` : activity.notes;
}

/**
 * A Calls record's fields as SugarCRM and its fork SuiteCRM name them (subject cut to their
 * 50-character name), with dates written the way each API takes them.
 */
export function sugarFamilyCallFields(
  activity: CallActivity, caller: { module: string; id: string }, ownerId: string | undefined, date: (d: Date) => string,
): Record<string, string | number> {
  const { hours, minutes } = hoursAndMinutes(activity.durationSeconds);
  return {
    name: activity.subject.length > 50 ? `${activity.subject.slice(0, 49)}…` : activity.subject,
    date_start: date(activity.startedAt),
    date_end: date(endedAt(activity)),
    duration_hours: hours,
    duration_minutes: minutes,
    status: heldStatus(activity),
    direction: directionWord(activity),
    description: notesWithRecording(activity),
    parent_type: caller.module,
    parent_id: caller.id,
    ...(ownerId ? { assigned_user_id: ownerId } : {}),
  };
}

/** "Caller +15551234567": the name of a record created for an unknown caller. */
export function unknownCallerName(activity: CallActivity): string {
  return nameOfNumber(activity.externalNumber);
}

export const UNKNOWN_SKIPPED: CallLogResult = { kind: 'skipped', reason: 'The caller has no record in the CRM and the log options say to skip unknown callers.' };

/** What a writer that chooses its record's id knows before it writes: the caller, the owner, the id. */
export interface PlannedWrite<Caller> {
  /** Epoch ms this logCall must be done by (WRITE_BUDGET_MS from its start). */
  deadlineAt: number;
  caller: Caller;
  /** The agent's user id in the CRM; undefined when the call has no owner or the CRM has no such user. */
  ownerId: string | undefined;
  /** callUuid(externalId): the same for every retry of this call. */
  id: string;
}

/**
 * logCall of the CRMs whose call records take an id of ours (Dynamics 365 and 2015, SugarCRM,
 * SuiteCRM), in the order they share: the caller found (or made, as the log options say; none:
 * skipped), the owner looked up, the id derived, then `write`; any error becomes a result.
 */
export function logCallWithId<Caller>(what: string, activity: CallActivity, signal: AbortSignal, steps: {
  caller(deadlineAt: number): Promise<Caller | undefined>;
  owner(email: string, deadlineAt: number): Promise<string | undefined>;
  write(plan: PlannedWrite<Caller>): Promise<CallLogResult>;
}): Promise<CallLogResult> {
  return callLogResult(what, signal, async () => {
    const deadlineAt = Date.now() + WRITE_BUDGET_MS;
    const caller = await steps.caller(deadlineAt);
    if (!caller) return UNKNOWN_SKIPPED;
    const ownerId = activity.ownerEmail ? await steps.owner(activity.ownerEmail, deadlineAt) : undefined;
    return steps.write({ deadlineAt, caller, ownerId, id: callUuid(activity.externalId) });
  });
}
