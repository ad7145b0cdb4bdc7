/**
 * What happened on one simulated call, line by line, with the time since the AGI connection
 * opened: what Asterisk wrote, what the FastAGI server wrote, and notes on what the caller and
 * Asterisk did (keys, hang-up, redirect, where the call went).
 */
import { performance } from 'node:perf_hooks';

export type TranscriptDirection =
  /** Asterisk -> FastAGI server */
  | 'to-server'
  /** FastAGI server -> Asterisk */
  | 'from-server'
  /** Something the caller or Asterisk did that is not a line on the socket. */
  | 'note';

export interface TranscriptLine {
  /** Milliseconds since the connection opened (0.1 ms resolution). */
  atMs: number;
  direction: TranscriptDirection;
  text: string;
}

export class CallTranscript {
  readonly lines: TranscriptLine[] = [];
  private origin = performance.now();

  /** Makes "now" time zero (when the TCP connection opens). */
  restartClock(): void {
    this.origin = performance.now();
  }

  /** Milliseconds since time zero. */
  now(): number {
    return Math.round((performance.now() - this.origin) * 10) / 10;
  }

  /** Records text sent to the server, one entry per line (the final LF ends the last one). */
  toServer(text: string): void {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) this.add('to-server', line);
  }

  fromServer(line: string): void {
    this.add('from-server', line);
  }

  note(text: string): void {
    this.add('note', text);
  }

  /** Lines for a person: `  12.3 ms  asterisk > 200 result=1`. */
  format(): string {
    const label: Record<TranscriptDirection, string> = { 'to-server': 'asterisk >', 'from-server': '  server >', note: '         *' };
    return this.lines.map((l) => `${l.atMs.toFixed(1).padStart(9)} ms  ${label[l.direction]} ${showControls(l.text)}`).join('\n');
  }

  private add(direction: TranscriptDirection, text: string): void {
    this.lines.push({ atMs: this.now(), direction, text });
  }
}

/** Makes a stray CR, tab or other control character visible in printed output. */
function showControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
