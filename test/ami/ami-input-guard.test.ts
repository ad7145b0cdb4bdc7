import assert from 'node:assert/strict';
import { AmiInputGuard } from '../../src/ami/ami-input-guard';

describe('AmiInputGuard', () => {
  it('accepts ordinary messages however they are split', () => {
    const text = 'Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n'.repeat(50);
    for (const size of [1, 2, 7, 64]) {
      const guard = new AmiInputGuard({ maxLineLength: 40, maxMessageLength: 200 });
      for (let i = 0; i < text.length; i += size) assert.equal(guard.check(text.slice(i, i + size)), undefined, `chunks of ${size}`);
    }
  });

  it('refuses a line longer than the cap, even without a line end', () => {
    const guard = new AmiInputGuard({ maxLineLength: 10 });
    assert.equal(guard.check('12345'), undefined);
    assert.match(guard.check('678901') ?? '', /line longer than 10/);
  });

  it('refuses a message that never ends', () => {
    const guard = new AmiInputGuard({ maxLineLength: 100, maxMessageLength: 50 });
    assert.equal(guard.check('Event: X\r\n'.repeat(4)), undefined);
    assert.match(guard.check('Event: X\r\n'.repeat(2)) ?? '', /message longer than 50/);
  });

  it('resets the message count at an empty line split between chunks', () => {
    const guard = new AmiInputGuard({ maxLineLength: 100, maxMessageLength: 30 });
    assert.equal(guard.check('Event: Xxxxxxxxxxxxxxxxx\r\n\r'), undefined);
    assert.equal(guard.check('\nEvent: Xxxxxxxxxxxxxxxxx\r\n\r\n'), undefined);
  });
});
