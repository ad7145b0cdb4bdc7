/**
 * FastAGI bytes exactly as measured on Asterisk 22.10.1 (shared/reference/asterisk.md), for the
 * parser's table tests, the fake Asterisk of the session and server tests, and the check that the
 * Asterisk simulator sends what Asterisk sends.
 */

/** `AGI(agi://127.0.0.1:4573/crm-routing?rule=1)` on a call from `"Test Caller" <+15550001111>`. */
export const HEADER_LINES = [
  'agi_network: yes',
  'agi_network_script: crm-routing?rule=1',
  'agi_request: agi://127.0.0.1:4573/crm-routing?rule=1',
  'agi_channel: Local/5551234@from-did-00000000;2',
  'agi_language: en',
  'agi_type: Local',
  'agi_uniqueid: 1795556051.1',
  'agi_version: 22.10.1',
  'agi_callerid: +15550001111',
  'agi_calleridname: Test Caller',
  'agi_callingpres: 0',
  'agi_callingani2: 0',
  'agi_callington: 0',
  'agi_callingtns: 0',
  'agi_dnid: unknown',
  'agi_rdnis: unknown',
  'agi_context: from-did',
  'agi_extension: 5551234',
  'agi_priority: 2',
  'agi_enhanced: 0.0',
  'agi_accountcode: ',
  'agi_threadid: 140350374528704',
];

export const FULL_HEADER = `${HEADER_LINES.join('\n')}\n\n`;

/** The same call without caller ID. */
export const HEADER_WITHOUT_CALLER_ID = `${HEADER_LINES.map((line) =>
  line.startsWith('agi_callerid: ') ? 'agi_callerid: unknown'
    : line.startsWith('agi_calleridname: ') ? 'agi_calleridname: unknown'
      : line.startsWith('agi_callingpres: ') ? 'agi_callingpres: 67'
        : line).join('\n')}\n\n`;

/** `AGI(agi://...,arg one,arg2)`: the arguments follow agi_threadid. */
export const HEADER_WITH_ARGS = `${[...HEADER_LINES, 'agi_arg_1: arg one', 'agi_arg_2: arg2'].join('\n')}\n\n`;

/** A header with one field replaced (or removed with `null`). */
export function headerWith(changes: Record<string, string | null>): string {
  const lines: string[] = [];
  for (const line of HEADER_LINES) {
    const key = line.slice(0, line.indexOf(':'));
    if (!(key in changes)) lines.push(line);
    else if (changes[key] !== null) lines.push(`${key}: ${changes[key]}`);
  }
  for (const [key, value] of Object.entries(changes)) {
    if (value !== null && !HEADER_LINES.some((line) => line.startsWith(`${key}:`))) lines.push(`${key}: ${value}`);
  }
  return `${lines.join('\n')}\n\n`;
}

export const USAGE_BLOCK = [
  '520-Invalid command syntax.  Proper usage follows:',
  ' Usage: STREAM FILE <filename> <escape_digits> [sample offset]',
  '',
  'Send the given file, allowing playback to be interrupted by the given digits, if any.',
  '520 End of proper usage.',
].map((line) => `${line}\n`).join('');
