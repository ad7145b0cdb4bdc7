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
  /**
   * Closed loop: calls in flight at once; a finished call is replaced at once until `calls` are
   * placed, so the server is kept saturated and latency is mostly queueing.
   */
  concurrency: number;
  /**
   * Open loop instead: calls placed at this steady rate (call n at n / rate s), whatever the
   * server does, as callers arrive at a PBX; `concurrency` is then ignored. In flight is
   * rate x call duration (Little's law) while the server keeps up.
   */
  ratePerSecond?: number;
  /** Caller ID of every call. */
  callerId?: string;
  /** Each call must see exactly this many commands, else it counts as failed. */
  expectCommands?: number;
}

export interface AgiLoadResult {
  /** Per finished call: header written -> the server's FIN, in ms. */
  latenciesMs: number[];
  /** Per finished call, as latenciesMs: when it was due to be placed, ms after the run started. */
  scheduledMs: number[];
  /** Open loop: how late calls were placed (connect done -> due time), p99 and max in ms; the client keeping up. */
  lagP99Ms: number;
  lagMaxMs: number;
  /** Most calls open at once (connected, not yet closed). */
  maxInFlight: number;
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
  const scheduledMs: number[] = [];
  const lags: number[] = [];
  const failureSamples: string[] = [];
  const rate = options.ratePerSecond;
  let inFlight = 0;
  let maxInFlight = 0;
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
      inFlight -= 1;
      if (finished === options.calls) {
        lags.sort((x, y) => x - y);
        resolve({
          latenciesMs, scheduledMs, wallMs: performance.now() - started, failures, failureSamples, commands, maxInFlight,
          lagP99Ms: lags[Math.max(0, Math.ceil(lags.length * 0.99) - 1)] ?? 0, lagMaxMs: lags.at(-1) ?? 0,
        });
      } else if (rate === undefined) {
        placeNext();
      }
    };
    const placeCall = (n: number) => {
      const due = rate === undefined ? 0 : (n * 1000) / rate;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const socket = connect({ host, port: options.port, allowHalfOpen: true });
      socket.setNoDelay(true);
      socket.setEncoding('latin1');
      let pending = '';
      let sentAt = 0;
      let seen = 0;
      let serverClosed = false;
      socket.once('connect', () => {
        sentAt = performance.now();
        if (rate !== undefined) lags.push(sentAt - started - due);
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
        else {
          latenciesMs.push(took);
          scheduledMs.push(due);
        }
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
    if (rate === undefined) {
      for (let i = 0; i < Math.min(options.concurrency, options.calls); i += 1) placeNext();
      return;
    }
    // Open loop: every millisecond, place the calls that are due by now.
    const tick = () => {
      const due = Math.floor(((performance.now() - started) * rate) / 1000) + 1;
      while (placed < Math.min(due, options.calls)) placeNext();
      if (placed < options.calls) setTimeout(tick, 1);
    };
    tick();
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
