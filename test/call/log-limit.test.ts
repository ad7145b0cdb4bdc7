import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { RateLimitedLogger } from '../../src/call/log-limit';
import { recordingLogger } from '../support/agi-fake-asterisk';
import { until } from '../support/until';

describe('RateLimitedLogger', () => {
  it('writes a message a few times per window, then one "suppressed N" line when the window ends, even if nothing else is logged', async () => {
    const { logger, lines } = recordingLogger();
    const limited = new RateLimitedLogger(logger, { linesPerWindow: 3, windowMs: 100 });
    for (let i = 0; i < 1000; i += 1) limited.warn('AGI header timed out', { remote: `127.0.0.1:${i}` });
    assert.equal(lines.length, 3);
    await until(() => lines.length === 4, 2_000);
    assert.equal(lines[3]!.level, 'warn');
    assert.match(lines[3]!.message, /^Suppressed 997 log lines like the last one/);
    assert.deepEqual(lines[3]!.fields, { message: 'AGI header timed out', suppressed: 997 });
    await delay(150);
    assert.equal(lines.length, 4, 'one summary per window');
  });

  it('keeps a budget per message, so one flood does not hide another warning', () => {
    const { logger, lines } = recordingLogger();
    const limited = new RateLimitedLogger(logger, { linesPerWindow: 2, windowMs: 60_000 });
    for (let i = 0; i < 50; i += 1) limited.warn('Unexpected line from Asterisk ignored');
    limited.error('Default destination no longer exists; the dialplan fallback takes the call');
    assert.deepEqual(lines.map((l) => l.level), ['warn', 'warn', 'error']);
    limited.flush();
    assert.deepEqual(lines.at(-1)?.fields, { message: 'Unexpected line from Asterisk ignored', suppressed: 48 });
  });

  it('starts a new budget in the next window', async () => {
    const { logger, lines } = recordingLogger();
    const limited = new RateLimitedLogger(logger, { linesPerWindow: 1, windowMs: 50 });
    limited.warn('x');
    limited.warn('x');
    await delay(80);
    limited.warn('x');
    assert.deepEqual(lines.map((l) => l.message.startsWith('Suppressed') ? 'summary' : l.message), ['x', 'summary', 'x']);
    limited.flush();
  });

  it('lets debug and info lines through untouched (the record of calls that routed)', () => {
    const { logger, lines } = recordingLogger();
    const limited = new RateLimitedLogger(logger, { linesPerWindow: 1, windowMs: 60_000 });
    for (let i = 0; i < 10; i += 1) {
      limited.info('Call routed');
      limited.debug('AGI command');
    }
    assert.equal(lines.length, 20);
  });

  it('shares one budget among messages beyond maxMessages', () => {
    const { logger, lines } = recordingLogger();
    const limited = new RateLimitedLogger(logger, { linesPerWindow: 1, windowMs: 60_000, maxMessages: 2 });
    for (let i = 0; i < 100; i += 1) limited.warn(`message ${i}`);
    assert.equal(lines.length, 3);
    limited.flush();
    assert.deepEqual(lines.at(-1)?.fields, { message: '(other messages)', suppressed: 97 });
  });
});
