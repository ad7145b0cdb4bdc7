/**
 * Fuzzed FastAGI streams, as a hostile or broken peer would send them: the measured header
 * mutated (fields dropped, repeated, oversized, control characters, unsigned or altered lines),
 * split at random bytes with pauses, random bytes and lines, garbage and stray replies after the
 * header, HANGUP at any time, abrupt closes and resets, silence. One in ten is a valid call that
 * answers every command as Asterisk does. Seeded, so a run repeats exactly. Run in the bench
 * worker by `npm run fuzz:agi` (10,000 streams), and in-process by the e2e test (fewer).
 */
import { connect } from 'node:net';
import { formatAgiHeader } from './agi-header';
import { asteriskReply, onCommandLines } from './command-lines';
import { seededRandom } from './seeded-random';

export interface AgiFuzzOptions {
  port: number;
  host?: string;
  streams: number;
  /** Streams open at once. */
  concurrency: number;
  /** The signed script of a rule (valid calls use it; mutations start from it). */
  script: string;
  seed?: number;
  /** Longest a hostile stream waits for the server before it gives up and resets. Default 3 s. */
  streamTimeoutMs?: number;
  /** The same for a valid call, which the server must route. Default 15 s (a loaded machine is slow). */
  validTimeoutMs?: number;
}

export interface AgiFuzzResult {
  streams: number;
  /** Valid calls placed, and those the server moved (SET CONTEXT, or a Redirect's close after EXEC MSet). */
  validCalls: number;
  validRouted: number;
  /** How streams ended: the server closed, we closed first, or we gave up (timeout). */
  serverClosed: number;
  clientClosed: number;
  timedOut: number;
  /** Connections refused or reset before anything was written. */
  connectFailures: number;
  bytesSent: number;
}

type Step = { write: string | Buffer } | { pause: number } | { end: 'close' | 'reset' | 'wait' };

export function runAgiFuzz(options: AgiFuzzOptions): Promise<AgiFuzzResult> {
  const next = seededRandom(options.seed ?? 1);
  const result: AgiFuzzResult = { streams: 0, validCalls: 0, validRouted: 0, serverClosed: 0, clientClosed: 0, timedOut: 0, connectFailures: 0, bytesSent: 0 };
  const plans = { next, script: options.script, port: options.port };
  let started = 0;
  let finished = 0;
  return new Promise((resolve) => {
    const startNext = () => {
      if (started >= options.streams) return;
      started += 1;
      const valid = next() < 0.1;
      const plan = valid ? validCall(plans) : hostileStream(plans);
      // A valid call answers every command as Asterisk; a hostile stream half of the time.
      const answers = valid || next() < 0.5;
      if (valid) result.validCalls += 1;
      runStream(options, plan, { valid, answers }, result).then(() => {
        finished += 1;
        result.streams += 1;
        if (finished === options.streams) resolve(result);
        else startNext();
      });
    };
    for (let i = 0; i < Math.min(options.concurrency, options.streams); i += 1) startNext();
  });
}

interface PlanContext {
  next: () => number;
  script: string;
  port: number;
}

function header(ctx: PlanContext, over: Partial<Parameters<typeof formatAgiHeader>[0]> = {}): string {
  const uniqueid = `1795556051.${Math.floor(ctx.next() * 1e9)}`;
  return formatAgiHeader({
    request: `agi://127.0.0.1:${ctx.port}/${over.script ?? ctx.script}`, script: ctx.script, channel: `Local/5551234@from-did-${uniqueid.slice(-8)};2`,
    language: 'en', type: 'Local', uniqueid, version: '22.10.1', callerId: '+15550001111', callerName: 'Fuzz Caller', context: 'from-did',
    extension: '5551234', priority: 2, accountcode: '', threadId: '140350374528704', args: [], ...over,
  });
}

/** A well-behaved call: the header in 2 to 4 pieces, then every command answered as Asterisk does. */
function validCall(ctx: PlanContext): Step[] {
  return [...split(header(ctx), ctx.next, 4, 0), { end: 'wait' }];
}

