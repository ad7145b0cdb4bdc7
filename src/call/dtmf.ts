/**
 * The greeting of an IVR rule: play the recording, collect digits with GET DATA, check them
 * against the rule's pattern, try again as configured. Only GET DATA is sent while the caller
 * types; nothing else may be written until it answers (a write would cancel it).
 */
import type { Greeting } from '../domain/rule';
import type { AgiSession } from './agi-session';

export type DigitsResult = { kind: 'digits'; digits: string; attempts: number } | { kind: 'invalid'; attempts: number; last: string } | { kind: 'hangup' };

/** Whether collected digits satisfy the rule: a whole-input match of its pattern, or any digits. */
export function digitsAccepted(digits: string, pattern: string): boolean {
  if (digits === '') return false;
  return pattern === '' ? /^[0-9*]+$/.test(digits) : new RegExp(`^(?:${pattern})$`).test(digits);
}

export async function collectDigits(session: AgiSession, greeting: Greeting): Promise<DigitsResult> {
  let last = '';
  const attempts = 1 + greeting.retries;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const result = await session.getData(greeting.recording, greeting.timeoutSeconds * 1000, greeting.maxDigits);
    if (session.hangupReceived || session.isClosed) return { kind: 'hangup' };
    // A missing prompt file answers -1 at once: collecting again would fail the same way.
    if (result.failed) return { kind: 'invalid', attempts: attempt, last: '' };
    last = result.digits;
    if (digitsAccepted(result.digits, greeting.pattern)) return { kind: 'digits', digits: result.digits, attempts: attempt };
  }
  return { kind: 'invalid', attempts, last };
}
