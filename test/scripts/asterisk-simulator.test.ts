import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { AsteriskSimulator, type CallResult, type PlaceCallOptions } from '../../scripts/lib/asterisk-simulator';
import { FakeAmiServer } from '../../scripts/lib/fake-ami';
import { headerWith } from '../support/agi-transcripts';
import { RawClient } from './raw-client';
import { TinyAgiServer, type AgiConnection } from './tiny-agi-server';

/** The header measured on Asterisk 22.10.1 (shared/reference/asterisk.md), port aside. */
const measuredHeader = (port: number) => headerWith({ agi_request: `agi://127.0.0.1:${port}/crm-routing?rule=1` });

describe('AsteriskSimulator', () => {
  let agi: TinyAgiServer;
  let asterisk: AsteriskSimulator;
  let ami: FakeAmiServer | undefined;

  beforeEach(async () => {
    agi = await TinyAgiServer.start();
    asterisk = new AsteriskSimulator({ maxCallMs: 4000 });
  });
  afterEach(async () => {
    asterisk.close();
    await agi.close();
    await ami?.close();
    ami = undefined;
  });

  /** Places a call running `script` on the server side; fails the test if the script failed. */
  async function call(script: (agi: AgiConnection) => Promise<void>, options: Partial<PlaceCallOptions> = {}): Promise<CallResult> {
    agi.onCall(script);
    const result = await asterisk.placeCall({ agiPort: agi.port, callerId: '+15550001111', callerName: 'Test Caller', ...options });
    await agi.finished();
    return result;
  }

  describe('the header', () => {
    it('is the measured one, byte for byte', async () => {
      let header = '';
      await call(
        async (a) => {
          header = await a.header();
          a.end();
        },
        { uniqueid: '1795556051.1' },
      );
      assert.equal(header, measuredHeader(agi.port));
    });

    it('says unknown with presentation 67 without caller ID, and puts arguments after agi_threadid', async () => {
      let header = '';
      await call(
        async (a) => {
          header = await a.header();
          a.end();
        },
        { callerId: undefined, callerName: undefined, args: ['arg one', 'arg2'] },
      );
      assert.match(header, /\nagi_callerid: unknown\nagi_calleridname: unknown\nagi_callingpres: 67\n/);
      assert.match(header, /\nagi_threadid: \d+\nagi_arg_1: arg one\nagi_arg_2: arg2\n\n$/);
    });
  });

  describe('replies', () => {
    it('answers the measured table', async () => {
      const replies: string[] = [];
      await call(async (a) => {
        await a.header();
        for (const command of [
          'SET VARIABLE A 1',
          'GET VARIABLE A',
          'GET VARIABLE NOTSET',
          'SET VARIABLE F "say \\"hi\\" now"',
          'GET VARIABLE F',
          'VERBOSE "hello" 1',
          'NOOP',
          'EXEC NoSuchApp foo',
          'EXEC Playback x',
          'EXEC MSet "A=1,B=two words,C=GOLD"',
          'GET VARIABLE B',
          'EXEC MSet "G=1\\,2,H=3"',
          'GET VARIABLE G',
          'BOGUS COMMAND',
          'NOOP\r',
        ]) {
          replies.push(await a.command(command));
        }
        replies.push(await a.command('STREAM FILE x'), await a.line(), await a.line());
        replies.push(await a.command('STREAM FILE x ""'), await a.command('STREAM FILE nosuchfile ""'));
        a.end();
      });
      assert.deepEqual(replies, [
        '200 result=1',
        '200 result=1 (1)',
        '200 result=0',
        '200 result=1',
        '200 result=1 (say "hi" now)',
        '200 result=1',
        '200 result=0',
        '200 result=-2',
        '200 result=0',
        '200 result=0',
        '200 result=1 (two words)',
        '200 result=0',
        '200 result=1 (1)',
        '510 Invalid or unknown command',
        '510 Invalid or unknown command',
        '520-Invalid command syntax.  Proper usage follows:',
        'Usage: STREAM FILE <filename> <escape_digits> [sample offset]',
        '520 End of proper usage.',
        '200 result=0 endpos=1600',
        '200 result=-1 endpos=0',
      ]);
    });

    it('ends FAILURE (going on at the next priority) after a command failed', async () => {
      const result = await call(async (a) => {
        await a.header();
        await a.command('STREAM FILE nosuchfile ""');
        a.end();
      });
      assert.equal(result.agiStatus, 'FAILURE');
      assert.deepEqual(result.ended, { kind: 'dialplan', context: 'from-did', exten: '5551234', priority: 3, via: 'next-priority' });
    });
  });

  describe('one command at a time', () => {
    it('answers only the first of several commands in one write, the rest when more arrives', async () => {
      const result = await call(async (a) => {
        await a.header();
        a.send('SET VARIABLE A 1\nSET VARIABLE B 2\nSET VARIABLE C 3\n');
        assert.equal(await a.line(), '200 result=1');
        await a.silenceFor(150);
        a.send('NOOP\n');
        assert.deepEqual([await a.line(), await a.line(), await a.line()], ['200 result=1', '200 result=1', '200 result=0']);
        a.end();
      });
      assert.deepEqual(result.variables, { A: '1', B: '2', C: '3' });
    });

    it('answers the waiting commands when the server closes', async () => {
      let tail = '';
      await call(async (a) => {
        await a.header();
        a.send('SET VARIABLE A 1\nSET VARIABLE B 2\n');
        await a.line();
        await a.silenceFor(100);
        a.end();
        await a.closedByAsterisk();
        tail = a.rest();
      });
      assert.equal(tail, '200 result=1\nHANGUP\n');
    });
  });

  describe('GET DATA', () => {
    const sounds = { greeting: 60 };
    async function getData(dtmf: PlaceCallOptions['dtmf'], command = 'GET DATA greeting 150 4'): Promise<{ reply: string; ms: number }> {
      let reply = '';
      let ms = 0;
      await call(
        async (a) => {
          await a.header();
          const started = performance.now();
          reply = await a.command(command, 2000);
          ms = performance.now() - started;
          a.end();
        },
        { sounds, ...(dtmf ? { dtmf } : {}) },
      );
      return { reply, ms };
    }

    it('times out after the prompt plus the timeout when no key is pressed', async () => {
      const { reply, ms } = await getData(undefined);
      assert.equal(reply, '200 result= (timeout)');
      assert.ok(ms >= 200 && ms < 400, `answered after ${ms} ms`);
    });

    it('returns the keys pressed before the caller stopped, marked (timeout)', async () => {
      assert.equal((await getData({ digits: '5', afterMs: 20 })).reply, '200 result=5 (timeout)');
    });

    it('returns at once when max digits is reached, a key during the prompt stopping it', async () => {
      const { reply, ms } = await getData({ digits: '1234', afterMs: 10, gapMs: 10 });
      assert.equal(reply, '200 result=1234');
      assert.ok(ms < 120, `answered after ${ms} ms`);
    });

    it('ends input at # without returning it; # alone returns nothing', async () => {
      assert.equal((await getData({ digits: '12#', afterMs: 10, gapMs: 10 })).reply, '200 result=12');
      assert.equal((await getData({ digits: '#', afterMs: 10 })).reply, '200 result=');
    });

    it('answers -1 at once for a missing file, and the channel lives on', async () => {
      const { reply, ms } = await getData(undefined, 'GET DATA nosuchfile 2000 4');
      assert.equal(reply, '200 result=-1');
      assert.ok(ms < 50, `answered after ${ms} ms`);
    });

    it('is cancelled by a new command, which alone is answered', async () => {
      const result = await call(async (a) => {
        await a.header();
        a.send('GET DATA greeting 5000 4\n');
        await a.silenceFor(80);
        assert.equal(await a.command('NOOP'), '200 result=0');
        await a.silenceFor(100);
        a.end();
      });
      assert.ok(result.transcript.some((l) => l.text === 'GET DATA cancelled by new input: it never answers'));
    });

    it('loses a key pressed while no command listens', async () => {
      const result = await call(
        async (a) => {
          await a.header();
          await a.silenceFor(60);
          a.end();
        },
        { dtmf: { digits: '7', afterMs: 10, from: 'connect' } },
      );
      assert.ok(result.transcript.some((l) => l.text === 'key 7 lost: no command was listening for keys'));
    });
  });

  describe('AMI Redirect', () => {
    async function withAmi(): Promise<RawClient> {
      ami = await FakeAmiServer.create({ channels: asterisk });
      const client = await RawClient.connect(ami.port);
      client.write('Action: Login\r\nUsername: crm\r\nSecret: crmsecret\r\nEvents: off\r\nActionID: 1\r\n\r\n');
      await client.waitForText('Authentication accepted');
      return client;
    }
    const redirect = (client: RawClient, channel: string) =>
      client.write(`Action: Redirect\r\nChannel: ${channel}\r\nContext: dest-x\r\nExten: 103\r\nPriority: 1\r\nActionID: 2\r\n\r\n`);

    it('sends HANGUP, keeps a dead channel until the server closes, then lands at the target', async () => {
      const client = await withAmi();
      const lines: string[] = [];
      let tail = '';
      const result = await call(async (a) => {
        const header = await a.header();
        const channel = /agi_channel: (.*)\n/.exec(header)?.[1] ?? '';
        assert.equal(await a.command('SET VARIABLE CRM_ROUTING_STATUS ok'), '200 result=1');
        redirect(client, channel);
        await client.waitForText('Message: Redirect successful');
        lines.push(await a.line(100));
        for (const command of ['SET CONTEXT x', 'STREAM FILE x ""', 'GET DATA x 100 1', 'GET VARIABLE CRM_ROUTING_STATUS', 'SET VARIABLE B 2', 'VERBOSE "x" 1', 'EXEC NoOp']) {
          lines.push(await a.command(command));
        }
        await a.silenceFor(50);
        a.end();
        await a.closedByAsterisk();
        tail = a.rest();
      });
      assert.deepEqual(lines, [
        'HANGUP',
        '511 Command Not Permitted on a dead channel or intercept routine',
        '511 Command Not Permitted on a dead channel or intercept routine',
        '511 Command Not Permitted on a dead channel or intercept routine',
        '200 result=1 (ok)',
        '200 result=1',
        '200 result=1',
        '200 result=0',
      ]);
      assert.equal(tail, 'HANGUP\n', 'a second HANGUP, then FIN');
      assert.equal(result.agiStatus, 'HANGUP');
      assert.deepEqual(result.ended, { kind: 'dialplan', context: 'dest-x', exten: '103', priority: 1, via: 'redirect' });
      assert.equal(result.variables.CRM_ROUTING_STATUS, 'ok');
      assert.ok(result.timings.finalMoveAtMs >= (result.timings.serverClosedAtMs ?? Infinity), 'the move waits for the close');
    });

    it('cuts a running GET DATA short with -1, then HANGUP', async () => {
      const client = await withAmi();
      const lines: string[] = [];
      await call(async (a) => {
        const channel = /agi_channel: (.*)\n/.exec(await a.header())?.[1] ?? '';
        a.send('GET DATA greeting 5000 4\n');
        await a.silenceFor(30);
        redirect(client, channel);
        lines.push(await a.line(), await a.line());
        a.end();
      });
      assert.deepEqual(lines, ['200 result=-1', 'HANGUP']);
    });

    it('with AGIEXITONHANGUP writes HANGUP twice in one segment, closes, and moves at once', async () => {
      const client = await withAmi();
      let chunk = '';
      const result = await call(
        async (a) => {
          const channel = /agi_channel: (.*)\n/.exec(await a.header())?.[1] ?? '';
          const before = a.chunks.length;
          redirect(client, channel);
          await a.closedByAsterisk();
          chunk = a.chunks.slice(before).map((c) => c.text).join('|');
          a.end();
        },
        { agiExitOnHangup: true },
      );
      assert.equal(chunk, 'HANGUP\nHANGUP\n');
      assert.deepEqual(result.ended, { kind: 'dialplan', context: 'dest-x', exten: '103', priority: 1, via: 'redirect' });
      assert.equal(result.timings.serverClosedAtMs, undefined, 'Asterisk did not wait for the server');
    });

    it('answers Channel does not exist for a channel that is not in AGI', async () => {
      const client = await withAmi();
      redirect(client, 'Local/nosuch@x-00000000;2');
      await client.waitForText('Message: Channel does not exist: Local/nosuch@x-00000000;2\r\n');
    });

    it('hangs up a call redirected to an extension that does not exist', async () => {
      asterisk = new AsteriskSimulator({ maxCallMs: 4000, dialplanHas: (l) => l.context !== 'dest-x' });
      const client = await withAmi();
      const result = await call(async (a) => {
        const channel = /agi_channel: (.*)\n/.exec(await a.header())?.[1] ?? '';
        redirect(client, channel);
        await client.waitForText('Message: Redirect successful');
        await a.line();
        a.end();
      });
      assert.deepEqual(result.ended, { kind: 'hungup', reason: 'redirect-target-missing' });
    });
  });

  describe('where the call goes without AMI', () => {
    it('runs exactly the SET CONTEXT/EXTENSION/PRIORITY target, whatever their order', async () => {
      const result = await call(async (a) => {
        await a.header();
        for (const command of ['SET PRIORITY 1', 'SET CONTEXT dest-x', 'SET EXTENSION 103']) assert.equal(await a.command(command), '200 result=0');
        a.end();
        await a.closedByAsterisk();
        assert.equal(a.rest(), 'HANGUP\n');
      });
      assert.equal(result.agiStatus, 'SUCCESS');
      assert.deepEqual(result.ended, { kind: 'dialplan', context: 'dest-x', exten: '103', priority: 1, via: 'agi' });
    });

    it('lands on the priority AGI was at plus one without SET PRIORITY', async () => {
      const result = await call(async (a) => {
        await a.header();
        await a.command('SET CONTEXT dest-x');
        await a.command('SET EXTENSION 103');
        a.end();
      });
      assert.deepEqual(result.ended, { kind: 'dialplan', context: 'dest-x', exten: '103', priority: 3, via: 'agi' });
    });

    it('continues at the next priority when the server closes without a command (after a HANGUP)', async () => {
      let written = '';
      const result = await call(async (a) => {
        await a.header();
        a.end();
        await a.closedByAsterisk();
        written = a.rest();
      });
      assert.equal(written, 'HANGUP\n');
      assert.equal(result.agiStatus, 'SUCCESS');
      assert.deepEqual(result.ended, { kind: 'dialplan', context: 'from-did', exten: '5551234', priority: 3, via: 'next-priority' });
    });

    it('fails at once to the next priority when the FastAGI port is closed', async () => {
      const port = agi.port;
      await agi.close();
      const started = performance.now();
      const result = await asterisk.placeCall({ agiPort: port });
      assert.ok(performance.now() - started < 200);
      assert.equal(result.agiStatus, 'FAILURE');
      assert.deepEqual(result.ended, { kind: 'dialplan', context: 'from-did', exten: '5551234', priority: 3, via: 'next-priority' });
      agi = await TinyAgiServer.start();
    });
  });

  describe('the caller hangs up', () => {
    it('during GET DATA: -1, HANGUP about 40 ms later, then dead-channel rules', async () => {
      const lines: string[] = [];
      let gapMs = 0;
      const result = await call(
        async (a) => {
          await a.header();
          a.send('GET DATA greeting 5000 4\n');
          lines.push(await a.line(2000));
          const replyAt = performance.now();
          lines.push(await a.line());
          gapMs = performance.now() - replyAt;
          for (const command of ['NOOP', 'GET VARIABLE A', 'SET VARIABLE A 1', 'EXEC NoOp', 'STREAM FILE x ""', 'GET DATA x 100 1']) {
            lines.push(await a.command(command));
          }
          a.end();
        },
        { hangupAfterMs: 50 },
      );
      assert.deepEqual(lines, [
        '200 result=-1',
        'HANGUP',
        '200 result=0',
        '200 result=0',
        '200 result=1',
        '200 result=0',
        '511 Command Not Permitted on a dead channel or intercept routine',
        '511 Command Not Permitted on a dead channel or intercept routine',
      ]);
      assert.ok(gapMs >= 30 && gapMs < 150, `HANGUP came ${gapMs} ms after the reply`);
      assert.equal(result.agiStatus, 'HANGUP');
      assert.deepEqual(result.ended, { kind: 'hungup', reason: 'caller' });
    });

    it('with AGIEXITONHANGUP: -1 and two HANGUPs in one segment, and Asterisk closes', async () => {
      let chunk = '';
      await call(
        async (a) => {
          await a.header();
          const before = a.chunks.length;
          a.send('GET DATA greeting 5000 4\n');
          await a.closedByAsterisk(2000);
          chunk = a.chunks.slice(before).map((c) => c.text).join('|');
          a.end();
        },
        { hangupAfterMs: 50, agiExitOnHangup: true },
      );
      assert.equal(chunk, '200 result=-1\nHANGUP\nHANGUP\n');
    });
  });

  it('gives up a call whose server never answers, after maxCallMs', async () => {
    asterisk = new AsteriskSimulator({ maxCallMs: 150 });
    const started = performance.now();
    const result = await call(async (a) => {
      await a.header();
      await a.closedByAsterisk(2000).catch(() => undefined);
    });
    const ms = performance.now() - started;
    assert.deepEqual(result.ended, { kind: 'abandoned', reason: 'simulator gave up after 150 ms (Asterisk itself would wait)' });
    assert.equal(result.agiStatus, undefined);
    assert.ok(ms >= 140 && ms < 1000, `gave up after ${ms} ms`);
  });
});
