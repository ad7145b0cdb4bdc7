/**
 * AGI command lines and what their replies mean, without sockets. Every value that goes into a
 * line passes `quoteAgiArgument`, which refuses CR, LF and NUL: a newline inside an argument
 * would inject a second command.
 */
import type { AgiReply } from './agi-parser';
import { AgiError } from './agi-error';

const UNSAFE = /[\r\n\u0000]/;
const APPLICATION_NAME = /^[A-Za-z0-9_]+$/;

/**
 * Longest command line, LF excluded. res_agi reads a command with fgets() into a 2048-byte
 * buffer (AGI_BUF_LEN): a longer line is cut there and its rest runs as a second command.
 */
export const AGI_MAX_COMMAND_BYTES = 2046;

/** Throws AgiError('UNSAFE_ARGUMENT') unless `line` is one whole command res_agi reads as one. */
export function assertSafeAgiCommand(line: string): void {
  assertSafeAgiText(line, 'The AGI command');
  if (line.trim() === '') throw new AgiError('UNSAFE_ARGUMENT', 'An AGI command cannot be empty.');
  const bytes = Buffer.byteLength(line, 'utf8');
  if (bytes > AGI_MAX_COMMAND_BYTES) {
    throw new AgiError('UNSAFE_ARGUMENT', `The AGI command is ${bytes} bytes; Asterisk reads at most ${AGI_MAX_COMMAND_BYTES} as one command. It was not sent.`);
  }
}

/** Throws AgiError('UNSAFE_ARGUMENT') when `value` holds CR, LF or NUL. */
export function assertSafeAgiText(value: string, what: string): void {
  if (UNSAFE.test(value)) {
    throw new AgiError('UNSAFE_ARGUMENT', `${what} holds a CR, LF or NUL character; it was not sent to Asterisk.`);
  }
}

/**
 * One AGI argument in double quotes. res_agi's parse_args reads a backslash as "take the next
 * character literally", so both `\` and `"` are escaped (measured: `"say \"hi\" now"` gives
 * `say "hi" now`).
 */
