import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { AgiError } from '../../src/call/agi-error';
import { FULL_HEADER, headerWith } from '../support/agi-transcripts';
import { sessionPair, type SessionPair } from '../support/agi-fake-asterisk';
import { until } from '../support/until';

describe('AgiSession', () => {
  let pair: SessionPair | undefined;
  afterEach(async () => {
    await pair?.dispose();
    pair = undefined;
  });

  async function open(...args: Parameters<typeof sessionPair>): Promise<SessionPair> {
    pair = await sessionPair(...args);
    return pair;
  }

  describe('header', () => {
    it('exposes the validated request and tags every log line with the unique id, then the rule id', async () => {
      const { session, logs } = await open();
      const request = await session.ready;
      assert.equal(request.channel, 'Local/5551234@from-did-00000000;2');
      assert.equal(session.request, request);
      assert.equal(session.headerComplete, true);
      session.addLogFields({ ruleId: 7 });
      session.log.info('routing');
      assert.deepEqual(logs.at(-1)?.fields, { remote: session.remoteAddress, uniqueId: '1795556051.1', ruleId: 7 });
    });

    it('rejects ready when the header misses a field, yet still takes commands', async () => {
      const { session, asterisk } = await open({}, headerWith({ agi_channel: null }));
      await assert.rejects(session.ready, { code: 'BAD_REQUEST' });
      assert.equal(session.headerComplete, true);
      assert.throws(() => session.request, { code: 'BAD_REQUEST' });
      const answered = asterisk.answer('200 result=1\n');
      await session.setVariable('CRM_ROUTING_STATUS', 'BAD_REQUEST');
      assert.equal(await answered, 'SET VARIABLE "CRM_ROUTING_STATUS" "BAD_REQUEST"');
    });

    it('closes when the header does not come in time', async () => {
      const { session, asterisk } = await open({ headerTimeoutMs: 40 }, null);
      const started = performance.now();
      await assert.rejects(session.ready, { code: 'HEADER_TIMEOUT' });
      assert.ok(performance.now() - started >= 35);
      await asterisk.serverEnded;
      assert.equal(session.isClosed, true);
      await assert.rejects(session.command('NOOP'), { code: 'SESSION_CLOSED' });
    });

    it('closes on a header larger than the limit, before its end arrives', async () => {
      const { session, asterisk } = await open({ parser: { maxHeaderBytes: 256 } }, null);
      asterisk.send(`agi_network: yes\nagi_request: ${'x'.repeat(400)}`);
      await assert.rejects(session.ready, { code: 'BAD_REQUEST' });
      assert.equal(session.headerComplete, false);
      await asterisk.serverEnded;
    });

    it('refuses commands before the header arrived', async () => {
      const { session } = await open({}, null);
      await assert.rejects(session.command('NOOP'), { code: 'NOT_READY' });
    });
  });

  describe('commands', () => {
    it('writes one command at a time even when several are issued at once', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const results = Promise.all([session.setVariable('A', '1'), session.getVariable('A'), session.verbose('hello')]);
      for (const reply of ['200 result=1\n', '200 result=1 (1)\n', '200 result=1\n']) {
        await asterisk.nextLine();
        // Give a pipelining session every chance to write the next command before we answer.
        await delay(30);
        asterisk.send(reply);
      }
      assert.deepEqual(await results, [undefined, '1', undefined]);
      assert.deepEqual(asterisk.transcript.slice(1), [
        '-> SET VARIABLE "A" "1"', '<- 200 result=1\n',
        '-> GET VARIABLE "A"', '<- 200 result=1 (1)\n',
        '-> VERBOSE "hello" 1', '<- 200 result=1\n',
      ]);
    });

    it('refuses CR, LF and NUL before writing anything', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      await assert.rejects(session.setVariable('A', 'x\nSET VARIABLE B 2'), { name: 'AgiError', code: 'UNSAFE_ARGUMENT' });
      await assert.rejects(session.command('NOOP\r\nHANGUP'), { code: 'UNSAFE_ARGUMENT' });
      await assert.rejects(session.verbose('a\u0000b'), { code: 'UNSAFE_ARGUMENT' });
      await assert.rejects(session.moveTo('dest-x', '103\n', 1), { code: 'UNSAFE_ARGUMENT' });
      await assert.rejects(session.command(''), { code: 'UNSAFE_ARGUMENT' });
      await assert.rejects(session.setVariable('CRM_VALUE', `${'x'.repeat(2040)} NOOP`), { code: 'UNSAFE_ARGUMENT' });
      const answered = asterisk.answer('200 result=0\n');
      await session.command('NOOP');
      assert.equal(await answered, 'NOOP', 'the first line the server wrote is the NOOP');
      assert.equal(asterisk.written, 'NOOP\n');
    });

    it('moves the channel with SET CONTEXT, EXTENSION and PRIORITY, one at a time', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const moved = session.moveTo('dest-x', '103', 1);
      assert.equal(await asterisk.answer('200 result=0\n'), 'SET CONTEXT "dest-x"');
      assert.equal(await asterisk.answer('200 result=0\n'), 'SET EXTENSION "103"');
      assert.equal(await asterisk.answer('200 result=0\n'), 'SET PRIORITY 1');
      await moved;
    });

    it('sets several variables: the plain ones in one EXEC MSet round trip, any other value on its own', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const set = session.setVariables({ CRM_ROUTING_STATUS: 'OK', CRM_ROUTING_VALUE: 'two words', CRM_ROUTING_ROW: '4' });
      assert.equal(await asterisk.answer('200 result=0\n'), 'EXEC MSet "CRM_ROUTING_STATUS=OK,CRM_ROUTING_ROW=4"');
      assert.equal(await asterisk.answer('200 result=1\n'), 'SET VARIABLE "CRM_ROUTING_VALUE" "two words"');
      await set;
    });

    it('rejects a variable MSet did not set (no such application: -2), and writes nothing when a value cannot be sent', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const set = session.setVariables({ A: '1', B: '2' });
      await asterisk.answer('200 result=-2\n');
      await assert.rejects(set, { code: 'COMMAND_REJECTED' });
      const before = asterisk.written;
      await assert.rejects(session.setVariables({ A: '1', B: '2', C: `${'x'.repeat(2040)} NOOP` }), { code: 'UNSAFE_ARGUMENT' });
      assert.equal(asterisk.written, before, 'not even the MSet line was written');
    });

    it('rejects a move Asterisk refuses on a dead channel (511)', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const moved = session.moveTo('dest-x', '103', 1);
      await asterisk.answer('511 Command Not Permitted on a dead channel or intercept routine\n');
      await assert.rejects(moved, { code: 'COMMAND_REJECTED' });
    });

    it('reads GET DATA and EXEC replies', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const data = session.getData('custom/welcome', 2000, 4);
      assert.equal(await asterisk.answer('200 result=5 (timeout)\n'), 'GET DATA "custom/welcome" 2000 4');
      assert.deepEqual(await data, { digits: '5', timedOut: true, failed: false });
      const exec = session.exec('NoSuchApp', 'foo');
      await asterisk.answer('200 result=-2\n');
      assert.equal(await exec, -2);
    });

    it('returns 510 and 520 replies from command() as they are', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const unknown = session.command('BOGUS');
      await asterisk.answer('510 Invalid or unknown command\n');
      assert.equal((await unknown).code, 510);
      const usage = session.command('STREAM FILE x');
      await asterisk.answer('520-Invalid command syntax.  Proper usage follows:\n Usage: STREAM FILE\n520 End of proper usage.\n');
      const reply = await usage;
      assert.ok(reply.kind === 'usage');
      assert.deepEqual(reply.usage, [' Usage: STREAM FILE']);
    });

    it('ignores garbage and replies nobody asked for, and keeps going', async () => {
      const { session, asterisk, logs } = await open();
      await session.ready;
      asterisk.send('200 result=0\n');
      await until(() => logs.some((line) => line.message.includes('no command outstanding')));
      const noop = session.command('NOOP');
      await asterisk.nextLine();
      asterisk.send('what is this\n200 result=0\n');
      assert.equal((await noop).raw, '200 result=0');
      assert.ok(logs.some((line) => line.message.includes('Unexpected line') && line.fields.line === 'what is this'));
    });

    it('refuses more commands than the queue holds', async () => {
      const { session, asterisk } = await open({ maxQueuedCommands: 1 });
      await session.ready;
      const first = session.command('NOOP');
      const second = session.command('NOOP');
      await assert.rejects(session.command('NOOP'), { code: 'QUEUE_FULL' });
      await asterisk.answer('200 result=0\n');
      await asterisk.answer('200 result=0\n');
      await Promise.all([first, second]);
    });
  });

  describe('hang-up', () => {
    for (const order of ['reply then HANGUP', 'HANGUP then reply']) {
      it(`gives the running command its reply and signals the hang-up (${order})`, async () => {
        const { session, asterisk } = await open();
        await session.ready;
        const data = session.getData('custom/welcome', 2000, 4);
        await asterisk.nextLine();
        assert.equal(session.hangupSignal.aborted, false);
        asterisk.send(order === 'reply then HANGUP' ? '200 result=-1\n' : 'HANGUP\n');
        await delay(20);
        asterisk.send(order === 'reply then HANGUP' ? 'HANGUP\n' : '200 result=-1\n');
        assert.deepEqual(await data, { digits: '', timedOut: false, failed: true });
        await delay(10);
        assert.equal(session.hangupReceived, true);
        assert.equal(session.hangupSignal.aborted, true);
        assert.equal((session.hangupSignal.reason as AgiError).code, 'HANGUP');
        // A redirected or hung-up channel still answers SET VARIABLE until we close.
        const set = session.setVariable('CRM_ROUTING_STATUS', 'REDIRECTED');
        await asterisk.answer('200 result=1\n');
        await set;
        assert.equal(session.isClosed, false, 'the session only reports HANGUP; the flow decides');
      });
    }

    it('handles `200 result=-1\\nHANGUP\\nHANGUP\\n` in one segment followed by Asterisk closing', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const data = session.getData('custom/welcome', 2000, 4);
      await asterisk.nextLine();
      asterisk.send('200 result=-1\nHANGUP\nHANGUP\n');
      asterisk.socket.end();
      assert.equal((await data).failed, true);
      await session.closed;
      assert.equal(session.hangupReceived, true);
      await assert.rejects(session.command('NOOP'), { code: 'SESSION_CLOSED' });
    });

    it('rejects the outstanding command and signals when Asterisk closes without a reply', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const noop = session.command('NOOP');
      await asterisk.nextLine();
      asterisk.socket.end();
      await assert.rejects(noop, { code: 'SESSION_CLOSED' });
      assert.equal(session.hangupSignal.aborted, true);
    });
  });

  describe('timeouts and close', () => {
    it('closes the session when a command is not answered in time', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const started = performance.now();
      const silent = session.command('GET DATA x 2000 4', { timeoutMs: 50 });
      const queued = assert.rejects(session.command('NOOP'), { code: 'SESSION_CLOSED' });
      await assert.rejects(silent, { code: 'COMMAND_TIMEOUT' });
      assert.ok(performance.now() - started >= 45);
      await queued;
      await asterisk.serverEnded;
      assert.equal(asterisk.written, 'GET DATA x 2000 4\n', 'nothing else was written while GET DATA was outstanding');
      assert.equal(session.hangupSignal.aborted, true);
    });

    it('closes the session when the flow sends nothing for idleTimeoutMs', async () => {
      const { session, asterisk, logs } = await open({ idleTimeoutMs: 60 });
      await session.ready;
      await delay(30);
      const noop = session.command('NOOP');
      await asterisk.answer('200 result=0\n');
      await noop;
      const answeredAt = performance.now();
      const endedAt = await asterisk.serverEnded;
      assert.ok(endedAt - answeredAt >= 50, `closed ${endedAt - answeredAt} ms after the last reply`);
      assert.equal(session.isClosed, true);
      assert.ok(logs.some((line) => line.level === 'warn' && line.message.includes('idle')));
    });

    it('does not count a running command as idle', async () => {
      const { session, asterisk } = await open({ idleTimeoutMs: 30 });
      await session.ready;
      const data = session.getData('x', 2000, 4);
      await asterisk.nextLine();
      await delay(60);
      asterisk.send('200 result=12\n');
      assert.equal((await data).digits, '12');
    });

    it('closes its side at once on close(), even with a command outstanding', async () => {
      const { session, asterisk } = await open();
      await session.ready;
      const noop = assert.rejects(session.command('NOOP'), { code: 'SESSION_CLOSED' });
      await asterisk.nextLine();
      const closing = performance.now();
      const closed = session.close();
      const endedAt = await asterisk.serverEnded;
      assert.ok(endedAt - closing < 100, `FIN after ${endedAt - closing} ms`);
      await noop;
      await asterisk.closed;
      await closed;
    });

    it('destroys the socket when Asterisk does not close its side within the grace', async () => {
      const { session, asterisk } = await open({ closeGraceMs: 40 }, FULL_HEADER, { answerFin: false });
      await session.ready;
      const started = performance.now();
      const closed = session.close();
      assert.ok((await asterisk.serverEnded) - started < 100, 'our FIN went out at once');
      await closed;
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 35 && elapsed < 500, `socket destroyed after ${elapsed} ms`);
    });

    it('gives ready and closed to whoever asks late, and calls onHeader and onClosed once each', async () => {
      const heard: string[] = [];
      const { session, asterisk } = await open({
        onHeader: (_session, outcome) => heard.push(`header ${'uniqueId' in outcome ? outcome.uniqueId : outcome.code}`),
        onClosed: () => heard.push('closed'),
      });
      await until(() => session.headerComplete);
      assert.equal((await session.ready).uniqueId, '1795556051.1');
      session.closeNow();
      await asterisk.closed;
      await until(() => heard.includes('closed'));
      await session.closed;
      assert.deepEqual(heard, ['header 1795556051.1', 'closed']);
      assert.equal((session.hangup.reason as AgiError).code, 'SESSION_CLOSED', 'the close reason is there when asked for');
    });

    it('keeps all its deadlines on one timer: a whole call starts at most two', async () => {
      const started: number[] = [];
      const realSetTimeout = globalThis.setTimeout;
      const counting = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
        if (fn.name === 'onDeadline') started.push(ms ?? 0); // not the fake Asterisk's own timers
        return realSetTimeout(fn, ms, ...args);
      }) as typeof setTimeout;
      globalThis.setTimeout = counting;
      try {
        const { session, asterisk } = await open();
        await session.ready;
        for (const reply of ['200 result=0\n', '200 result=0\n', '200 result=0\n']) {
          const command = session.command('NOOP');
          await asterisk.answer(reply);
          await command;
        }
        await session.close();
      } finally {
        globalThis.setTimeout = realSetTimeout;
      }
      assert.deepEqual(started, [5_000, 1_000], 'the header deadline (then command and idle on the same timer), and the close grace');
    });

    it('closes on a reply line longer than the limit', async () => {
      const { session, asterisk } = await open({ parser: { maxLineBytes: 64 } });
      await session.ready;
      const get = session.getVariable('BIG');
      await asterisk.nextLine();
      asterisk.send(`200 result=1 (${'v'.repeat(100)}`);
      await assert.rejects(get, { code: 'PROTOCOL' });
      await asterisk.serverEnded;
    });
  });
});
