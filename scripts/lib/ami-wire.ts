/**
 * AMI framing as Asterisk's manager.c reads and writes it: lines end with CRLF (a bare LF is
 * accepted on input), a message ends with an empty line, a header is `Name: value`. Used by the
 * fake AMI server; knows nothing of sockets.
 */

/** One message a client sent: its lines, as received, without line ends. */
export interface AmiInboundMessage {
  lines: string[];
}

/** Asterisk's input buffer holds 1024 bytes; a longer line makes it discard the whole message. */
export const AMI_MAX_LINE_LENGTH = 1024;
/** AST_MAX_MANHEADERS: headers past this are dropped. */
export const AMI_MAX_HEADERS = 128;

export class AmiMessageReader {
  private buffer = '';
  private lines: string[] = [];
  private discarding = false;

  /** Feeds received text; returns the messages it completed. */
  push(chunk: string): AmiInboundMessage[] {
    this.buffer += chunk;
    const done: AmiInboundMessage[] = [];
    for (;;) {
      const newline = this.buffer.indexOf('\n');
      if (newline === -1) {
        if (this.buffer.length > AMI_MAX_LINE_LENGTH) {
          this.buffer = '';
          this.discarding = true;
        }
        return done;
      }
      let line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length > AMI_MAX_LINE_LENGTH) this.discarding = true;
      if (line.length > 0) {
        if (this.lines.length < AMI_MAX_HEADERS) this.lines.push(line);
        continue;
      }
      if (!this.discarding && this.lines.length > 0) done.push({ lines: this.lines });
      this.lines = [];
      this.discarding = false;
    }
  }
}

/**
 * The value of the first header called `name` (any case), leading blanks skipped, or '' when
 * absent: astman_get_header's rule, so `Event: off` is not the `Events` header.
 */
export function amiHeader(message: AmiInboundMessage, name: string): string {
  const prefix = `${name.toLowerCase()}:`;
  for (const line of message.lines) {
    if (line.slice(0, prefix.length).toLowerCase() === prefix) return line.slice(prefix.length).replace(/^[ \t]+/, '');
  }
  return '';
}

/** Headers of a message, names lower-cased, first occurrence kept; for assertions. */
export function amiHeaderRecord(message: AmiInboundMessage): Record<string, string> {
  const record: Record<string, string> = {};
  for (const line of message.lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    if (!(name in record)) record[name] = line.slice(colon + 1).replace(/^[ \t]+/, '');
  }
  return record;
}

/** Writes one message: each header on a CRLF line, then the empty line. */
export function formatAmiMessage(headers: ReadonlyArray<readonly [string, string]>): string {
  return headers.map(([name, value]) => `${name}: ${value}\r\n`).join('') + '\r\n';
}
