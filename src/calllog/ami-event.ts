/**
 * An AMI event as the call log reads it: header names lower-cased (asterisk-manager's parsing),
 * one string value per header. Pure, no I/O.
 */
import type { AmiMessage } from '../ami/ami-session';

export type AmiEvent = Readonly<Record<string, string>>;

/** Keeps the string headers of a parsed message (the first of a repeated one); undefined when it is not an event. */
export function toAmiEvent(message: AmiMessage): AmiEvent | undefined {
  if (typeof message.event !== 'string') return undefined;
  const event: Record<string, string> = {};
  for (const [name, value] of Object.entries(message)) {
    if (typeof value === 'string') event[name] = value;
    else if (Array.isArray(value) && typeof value[0] === 'string') event[name] = value[0];
  }
  return event;
}

/** Parses `Name: value` lines (a fixture, a test) the way asterisk-manager does: names lower-cased, split at the first ": ". */
export function amiEventOf(headers: ReadonlyArray<readonly [string, string]>): AmiEvent {
  const event: Record<string, string> = {};
  for (const [name, value] of headers) {
    const key = name.replace(/\s/g, '').toLowerCase();
    if (!(key in event)) event[key] = value;
  }
  return event;
}
