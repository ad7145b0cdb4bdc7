/**
 * From a finished call and one integration's log options to what the outbox stores: the
 * CallActivity to write, or the option that skips the call. Pure: the routing decisions, the
 * agent and the recording link are looked up by the caller (call-log-service.ts).
 */
import { createHash } from 'node:crypto';
import type { CallActivity } from '../crm/call-log-writer';
import type { CompletedCall } from './completed-call';
import { CALL_KIND_LABELS, SUBJECT_PLACEHOLDERS, type CallKind, type CallLogOptions, type SubjectPlaceholder } from './log-options';

/** A routing decision of the call (decision-store.ts), as the notes tell it. */
export interface RoutingNote {
  ruleId: number;
  ruleName?: string;
  value: string | null;
  errorCode: string | null;
  outcome: string;
  /** 0-based index of the matching row; null for the default destination. */
  rowIndex: number | null;
  destination: string | null;
}

export interface ActivityContext {
  /** "custom" or the CRM kind: part of the external id. */
  integration: string;
  options: CallLogOptions;
  routing: RoutingNote[];
  agentName?: string;
  ownerEmail?: string;
  recordingUrl?: string;
}

export type DeliveryPlan = { kind: 'write'; activity: CallActivity } | { kind: 'skip'; reason: string };

/** Which of the options' call kinds a call is. A failed inbound call (congestion) counts as missed. */
export function callKindOf(call: CompletedCall): CallKind {
  if (call.direction === 'outbound') return 'outbound';
  switch (call.disposition) {
    case 'answered': return 'inboundAnswered';
    case 'abandoned': return 'inboundAbandoned';
    case 'busy': return 'busy';
    default: return 'inboundMissed';
  }
}

/** Answered calls count their talk time; the others how long they rang. */
export function countedSeconds(call: CompletedCall): number {
  if (call.disposition === 'answered') return Math.max(0, Math.round(call.talkSeconds));
  return Math.max(0, Math.round((call.endedAt.getTime() - call.startedAt.getTime()) / 1000));
}

/** Stable per tenant, integration and call, across retries and processes: `cl-` + 32 url-safe characters. */
export function externalIdOf(tenantId: string, integration: string, linkedId: string): string {
  return `cl-${createHash('sha256').update(`${tenantId}\u0000${integration}\u0000${linkedId}`).digest('base64url').slice(0, 32)}`;
}

export function planDelivery(call: CompletedCall, context: ActivityContext): DeliveryPlan {
  const { options } = context;
  const kind = callKindOf(call);
  if (!options.calls[kind]) return { kind: 'skip', reason: `${CALL_KIND_LABELS[kind].replace(/ \(.*\)$/, '')} calls are not logged (log options).` };
  const seconds = countedSeconds(call);
  if (seconds < options.minSeconds) return { kind: 'skip', reason: `Shorter than ${options.minSeconds} s (${seconds} s; log options).` };
  const routing = options.routingNotes ? context.routing : [];
  const values = placeholderValues(call, context, routing[0]);
  return {
    kind: 'write',
    activity: {
      externalId: externalIdOf(call.tenantId, context.integration, call.linkedId),
      direction: call.direction,
      disposition: call.disposition,
      externalNumber: call.externalNumber,
      ...((call.direction === 'inbound' ? call.did : call.agentExtension) ? { pbxNumber: (call.direction === 'inbound' ? call.did : call.agentExtension)! } : {}),
      startedAt: call.startedAt,
      durationSeconds: Math.max(0, Math.round(call.talkSeconds)),
      subject: renderSubject(options.subject, values),
      notes: notesOf(call, context, routing),
      ...(context.ownerEmail ? { ownerEmail: context.ownerEmail } : {}),
      unknownCaller: options.unknownCaller,
      ...(context.recordingUrl ? { recordingUrl: context.recordingUrl } : {}),
    },
  };
}

/** The subject template filled in: one line, at most 255 characters. */
export function renderSubject(template: string, values: Record<SubjectPlaceholder, string>): string {
  const filled = template.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => (Object.hasOwn(SUBJECT_PLACEHOLDERS, name) ? values[name as SubjectPlaceholder] : whole));
  // eslint-disable-next-line no-control-regex
  return filled.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 255);
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m ${rest}s` : `${m}m ${rest}s`;
}

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function placeholderValues(call: CompletedCall, context: ActivityContext, routing: RoutingNote | undefined): Record<SubjectPlaceholder, string> {
  return {
    direction: capital(call.direction),
    caller: call.externalNumber || 'unknown',
    did: call.did ?? '',
    agent: context.agentName ?? call.agentExtension ?? '',
    duration: formatDuration(call.talkSeconds),
    disposition: capital(call.disposition),
    rule: routing ? (routing.ruleName ?? `rule ${routing.ruleId}`) : '',
    outcome: routing ? outcomeText(routing) : '',
  };
}

function outcomeText(note: RoutingNote): string {
  return note.rowIndex !== null ? `row ${note.rowIndex + 1}` : `default destination (${note.outcome}${note.errorCode ? `, ${note.errorCode}` : ''})`;
}

function notesOf(call: CompletedCall, context: ActivityContext, routing: RoutingNote[]): string {
  const agent = call.agentExtension ? `${context.agentName ? `${context.agentName} (${call.agentExtension})` : call.agentExtension}` : undefined;
  const lines = [
    call.direction === 'inbound'
      ? `Inbound call from ${call.externalNumber || 'an unknown number'}${call.did ? ` to ${call.did}` : ''}${call.queue ? ` through queue ${call.queue}` : ''}: ${call.disposition}${agent && call.disposition === 'answered' ? ` by ${agent}` : ''}.`
      : `Outbound call${agent ? ` from ${agent}` : ''} to ${call.externalNumber}: ${call.disposition}.`,
    `Started ${call.startedAt.toISOString()}; talk time ${formatDuration(call.talkSeconds)}.`,
  ];
  for (const note of routing) {
    lines.push(`Routed by CRM Routing rule "${note.ruleName ?? note.ruleId}" (id ${note.ruleId}): CRM value ${note.value === null ? '(none)' : JSON.stringify(note.value)}, ${outcomeText(note)}${note.destination ? `, to ${note.destination}` : ''}.`);
  }
  if (context.recordingUrl) lines.push(`Recording: ${context.recordingUrl}`);
  return lines.join('\n');
}
