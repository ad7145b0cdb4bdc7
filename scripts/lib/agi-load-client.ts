/**
 * A lean stand-in for Asterisk placing many FastAGI calls, for benchmarks: each call connects,
 * writes the measured header (scripts/lib/agi-header.ts), answers every command line with the
 * `200 result=...` Asterisk gives it (asterisk.md's table), and when the server closes writes
 * `HANGUP` and closes too, as Asterisk does. No transcript and no channel model: the per-call
 * work is a handful of string operations, so it can drive a server at full speed.
 * (scripts/lib/asterisk-simulator.ts is the faithful one, for tests and `npm run call`.)
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatAgiHeader } from './agi-header';

export interface AgiLoadOptions {
  port: number;
  host?: string;
  /** Path and query after host:port/, e.g. `crm-routing?rule=1`. */
  script: string;
  calls: number;
  /** Calls in flight at once; a finished call is replaced at once until `calls` are placed. */
  concurrency: number;
  /** Caller ID of every call. */
  callerId?: string;
  /** Each call must see exactly this many commands, else it counts as failed. */
  expectCommands?: number;
}

export interface AgiLoadResult {
  /** Per finished call: header written -> the server's FIN, in ms. */
  latenciesMs: number[];
  wallMs: number;
  failures: number;
  /** The first few failures, said plainly. */
  failureSamples: string[];
  commands: number;
}

/** res_agi's replies by command (measured): SET VARIABLE and VERBOSE give 1, the rest here 0. */
const RESULT_1 = Buffer.from('200 result=1\n');
const RESULT_0 = Buffer.from('200 result=0\n');
const HANGUP = 'HANGUP\n';

export function runAgiLoad(options: AgiLoadOptions): Promise<AgiLoadResult> {
  const host = options.host ?? '127.0.0.1';
  const header = headerTemplate(host, options);
  const latenciesMs: number[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  let commands = 0;
  let placed = 0;
  let finished = 0;
  const started = performance.now();

  return new Promise((resolve) => {
    const fail = (why: string) => {
      failures += 1;
      if (failureSamples.length < 5) failureSamples.push(why);
    };
    const placeNext = () => {
      if (placed >= options.calls) return;
      const n = placed++;
      placeCall(n);
    };
    const callEnded = () => {
      finished += 1;
      if (finished === options.calls) resolve({ latenciesMs, wallMs: performance.now() - started, failures, failureSamples, commands });
      else placeNext();
    };
    const placeCall = (n: number) => {
      const socket = connect({ host, port: options.port, allowHalfOpen: true });
      socket.setNoDelay(true);
      socket.setEncoding('latin1');
      let pending = '';
      let sentAt = 0;
      let seen = 0;
      let serverClosed = false;
      socket.once('connect', () => {
        sentAt = performance.now();
        socket.write(header.before + n + header.after);
      });
      socket.on('data', (text: string) => {
        pending += text;
        let newline: number;
        while ((newline = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          seen += 1;
          socket.write(line.startsWith('SET VARIABLE') || line.startsWith('VERBOSE') ? RESULT_1 : RESULT_0);
        }
      });
      let error = '';
      socket.once('end', () => {
        serverClosed = true;
        const took = performance.now() - sentAt;
        commands += seen;
        if (options.expectCommands !== undefined && seen !== options.expectCommands) fail(`call ${n}: ${seen} commands, expected ${options.expectCommands}`);
        else latenciesMs.push(took);
        socket.end(HANGUP);
      });
      socket.on('error', (err) => {
        error ||= err.message;
      });
      socket.once('close', () => {
        if (!serverClosed) fail(`call ${n}: ${error || "closed before the server's FIN"}`);
        callEnded();
      });
    };
    for (let i = 0; i < Math.min(options.concurrency, options.calls); i += 1) placeNext();
  });
}

/** The header with the uniqueid's number left out, so a call costs two string joins. */
function headerTemplate(host: string, options: AgiLoadOptions): { before: string; after: string } {
  const marker = '\u0000';
  const text = formatAgiHeader({
    request: `agi://${host}:${options.port}/${options.script}`, script: options.script,
    channel: 'Local/5551234@from-did-00000000;2', language: 'en', type: 'Local', uniqueid: `1795556051.${marker}`,
    version: '22.10.1', callerId: options.callerId, callerName: options.callerId ? 'Bench Caller' : undefined,
    context: 'from-did', extension: '5551234', priority: 2, accountcode: '', threadId: '140350374528704', args: [],
  });
  const [before = '', after = ''] = text.split(marker);
  return { before, after };
}
