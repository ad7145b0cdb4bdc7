/**
 * The FastAGI wire format as a pure, incremental parser: bytes in, whole items out. It knows
 * nothing of sockets. It keeps state between chunks, so input split at any byte parses the same,
 * and every buffer it holds is bounded by its options: a peer that sends too much gets an error
 * item, never unbounded buffering. Protocol facts: shared/reference/asterisk.md.
 */

export interface AgiParserOptions {
  /** Largest header, every line and its newline counted. Default 8192. */
  maxHeaderBytes?: number;
  /** Most `key: value` lines in a header. Default 128. */
  maxHeaderLines?: number;
  /** Longest reply line after the header, newline excluded. Default 8192. */
  maxLineBytes?: number;
  /** Largest `520-` usage block, all its lines counted. Default 16384. */
  maxUsageBytes?: number;
}

export const AGI_PARSER_DEFAULTS: Required<AgiParserOptions> = {
  maxHeaderBytes: 8192,
  maxHeaderLines: 128,
  maxLineBytes: 8192,
  maxUsageBytes: 16384,
};

/** One reply to one command. `raw` is the text as received, lines joined by `\n`, CRs dropped. */
export type AgiReply =
  /** `200 result=<result>[ (<data>)][ endpos=<n>]`; `result` may be empty (`200 result= (timeout)`). */
  | { kind: 'result'; code: 200; result: string; data?: string; endpos?: number; raw: string }
  /** `510 Invalid or unknown command`. */
  | { kind: 'invalid-command'; code: 510; message: string; raw: string }
  /** `511 Command Not Permitted on a dead channel or intercept routine`. */
  | { kind: 'dead-channel'; code: 511; message: string; raw: string }
  /** `520-...` usage block up to `520 End of proper usage.`, or the one-line `520 ...`. */
  | { kind: 'usage'; code: 520; message: string; usage: string[]; raw: string };

export type AgiParserErrorCode =
  | 'HEADER_TOO_LARGE'
  | 'HEADER_TOO_MANY_LINES'
  | 'MALFORMED_HEADER'
  | 'LINE_TOO_LONG'
  | 'USAGE_TOO_LARGE';

export type AgiParserEvent =
  /** The whole header, in the order received (a repeated key is MALFORMED_HEADER). */
  | { type: 'header'; fields: Map<string, string> }
  | { type: 'reply'; reply: AgiReply }
  /** A bare `HANGUP` line. It also comes after an AMI redirect and before Asterisk's FIN. */
  | { type: 'hangup' }
  /** A line after the header that is no reply we know; the stream goes on. */
  | { type: 'garbage'; line: string }
  /** The stream can no longer be trusted: the parser ignores all further input. */
  | { type: 'error'; code: AgiParserErrorCode; message: string };

export type AgiParserPhase = 'header' | 'replies' | 'failed';

const LF = 0x0a;
const CR = 0x0d;
const HEADER_KEY = /^[A-Za-z0-9_]+$/;
// `(.*)` is greedy so data holding `)` or ` endpos=` (a variable's value) stays whole.
const RESULT_LINE = /^200 result=(\S*)(?: \((.*)\))?(?: endpos=(-?\d+))?$/;
const CODE_LINE = /^(510|511|520)( |-)(.*)$/;

export class AgiParser {
  private readonly limits: Required<AgiParserOptions>;
  private currentPhase: AgiParserPhase = 'header';
  /** Bytes of the line not yet ended by LF, copied out of the chunks they came in. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private headerFields = new Map<string, string>();
  private headerBytes = 0;
  private headerLines = 0;
  /** The open `520-` block, if any. */
  private usage: { first: string; lines: string[]; bytes: number } | undefined;

  constructor(options?: AgiParserOptions) {
    this.limits = limitsOf(options);
  }

  get phase(): AgiParserPhase {
    return this.currentPhase;
  }

  /** Bytes held between calls; never above the largest of the limits. */
  get bufferedBytes(): number {
    return this.pendingBytes + (this.currentPhase === 'header' ? this.headerBytes : 0) + (this.usage?.bytes ?? 0);
  }

  /** Feeds the next chunk; returns the items it completed, in order. Never throws on any input. */
  push(chunk: Uint8Array | string): AgiParserEvent[] {
    const events: AgiParserEvent[] = [];
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    while (this.currentPhase !== 'failed' && start <= bytes.length) {
      const lf = bytes.indexOf(LF, start);
      if (lf === -1) {
        this.keep(bytes.subarray(start), events);
        break;
      }
      const lineStart = start;
      start = lf + 1;
      if (this.exceedsLimit(lf - lineStart, events)) break;
      const size = this.pendingBytes + lf - lineStart + 1;
      const line = this.takeLine(bytes, lineStart, lf);
      if (this.currentPhase === 'header') this.headerLine(line, size, events);
      else this.replyLine(line, size, events);
    }
    return events;
  }

  private keep(rest: Buffer, events: AgiParserEvent[]): void {
    if (rest.length === 0 || this.exceedsLimit(rest.length, events)) return;
    // A copy, so a small tail does not keep the socket's whole chunk alive.
    this.pending.push(Buffer.from(rest));
    this.pendingBytes += rest.length;
  }