export function quoteAgiArgument(value: string, what = 'An AGI argument'): string {
  assertSafeAgiText(value, what);
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

function wholeNumber(value: number, what: string, min: number): string {
  if (!Number.isInteger(value) || value < min) throw new AgiError('UNSAFE_ARGUMENT', `${what} must be a whole number of at least ${min} (got ${value}).`);
  return String(value);
}

export const agiCommandLine = {
  setVariable: (name: string, value: string): string =>
    `SET VARIABLE ${quoteAgiArgument(name, 'The variable name')} ${quoteAgiArgument(value, `The value of ${name}`)}`,
  getVariable: (name: string): string => `GET VARIABLE ${quoteAgiArgument(name, 'The variable name')}`,
  verbose: (message: string, level: number): string =>
    `VERBOSE ${quoteAgiArgument(message, 'The verbose message')} ${wholeNumber(level, 'The verbose level', 1)}`,
  getData: (file: string, timeoutMs: number, maxDigits: number): string =>
    `GET DATA ${quoteAgiArgument(file, 'The prompt file')} ${wholeNumber(timeoutMs, 'The GET DATA timeout', 1)} ${wholeNumber(maxDigits, 'The maximum digits', 1)}`,
  setContext: (context: string): string => `SET CONTEXT ${quoteAgiArgument(context, 'The context')}`,
  setExtension: (exten: string): string => `SET EXTENSION ${quoteAgiArgument(exten, 'The extension')}`,
  setPriority: (priority: number): string => `SET PRIORITY ${wholeNumber(priority, 'The priority', 1)}`,
  exec: (application: string, args?: string): string => {
    if (!APPLICATION_NAME.test(application)) throw new AgiError('UNSAFE_ARGUMENT', `The application name ${JSON.stringify(application)} is not a plain name.`);
    return args === undefined ? `EXEC ${application}` : `EXEC ${application} ${quoteAgiArgument(args, `The arguments of ${application}`)}`;
  },
};

/**
 * A name or value MSet can carry as it is: letters, digits and `_ . @ + -`. None of them is
 * special to AGI's quoting (`"`, `\\`, space), to the application's argument split (`,`, quotes,
 * parentheses, brackets, backslash), to MSet's `=` or to variable substitution (`$`), so the
 * pair arrives exactly as sent whatever each layer does.
 */
const MSET_TOKEN = /^[A-Za-z0-9_.@+-]*$/;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The command lines that set `variables` in as few round trips as is safe: the pairs made of
 * plain tokens (see MSET_TOKEN) in `EXEC MSet "A=1,B=2"` lines (measured: all set in one round
 * trip, `200 result=0`), each at most AGI_MAX_COMMAND_BYTES; every other pair, and a lone
 * token pair, in its own SET VARIABLE, which carries any text. MSet lines come first.
 */
export function setVariablesLines(variables: ReadonlyArray<readonly [string, string]>): string[] {
  const lines: string[] = [];
  const others: Array<readonly [string, string]> = [];
  let batch: string[] = [];
  let firstPair: readonly [string, string] | undefined;
  // `EXEC MSet "` + the pairs joined by commas + `"`; tokens are ASCII and need no escaping, so
  // the line's length (its size in bytes) is known without building it.
  let length = 0;
  const flush = () => {
    if (batch.length === 1) lines.push(agiCommandLine.setVariable(...firstPair!));
    else if (batch.length > 1) lines.push(agiCommandLine.exec('MSet', batch.join(',')));
    batch = [];
  };
  for (const pair of variables) {
    const [name, value] = pair;
    if (!VARIABLE_NAME.test(name) || !MSET_TOKEN.test(value)) {
      others.push(pair);
      continue;
    }
    const assignment = `${name}=${value}`;
    if (batch.length > 0 && length + 1 + assignment.length > AGI_MAX_COMMAND_BYTES) flush();
    if (batch.length === 0) {
      firstPair = pair;
      length = MSET_PREFIX_BYTES + assignment.length;
    } else {
      length += 1 + assignment.length;
    }
    batch.push(assignment);
  }
  flush();
  for (const [name, value] of others) lines.push(agiCommandLine.setVariable(name, value));
  return lines;
}

/** `EXEC MSet ""`: an MSet line without its pairs. */
const MSET_PREFIX_BYTES = 'EXEC MSet ""'.length;

/** What GET DATA gave, per the measured table in asterisk.md. */
export interface GetDataResult {
  /** Digits typed; '' when none (or `#` alone). */
  digits: string;
  /** The caller stopped typing before max digits (`(timeout)`), also with no digit at all. */
  timedOut: boolean;
  /** No digits could be collected: missing prompt file, hang-up or redirect (`-1`), dead channel (511). */
  failed: boolean;
}

export function readGetDataReply(reply: AgiReply, command: string): GetDataResult {
  if (reply.kind === 'dead-channel') return { digits: '', timedOut: false, failed: true };
  const result = expectResult(reply, command);
  if (result.result === '-1') return { digits: '', timedOut: false, failed: true };
  return { digits: result.result, timedOut: result.data === 'timeout', failed: false };
}

/** The value of a variable: `200 result=1 (value)`, or undefined for `200 result=0` (not set). */
export function readGetVariableReply(reply: AgiReply, command: string): string | undefined {
  const result = expectResult(reply, command);
  return result.result === '1' ? (result.data ?? '') : undefined;
}

/** A `200 result=<code>` whose code must be one of `accepted`; anything else throws. */
export function expectResultCode(reply: AgiReply, command: string, accepted: readonly string[]): void {
  const result = expectResult(reply, command);
  if (!accepted.includes(result.result)) {
    throw new AgiError('COMMAND_REJECTED', `Asterisk answered "${result.raw}" to ${command}.`, { reply });
  }
}

/** The numeric result of a `200` reply (EXEC: 0 ran, -2 no such application). */
export function readNumericResult(reply: AgiReply, command: string): number {
  const result = expectResult(reply, command);
  const value = Number.parseInt(result.result, 10);
  if (Number.isNaN(value)) throw new AgiError('COMMAND_REJECTED', `Asterisk answered "${result.raw}" to ${command}.`, { reply });
  return value;
}

export function expectResult(reply: AgiReply, command: string): Extract<AgiReply, { kind: 'result' }> {
  if (reply.kind !== 'result') {
    throw new AgiError('COMMAND_REJECTED', `Asterisk answered "${reply.raw.split('\n')[0]}" to ${command}.`, { reply });
  }
  return reply;
}

/** The command's verb for logs, without its arguments (they may hold a caller's data). */
export function verbOf(line: string): string {
  const first = line.indexOf(' ');
  if (first === -1) return line;
  const second = line.indexOf(' ', first + 1);
  return second === -1 ? line : line.slice(0, second);
}
