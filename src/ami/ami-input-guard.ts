/**
 * Bounds what asterisk-manager buffers: its reader keeps every byte until a line ends and every
 * line until a message ends, without limit. Fed the same chunks as the library, this notices a
 * line or a message that grew past its cap, so the session can drop the connection first.
 */
export interface AmiInputLimits {
  /** Longest line accepted. Default 64 KiB. */
  maxLineLength?: number;
  /** Longest message (lines up to the empty line) accepted. Default 1 MiB. */
  maxMessageLength?: number;
}

export class AmiInputGuard {
  private readonly maxLine: number;
  private readonly maxMessage: number;
  private lineLength = 0;
  private messageLength = 0;
  /** Last character of the previous chunk: a CRLF can be split between two chunks. */
  private lastChar = '';

  constructor(limits: AmiInputLimits = {}) {
    this.maxLine = limits.maxLineLength ?? 64 * 1024;
    this.maxMessage = limits.maxMessageLength ?? 1024 * 1024;
  }

  /** Accounts for one chunk; returns why the connection must be dropped, or undefined. */
  check(chunk: string): string | undefined {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf('\n', start);
      const segment = (newline === -1 ? chunk.length : newline) - start;
      this.lineLength += segment;
      if (this.lineLength > this.maxLine) return `Asterisk sent a line longer than ${this.maxLine} characters.`;
      if (newline === -1) break;
      // A line of nothing (or only the CR of CRLF) ends the message.
      const before = newline > 0 ? chunk[newline - 1] : this.lastChar;
      const blank = this.lineLength === 0 || (this.lineLength === 1 && before === '\r');
      this.messageLength = blank ? 0 : this.messageLength + this.lineLength + 1;
      this.lineLength = 0;
      start = newline + 1;
    }
    if (chunk.length > 0) this.lastChar = chunk[chunk.length - 1] as string;
    if (this.messageLength + this.lineLength > this.maxMessage) {
      return `Asterisk sent a message longer than ${this.maxMessage} characters.`;
    }
    return undefined;
  }
}
