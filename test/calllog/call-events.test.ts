import assert from 'node:assert/strict';
import { startCallEvents, type CallEvents } from '../../src/calllog/call-events';
import type { CompletedCall } from '../../src/calllog/completed-call';
import type { HostLogger } from '../../src/host';
import { END_OF_CALL_TRANSCRIPTS } from '../../scripts/lib/end-of-call/end-of-call-transcripts';
import { until } from '../support/until';

/** Header tuples as asterisk-manager hands them over: names lower-cased. */
const messageOf = (headers: ReadonlyArray<readonly [string, string]>) => Object.fromEntries(headers.map(([n, v]) => [n.toLowerCase(), v]));

class Lines implements HostLogger {
  readonly lines: Array<[string, string]> = [];
  debug = (m: string) => void this.lines.push(['debug', m]);
  info = (m: string) => void this.lines.push(['info', m]);
  warn = (m: string) => void this.lines.push(['warn', m]);
  error = (m: string) => void this.lines.push(['error', m]);
}

describe('startCallEvents: AMI events to finished calls, never taking the process down', () => {
  let events: CallEvents | undefined;
  afterEach(() => events?.stop());

  const feed = (e: CallEvents, scenario: keyof typeof END_OF_CALL_TRANSCRIPTS) => {
    for (const event of END_OF_CALL_TRANSCRIPTS[scenario].events) e.amiEvents.onEvent(messageOf(event.headers));
  };

  it('hands each finished call to onCall once, after the grace period, with the host tenant', async () => {
    const calls: CompletedCall[] = [];
    events = startCallEvents({
      host: { logger: new Lines(), directory: { find: () => undefined, isExtension: (n) => n === '100' }, callTenant: () => 't1' },
      onCall: (c) => calls.push(c), assembler: { graceMs: 100 },
    });
    feed(events, 'answered');
    assert.equal(calls.length, 0, 'not before the grace period');
    await until(() => calls.length === 1, 2000);
    assert.deepEqual([calls[0]!.tenantId, calls[0]!.agentExtension, calls[0]!.disposition], ['t1', '100', 'answered']);
  });

  it('survives a host hook and an onCall that throw, and says so in the log', async () => {
    const logger = new Lines();
    let offered = 0;
    events = startCallEvents({
      host: { logger, directory: { find: () => undefined, isExtension: () => { throw new Error('directory down'); } }, callTenant: () => 't1' },
      onCall: () => {
        offered += 1;
        throw new Error('outbox full');
      },
      assembler: { graceMs: 100 },
    });
    feed(events, 'missed');
    feed(events, 'busy');
    await until(() => offered === 2, 2000);
    assert.ok(logger.lines.some(([level, m]) => level === 'error' && /directory\.isExtension hook failed/.test(m)));
    assert.ok(logger.lines.some(([level, m]) => level === 'error' && /could not take a finished call/.test(m)));
  });

  it('without a callTenant hook logs no call, and says why once', async () => {
    const logger = new Lines();
    const calls: CompletedCall[] = [];
    events = startCallEvents({ host: { logger }, onCall: (c) => calls.push(c), assembler: { graceMs: 50 } });
    feed(events, 'answered');
    await until(() => events!.stats().skippedNoTenant === 1, 2000);
    assert.deepEqual(calls, []);
    assert.ok(logger.lines.some(([level, m]) => level === 'info' && /no callTenant hook/.test(m)));
  });

  it('emits the calls still in their grace period on stop()', () => {
    const calls: CompletedCall[] = [];
    events = startCallEvents({ host: { logger: new Lines(), callTenant: () => 't1' }, onCall: (c) => calls.push(c), assembler: { graceMs: 60_000 } });
    feed(events, 'queue');
    events.stop();
    assert.equal(calls.length, 1);
  });
});
