import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { AgiServer, type AgiServerOptions } from '../../src/call/agi-server';
import type { AgiSession } from '../../src/call/agi-session';
import type { AgiError } from '../../src/call/agi-error';
import { FakeAsterisk, recordingLogger, type LogLine } from '../support/agi-fake-asterisk';
import { headerWith } from '../support/agi-transcripts';
import { until } from '../support/until';

/** A promise the test resolves by hand: keeps a call "running" until released. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('AgiServer', () => {
  let server: AgiServer | undefined;
  let logs: LogLine[] = [];
  const fakes: FakeAsterisk[] = [];

  async function start(options: Partial<AgiServerOptions> = {}): Promise<AgiServer> {
    const recorded = recordingLogger();
    logs = recorded.lines;
    server = await AgiServer.create({ port: 0, logger: recorded.logger, onSession: () => undefined, ...options });
    return server;
  }

  async function call(header?: string | null): Promise<FakeAsterisk> {
    assert.ok(server);
    const asterisk = await FakeAsterisk.connect(server.address().port);
    fakes.push(asterisk);
    if (header !== null) asterisk.sendHeader(header);
    return asterisk;
  }

  afterEach(async () => {
    for (const fake of fakes.splice(0)) fake.destroy();
    await server?.stop({ timeoutMs: 0, drainTimeoutMs: 0 });
    server = undefined;
  });

  it('listens on 127.0.0.1 at a free port and runs a call with onSession', async () => {
    const seen: string[] = [];
    await start({
      onSession: async (session, request) => {
        seen.push(request.uniqueId);
        await session.setVariable('CRM_ROUTING_STATUS', 'OK');
      },
    });
    const { address, port } = server!.address();
    assert.equal(address, '127.0.0.1');
    assert.ok(port > 0);
    const asterisk = await call();
    assert.equal(await asterisk.answer('200 result=1\n'), 'SET VARIABLE "CRM_ROUTING_STATUS" "OK"');
    await asterisk.closed;
    assert.deepEqual(seen, ['1795556051.1']);
    await until(() => server!.sessions.size === 0);
  });

  it('closes the session as soon as the flow closes it (a redirect waits for that)', async () => {
    let closing = 0;
    await start({
      onSession: async (session) => {
        closing = performance.now();
        await session.close();
        await delay(200); // the flow may go on logging; the caller must not wait for that
      },
    });
    const asterisk = await call();
    const endedAt = await asterisk.serverEnded;
    assert.ok(endedAt - closing < 100, `FIN ${endedAt - closing} ms after close()`);
  });

  it('closes the session when onSession returns or throws', async () => {
    await start({ onSession: () => { throw new Error('flow bug'); } });
    const asterisk = await call();
    await asterisk.serverEnded;
    assert.ok(logs.some((line) => line.level === 'error' && line.message.includes('onSession') && line.fields.uniqueId === '1795556051.1'));
  });

  it('closes connections from addresses outside the allow-list at once', async () => {
    let handled = 0;
    const refused: string[] = [];
    await start({ allow: ['10.0.0.1', '192.168.0.0/16'], onSession: () => { handled += 1; }, onRefused: (reason) => refused.push(reason) });
    const asterisk = await call(null);
    await asterisk.serverEnded;
    assert.equal(handled, 0);
    assert.deepEqual(refused, ['ADDRESS_NOT_ALLOWED'], 'counted for /metrics');
    assert.ok(logs.some((line) => line.level === 'warn' && line.message.includes('not allowed') && line.fields.remote === '127.0.0.1'));
  });

  it('accepts addresses inside an allowed range', async () => {
    let handled = 0;
    await start({ allow: ['127.0.0.0/8'], onSession: () => { handled += 1; } });
    const asterisk = await call();
    await asterisk.serverEnded;
    assert.equal(handled, 1);
  });

  it('refuses an allow-list entry that is no address', async () => {
    await assert.rejects(AgiServer.create({ port: 0, logger: recordingLogger().logger, onSession: () => undefined, allow: ['asterisk.local'] }), { code: 'CONFIG' });
  });

  it('hands calls beyond maxSessions to onOverflow, which can still move them with AGI', async () => {
    const running = gate();
    const sessions: string[] = [];
    const overflowed: string[] = [];
    await start({
      maxSessions: 1,
      onSession: async (_session, request) => {
        sessions.push(request.uniqueId);
        await running.promise;
      },
      onOverflow: async (session, request) => {
        overflowed.push(request.uniqueId);
        await session.setVariable('CRM_ROUTING_STATUS', 'OVERFLOW');
        await session.moveTo('dest-x', '103', 1);
      },
    });
    const first = await call();
    await until(() => server!.activeCalls === 1);
    const second = await call(headerWith({ agi_uniqueid: '1795556051.2' }));
    assert.equal(await second.answer('200 result=1\n'), 'SET VARIABLE "CRM_ROUTING_STATUS" "OVERFLOW"');
    assert.equal(await second.answer('200 result=0\n'), 'SET CONTEXT "dest-x"');
    assert.equal(await second.answer('200 result=0\n'), 'SET EXTENSION "103"');
    assert.equal(await second.answer('200 result=0\n'), 'SET PRIORITY 1');
    await second.serverEnded;
    assert.deepEqual(sessions, ['1795556051.1']);
    assert.deepEqual(overflowed, ['1795556051.2']);
    assert.equal(first.serverHasEnded, false, 'the running call is untouched');
    running.open();
    await first.serverEnded;
  });

  it('calls onBadRequest for a header that misses a field, with commands still possible', async () => {
    const reasons: string[] = [];
    await start({
      onBadRequest: async (session, reason) => {
        reasons.push(reason.code);
        if (session.headerComplete) await session.setVariable('CRM_ROUTING_STATUS', 'BAD_REQUEST');
      },
    });
    const asterisk = await call(headerWith({ agi_uniqueid: null }));
    assert.equal(await asterisk.answer('200 result=1\n'), 'SET VARIABLE "CRM_ROUTING_STATUS" "BAD_REQUEST"');
    await asterisk.serverEnded;
    assert.deepEqual(reasons, ['BAD_REQUEST']);
  });

  it('calls onBadRequest and closes on an oversize header', async () => {
    const seen: Array<{ code: string; complete: boolean }> = [];
    await start({
      parser: { maxHeaderBytes: 256 },
      onBadRequest: (session: AgiSession, reason: AgiError) => { seen.push({ code: reason.code, complete: session.headerComplete }); },
    });
    const asterisk = await call(null);
    asterisk.send(`agi_network: yes\nagi_request: ${'x'.repeat(300)}\n`);
    await asterisk.serverEnded;
    await until(() => seen.length === 1);
    assert.deepEqual(seen, [{ code: 'BAD_REQUEST', complete: false }]);
  });

  it('calls onBadRequest and closes when the header does not come in time', async () => {
    const codes: string[] = [];
    await start({ headerTimeoutMs: 40, onBadRequest: (_session, reason) => { codes.push(reason.code); } });
    const asterisk = await call(null);
    await asterisk.serverEnded;
    await until(() => codes.length === 1);
    assert.deepEqual(codes, ['HEADER_TIMEOUT']);
  });

  it('passes the idle timeout to its sessions: a flow that forgets its call does not hold the caller', async () => {
    const reasons: string[] = [];
    await start({
      idleTimeoutMs: 40,
      onSession: (session) => new Promise<void>((resolve) => {
        session.hangupSignal.addEventListener('abort', () => {
          reasons.push((session.hangupSignal.reason as AgiError).code);
          resolve();
        });
      }),
    });
    const asterisk = await call();
    await asterisk.serverEnded;
    assert.deepEqual(reasons, ['IDLE_TIMEOUT']);
  });

  it('closes connections beyond maxConnections at once when every open one is a call', async () => {
    const running = gate();
    await start({ maxConnections: 1, headerTimeoutMs: 5_000, onSession: () => running.promise });
    const first = await call();
    await until(() => server!.activeCalls === 1);
    const second = await call(null);
    await second.serverEnded;
    assert.equal(first.serverHasEnded, false);
    assert.ok(logs.some((line) => line.message.includes('full')));
    running.open();
  });

  describe('connections that send no header', () => {
    const sockets: Socket[] = [];
    afterEach(() => {
      for (const socket of sockets.splice(0)) socket.destroy();
    });

    /** Opens `count` connections that never send anything (from `localAddress`, default 127.0.0.1). */
    async function silent(count: number, localAddress = '127.0.0.1'): Promise<Socket[]> {
      const opened = await Promise.all(Array.from({ length: count }, () => new Promise<Socket>((resolve, reject) => {
        const socket = connect({ port: server!.address().port, host: '127.0.0.1', localAddress });
        socket.on('error', () => undefined);
        socket.once('connect', () => resolve(socket)).once('error', reject);
      })));
      sockets.push(...opened);
      return opened;
    }

    it('have a cap of their own below the connection cap: at the cap the oldest is closed for the newest', async () => {
      let refused = 0;
      await start({ maxConnections: 100, maxPendingHeaders: 10, headerTimeoutMs: 60_000, onRefused: (reason) => { if (reason === 'NO_HEADER') refused += 1; } });
      const [oldest] = await silent(1);
      const closedOldest = new Promise<void>((resolve) => oldest!.once('close', () => resolve()));
      await until(() => server!.pendingHeaders === 1);
      await silent(40);
      await closedOldest;
      await until(() => server!.pendingHeaders <= 10);
      assert.ok(server!.sessions.size <= 10, `${server!.sessions.size} connections kept`);
      // One line a second says how many were closed, not one line per connection.
      await until(() => logs.some((line) => line.message === 'AGI connections without a header closed to make room'), 3_000);
      const summary = logs.filter((line) => line.message === 'AGI connections without a header closed to make room');
      assert.equal(summary.length, 1);
      assert.deepEqual(summary[0]!.fields.closed, { 'the limit of connections without a header is reached': 31 });
      assert.equal(refused, 31, 'each counted for /metrics (NO_HEADER)');
    });

    it('under pressure, one still silent after pressureHeaderTimeoutMs is closed when another arrives', async () => {
      await start({ maxConnections: 100, maxPendingHeaders: 10, pressureHeaderTimeoutMs: 50, headerTimeoutMs: 60_000 });
      const early = await silent(5);
      const closed = early.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
      await until(() => server!.pendingHeaders === 5);
      await delay(80);
      await silent(1);
      await Promise.all(closed);
      assert.equal(server!.pendingHeaders, 1);
    });

    it('never keep a real call out: one placed after thousands of silent ones is run', async function () {
      this.timeout(20_000);
      let handled = 0;
      // maxConnections is also the listen backlog: large enough that the kernel takes every SYN at once.
      await start({ maxSessions: 100, maxConnections: 2_000, maxPendingHeaders: 25, headerTimeoutMs: 60_000, onSession: async (session) => {
        handled += 1;
        await session.setVariable('CRM_ROUTING_STATUS', 'OK');
      } });
      for (let batch = 0; batch < 20; batch += 1) await silent(100);
      assert.ok(server!.pendingHeaders <= 25);
      const asterisk = await call();
      assert.equal(await asterisk.answer('200 result=1\n'), 'SET VARIABLE "CRM_ROUTING_STATUS" "OK"');
      await asterisk.serverEnded;
      assert.equal(handled, 1);
    });

    it('from addresses outside the allow-list count for nothing: the allowed address is never crowded out', async function () {
      this.timeout(20_000);
      let handled = 0;
      await start({ allow: ['127.0.0.1'], maxConnections: 1_000, maxPendingHeaders: 4, headerTimeoutMs: 60_000, onSession: () => { handled += 1; } });
      const refused = await silent(200, '127.0.0.2').catch(() => []);
      await until(() => refused.every((socket) => socket.destroyed || socket.readableEnded), 5_000).catch(() => undefined);
      const waiting = await silent(3);
      const asterisk = await call();
      await asterisk.serverEnded;
      assert.equal(handled, 1);
      assert.equal(waiting.filter((socket) => socket.destroyed).length, 0, 'the allowed silent ones were not pushed out by others');
    });
  });

  it('logs a few unexpected lines per session, then one line with how many there were', async () => {
    await start({ onSession: (session) => session.command('NOOP').then(() => undefined) });
    const asterisk = await call();
    await asterisk.nextLine();
    asterisk.send('garbage line\n'.repeat(500));
    asterisk.send('200 result=0\n');
    await asterisk.serverEnded;
    await until(() => logs.some((line) => line.message === 'AGI session ignored unexpected lines from Asterisk'));
    const ignored = logs.filter((line) => line.message === 'Unexpected line from Asterisk ignored');
    assert.equal(ignored.length, 3);
    assert.deepEqual(logs.find((line) => line.message === 'AGI session ignored unexpected lines from Asterisk')?.fields.lines, 500);
  });

  it('passes the command timeout to its sessions', async () => {
    const errors: string[] = [];
    await start({
      commandTimeoutMs: 40,
      onSession: async (session) => {
        await session.command('NOOP').catch((err: AgiError) => errors.push(err.code));
      },
    });
    const asterisk = await call();
    await asterisk.nextLine();
    await asterisk.serverEnded;
    assert.deepEqual(errors, ['COMMAND_TIMEOUT']);
  });

  it('stop() lets running calls finish, drains the rest to onDrain, then closes everything', async () => {
    const slow = gate();
    const drained: string[] = [];
    const finished: string[] = [];
    await start({
      onSession: async (session, request) => {
        if (request.uniqueId === 'quick') await delay(30);
        else await Promise.race([slow.promise, new Promise((resolve) => session.hangupSignal.addEventListener('abort', resolve))]);
        finished.push(request.uniqueId);
      },
      onDrain: async (session) => {
        drained.push(session.request.uniqueId);
        await session.moveTo('default-dest', '100', 1);
      },
    });
    const quick = await call(headerWith({ agi_uniqueid: 'quick' }));
    const stuck = await call(headerWith({ agi_uniqueid: 'stuck' }));
    await until(() => server!.activeCalls === 2);
    const { port } = server!.address();
    const started = performance.now();
    const stopping = server!.stop({ timeoutMs: 150, drainTimeoutMs: 1_000 });
    assert.equal(await stuck.answer('200 result=0\n'), 'SET CONTEXT "default-dest"');
    const waited = performance.now() - started;
    assert.ok(waited >= 140, `onDrain came after ${waited} ms`);
    await stuck.answer('200 result=0\n');
    await stuck.answer('200 result=0\n');
    await stopping;
    assert.deepEqual(drained, ['stuck']);
    assert.ok(finished.includes('quick'));
    await quick.closed;
    assert.equal(server!.sessions.size, 0);
    assert.equal(server!.listening, false);
    assert.equal(stuck.serverHasEnded, true);
    assert.ok(performance.now() - started < 500, 'stop() did not wait out drainTimeoutMs');
    await assert.rejects(FakeAsterisk.connect(port), { code: 'ECONNREFUSED' });
  });
});
