/**
 * How res_agi reads commands, modelled so the simulator pipelines exactly as Asterisk does.
 * res_agi waits with poll() on the raw socket, then reads one line with stdio's fgets(). fgets
 * pulls everything the socket holds into stdio's buffer, so after one line is handled, further
 * lines already in that buffer do not wake poll(): they wait until more bytes arrive or the
 * server closes (measured: only the first of several commands in one write is answered).
 *
 * Here `unread` is what the socket holds (poll() sees it) and `buffered` what fgets already
 * pulled in (poll() does not).
 */

/** res_agi's AGI_BUF_LEN: fgets() returns at most 2047 characters as one command. */
export const AGI_BUF_LEN = 2048;

export type AgiRead = { kind: 'line'; line: string } | { kind: 'wait' } | { kind: 'eof' };

export class AgiLineReader {
  private unread = '';
  private buffered = '';
  private ended = false;

  /** @param maxBytes more than this held unread makes receive() refuse */
  constructor(private readonly maxBytes = 1024 * 1024) {}

  /** Bytes arrived on the socket; false when more is held than `maxBytes`. */
  receive(chunk: string): boolean {
    this.unread += chunk;
    return this.unread.length + this.buffered.length <= this.maxBytes;
  }

  /** The server closed its side. */
  end(): void {
    this.ended = true;
  }

  /** Whether poll() would wake res_agi now: new bytes on the socket, or the server's FIN. */
  get readable(): boolean {
    return this.unread.length > 0 || this.ended;
  }

  /** fgets(): the next command line (without its LF), `wait` for a line still incomplete, or `eof`. */
  read(): AgiRead {
    const max = AGI_BUF_LEN - 1;
    if (this.nextLineEnd() === -1) {
      this.buffered += this.unread;
      this.unread = '';
    }
    const newline = this.nextLineEnd();
    if (newline !== -1) return this.take(newline, 1);
    if (this.buffered.length >= max) return this.take(max, 0);
    // At EOF fgets returns what it has; res_agi runs it as a command.
    if (this.ended) return this.buffered.length > 0 ? this.take(this.buffered.length, 0) : { kind: 'eof' };
    return { kind: 'wait' };
  }

  private nextLineEnd(): number {
    const newline = this.buffered.indexOf('\n');
    return newline !== -1 && newline < AGI_BUF_LEN - 1 ? newline : -1;
  }

  private take(length: number, skip: number): AgiRead {
    const line = this.buffered.slice(0, length);
    this.buffered = this.buffered.slice(length + skip);
    return { kind: 'line', line };
  }
}