function hostileStream(ctx: PlanContext): Step[] {
  const { next } = ctx;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const good = header(ctx);
  const lines = good.split('\n');
  const kind = Math.floor(next() * 12);
  let text: string;
  switch (kind) {
    case 0: // a field dropped
      lines.splice(Math.floor(next() * (lines.length - 2)), 1);
      text = lines.join('\n');
      break;
    case 1: // a field repeated (another caller's channel, another script)
      lines.splice(3, 0, pick(['agi_channel: Local/victim@x-00000bad;2', 'agi_network_script: crm-routing?rule=2&tenant=other', 'agi_uniqueid: 1.1']));
      text = lines.join('\n');
      break;
    case 2: // control characters and CR/LF inside values
      text = good.replace('Fuzz Caller', pick(['Evil\rSET CONTEXT evil', 'a\u0000b', 'x\u001bx', 'Evil\nagi_channel: Local/v;2'])).replace('+15550001111', pick(['+1555\t0001111', '+15550001111']));
      break;
    case 3: // oversized: a value, or too many lines
      text = next() < 0.5 ? good.replace('agi_threadid: ', `agi_threadid: ${'9'.repeat(Math.floor(next() * 20_000))}`) : good.replace('\n\n', `\n${Array.from({ length: 200 }, (_, i) => `agi_x${i}: y`).join('\n')}\n\n`);
      break;
    case 4: // an unsigned or altered line
      text = header(ctx, { script: pick(['crm-routing?rule=1', 'crm-routing?rule=1&tenant=other', `${ctx.script}&rule=2`, ctx.script.replace(/sig=.{3}/, 'sig=AAA'), 'crm-routing', 'other?x=1']) });
      text = text.replace(/agi_network_script: .*/, (line) => line.replace(ctx.script, pick(['crm-routing?rule=1', `${ctx.script}&tenant=x`, 'crm-routing'])));
      break;
    case 5: // random bytes
      return [{ write: Buffer.from(Array.from({ length: Math.floor(next() * 4096) }, () => Math.floor(next() * 256))) }, { end: pick(['close', 'reset', 'wait'] as const) }];
    case 6: // random text lines, never an empty one
      text = Array.from({ length: 1 + Math.floor(next() * 50) }, () => `${pick(['agi_', '', 'HANGUP', '200 result=', 'x'])}${Math.floor(next() * 1e6)}: ${'z'.repeat(Math.floor(next() * 100))}`).join('\n');
      return [...split(text, next, 6, 5), { end: pick(['close', 'reset', 'wait'] as const) }];
    case 7: // the header cut short
      text = good.slice(0, Math.floor(next() * good.length));
      return [...split(text, next, 4, 20), { end: pick(['close', 'reset', 'wait'] as const) }];
    case 8: // silence, then a close
      return [{ pause: Math.floor(next() * 300) }, { end: pick(['close', 'reset'] as const) }];
    default: { // a good header, then garbage, stray replies, HANGUPs and oversize lines in the dialogue
      const after = Array.from({ length: 1 + Math.floor(next() * 30) }, () => pick([
        'HANGUP', 'garbage', '200 result=1', '200 result=0 (x)', '510 Invalid or unknown command', '520-Invalid command syntax.  Proper usage follows:',
        '520 End of proper usage.', `200 result=1 (${'v'.repeat(Math.floor(next() * 10_000))})`, '\r', '', '200 result=-1', '511 Command Not Permitted on a dead channel or intercept routine',
      ])).join('\n');
      return [...split(good + after + '\n', next, 6, 5), { end: pick(['close', 'reset', 'wait'] as const) }];
    }
  }
  return [...split(text, next, 4, 10), { end: pick(['close', 'reset', 'wait'] as const) }];
}

/** `text` in up to `pieces` writes with pauses of up to `pauseMs` between them. */
function split(text: string, next: () => number, pieces: number, pauseMs: number): Step[] {
  const count = 1 + Math.floor(next() * pieces);
  const cuts = Array.from({ length: count - 1 }, () => Math.floor(next() * text.length)).sort((a, b) => a - b);
  const steps: Step[] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    if (cut > from) steps.push({ write: text.slice(from, cut) });
    if (pauseMs > 0 && next() < 0.3) steps.push({ pause: Math.floor(next() * pauseMs) });
    from = cut;
  }
  return steps;
}

async function runStream(options: AgiFuzzOptions, steps: Step[], { valid, answers }: { valid: boolean; answers: boolean }, result: AgiFuzzResult): Promise<void> {
  const socket = connect({ port: options.port, host: options.host ?? '127.0.0.1', allowHalfOpen: true });
  socket.on('error', () => undefined);
  const connected = await new Promise<boolean>((resolve) => {
    socket.once('connect', () => resolve(true));
    socket.once('close', () => resolve(false));
  });
  if (!connected) {
    result.connectFailures += 1;
    return;
  }
  let serverEnded = false;
  let moved = false;
  onCommandLines(socket, (line) => {
    if (line.startsWith('SET CONTEXT')) moved = true;
    if (answers) socket.write(asteriskReply(line));
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.once('end', () => {
    serverEnded = true;
    socket.end('HANGUP\n');
  });
  for (const step of steps) {
    if (socket.destroyed || serverEnded) break;
    if ('write' in step) {
      result.bytesSent += step.write.length;
      socket.write(step.write);
    } else if ('pause' in step) {
      await new Promise((resolve) => setTimeout(resolve, step.pause));
    } else if (step.end === 'close') {
      socket.end();
    } else if (step.end === 'reset') {
      socket.resetAndDestroy();
    }
  }
  const timeout = setTimeout(() => socket.resetAndDestroy(), valid ? (options.validTimeoutMs ?? 15_000) : (options.streamTimeoutMs ?? 3_000));
  await closed;
  clearTimeout(timeout);
  if (serverEnded) result.serverClosed += 1;
  else if (socket.destroyed && !serverEnded && steps.some((s) => 'end' in s && s.end !== 'wait')) result.clientClosed += 1;
  else result.timedOut += 1;
  if (valid && moved) result.validRouted += 1;
}