  /** Checks the line being built (pending plus `more` bytes) against the limit of the phase. */
  private exceedsLimit(more: number, events: AgiParserEvent[]): boolean {
    const lineBytes = this.pendingBytes + more;
    if (this.currentPhase === 'header') {
      if (this.headerBytes + lineBytes + 1 > this.limits.maxHeaderBytes) {
        return this.fail(events, 'HEADER_TOO_LARGE', `The AGI header passed ${this.limits.maxHeaderBytes} bytes.`);
      }
    } else if (lineBytes > this.limits.maxLineBytes) {
      return this.fail(events, 'LINE_TOO_LONG', `A line from Asterisk passed ${this.limits.maxLineBytes} bytes.`);
    } else if (this.usage && this.usage.bytes + lineBytes + 1 > this.limits.maxUsageBytes) {
      return this.fail(events, 'USAGE_TOO_LARGE', `A 520 usage block passed ${this.limits.maxUsageBytes} bytes.`);
    }
    return false;
  }

  /** The line in bytes[start, end) after what is pending, as text, without its CR. No view is made of a line that came whole. */
  private takeLine(bytes: Buffer, start: number, end: number): string {
    if (this.pendingBytes > 0) {
      const whole = Buffer.concat([...this.pending, bytes.subarray(start, end)], this.pendingBytes + end - start);
      this.pending = [];
      this.pendingBytes = 0;
      return this.takeLine(whole, 0, whole.length);
    }
    const stop = end > start && bytes[end - 1] === CR ? end - 1 : end;
    return bytes.toString('utf8', start, stop);
  }

  private headerLine(line: string, size: number, events: AgiParserEvent[]): void {
    if (line === '') {
      events.push({ type: 'header', fields: this.headerFields });
      this.headerFields = new Map();
      this.headerBytes = 0;
      this.currentPhase = 'replies';
      return;
    }
    this.headerLines += 1;
    if (this.headerLines > this.limits.maxHeaderLines) {
      this.fail(events, 'HEADER_TOO_MANY_LINES', `The AGI header passed ${this.limits.maxHeaderLines} lines.`);
      return;
    }
    // Split on the FIRST ": " only: agi_request holds colons. `key:` alone is an empty value.
    const colon = line.indexOf(': ');
    const key = colon >= 0 ? line.slice(0, colon) : line.endsWith(':') ? line.slice(0, -1) : '';
    if (!HEADER_KEY.test(key)) {
      this.fail(events, 'MALFORMED_HEADER', `An AGI header line is not "key: value": ${JSON.stringify(line.slice(0, 80))}.`);
      return;
    }
    // Asterisk writes each key once. A second one means a value held a newline (a caller ID name
    // from an untrusted source, say) and the rest of it posed as a field: agi_channel or
    // agi_network_script taken from it would redirect another caller's channel or pick the rule.
    if (this.headerFields.has(key)) {
      this.fail(events, 'MALFORMED_HEADER', `The AGI header repeats ${key}: a value held a line break.`);
      return;
    }
    this.headerFields.set(key, colon >= 0 ? line.slice(colon + 2) : '');
    this.headerBytes += size;
  }

  private replyLine(line: string, size: number, events: AgiParserEvent[]): void {
    // HANGUP can arrive at any time, even between a command and its reply.
    if (line === 'HANGUP') {
      events.push({ type: 'hangup' });
      return;
    }
    if (this.usage) {
      if (line.startsWith('520 ')) {
        const { first, lines } = this.usage;
        this.usage = undefined;
        const raw = [first, ...lines, line].join('\n');
        events.push({ type: 'reply', reply: { kind: 'usage', code: 520, message: first.slice(4), usage: lines, raw } });
      } else {
        this.usage.lines.push(line);
        this.usage.bytes += size;
      }
      return;
    }
    const result = RESULT_LINE.exec(line);
    if (result) {
      const [, value = '', data, endpos] = result;
      events.push({
        type: 'reply',
        reply: {
          kind: 'result', code: 200, result: value, raw: line,
          ...(data !== undefined ? { data } : {}),
          ...(endpos !== undefined ? { endpos: Number(endpos) } : {}),
        },
      });
      return;
    }
    const coded = CODE_LINE.exec(line);
    if (coded) {
      const [, code, separator, message = ''] = coded;
      if (code === '520' && separator === '-') {
        this.usage = { first: line, lines: [], bytes: size };
      } else if (separator === ' ') {
        events.push({ type: 'reply', reply: codedReply(code as '510' | '511' | '520', message, line) });
      } else {
        events.push({ type: 'garbage', line });
      }
      return;
    }
    events.push({ type: 'garbage', line });
  }

  private fail(events: AgiParserEvent[], code: AgiParserErrorCode, message: string): true {
    events.push({ type: 'error', code, message });
    this.currentPhase = 'failed';
    this.pending = [];
    this.pendingBytes = 0;
    this.headerFields = new Map();
    this.headerBytes = 0;
    this.usage = undefined;
    return true;
  }
}

function codedReply(code: '510' | '511' | '520', message: string, raw: string): AgiReply {
  switch (code) {
    case '510':
      return { kind: 'invalid-command', code: 510, message, raw };
    case '511':
      return { kind: 'dead-channel', code: 511, message, raw };
    case '520':
      return { kind: 'usage', code: 520, message, usage: [], raw };
  }
}

/** The limits per options object, worked out once: a server passes the same one to every session. */
const resolvedLimits = new WeakMap<AgiParserOptions, Required<AgiParserOptions>>();

function limitsOf(options: AgiParserOptions | undefined): Required<AgiParserOptions> {
  if (!options) return AGI_PARSER_DEFAULTS;
  let limits = resolvedLimits.get(options);
  if (!limits) {
    limits = { ...AGI_PARSER_DEFAULTS, ...definedOnly(options) };
    resolvedLimits.set(options, limits);
  }
  return limits;
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
