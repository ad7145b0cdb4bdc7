import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AmiClient, type AmiClientOptions } from '../../src/ami/ami-client';
import type { HostLogger } from '../../src/host';
import { FakeAmiServer, type AmiChannelControl } from '../../scripts/lib/fake-ami';
import { sleep } from '../scripts/raw-client';

const LIVE = 'Local/5551234@from-did-00000000;2';
const channels: AmiChannelControl = {
  redirect: (channel) => (channel === LIVE ? 'ok' : 'no-such-channel'),
  hangup: () => 'no-such-channel',
};
const target = { channel: LIVE, context: 'dest-x', exten: '103', priority: 1 };

class RecordingLogger implements HostLogger {
  readonly lines: Array<[string, string]> = [];
  debug = (m: string) => void this.lines.push(['debug', m]);
  info = (m: string) => void this.lines.push(['info', m]);
  warn = (m: string) => void this.lines.push(['warn', m]);
  error = (m: string) => void this.lines.push(['error', m]);
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`Timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe('AmiClient', () => {
  let fake: FakeAmiServer | undefined;
  let client: AmiClient | undefined;
  let logger: RecordingLogger;
  const consoleLog = console.log;
  let consoleLines: unknown[][];

  const options = (extra: Partial<AmiClientOptions> = {}): AmiClientOptions => ({
    logger,
    reconnectInitialMs: 20,
    reconnectMaxMs: 100,
    random: () => 0,
    ...extra,
  });
  const settingsFor = (port: number, secret = 'crmsecret') => ({ host: '127.0.0.1', port, username: 'crm', secret });

  beforeEach(() => {
    logger = new RecordingLogger();
    consoleLines = [];
    console.log = (...args: unknown[]) => void consoleLines.push(args);
  });
  afterEach(async () => {
    console.log = consoleLog;
    await client?.close();
    await fake?.close();
    client = undefined;
    fake = undefined;
    assert.deepEqual(consoleLines, [], 'nothing was written to console.log');
  });

  it('logs in, switches events off with the Events action, and reports healthy', async () => {
    fake = await FakeAmiServer.create({ channels });
    client = await AmiClient.create(settingsFor(fake.port), options());
    assert.deepEqual(client.health(), { configured: true, connected: true });
    const login = fake.actionsNamed('login')[0];
    assert.equal(login?.headers.username, 'crm');
    assert.equal(login?.headers.events, undefined, 'the library sends `Event`, which Asterisk ignores');
    assert.equal(fake.actionsNamed('events')[0]?.headers.eventmask, 'off');
    assert.deepEqual(fake.sessionStates(), [{ id: 1, authenticated: true, events: false }]);
    assert.ok(logger.lines.some(([level, m]) => level === 'info' && m === 'AMI connected'));
  });

  it('reports a wrong secret as the last error and keeps retrying', async () => {
    fake = await FakeAmiServer.create({ channels, authFailureDelayMs: 30 });
    client = await AmiClient.create(settingsFor(fake.port, 'wrong'), options());
    const health = client.health();
    assert.equal(health.connected, false);
    assert.match(health.lastError ?? '', /refused user "crm": Authentication failed/);
    assert.ok(!JSON.stringify(logger.lines).includes('wrong'), 'the secret is never logged');
    await until('a second login was tried', () => fake!.actionsNamed('login').length >= 2);
    const result = await client.redirect(target);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.code, 'NOT_CONNECTED');
  });

  it('redirects a live channel', async () => {
    fake = await FakeAmiServer.create({ channels });
    client = await AmiClient.create(settingsFor(fake.port), options());
    assert.deepEqual(await client.redirect(target), { ok: true });
    const sent = fake.actionsNamed('redirect')[0];
    assert.deepEqual(
      { channel: sent?.headers.channel, context: sent?.headers.context, exten: sent?.headers.exten, priority: sent?.headers.priority },
      { channel: LIVE, context: 'dest-x', exten: '103', priority: '1' },
    );
    assert.match(sent?.headers.actionid ?? '', /^crm-[0-9a-f]{8}-\d+$/, 'our ActionID, not a Date-based one');
  });

  it('returns Asterisk\'s message when it rejects a redirect of an unknown channel', async () => {
    fake = await FakeAmiServer.create({ channels });
    client = await AmiClient.create(settingsFor(fake.port), options());
    const result = await client.redirect({ ...target, channel: 'Local/nosuch@x-00000000;2' });
    assert.deepEqual(result, { ok: false, code: 'REJECTED', message: 'Channel does not exist: Local/nosuch@x-00000000;2' });
  });

  it('answers NOT_CONNECTED at once while AMI refuses connections', async () => {
    const port = await closedPort();
    client = await AmiClient.create(settingsFor(port), options({ reconnectInitialMs: 1000 }));
    const started = performance.now();
    const result = await client.redirect(target);
    const tookMs = performance.now() - started;
    assert.equal(!result.ok && result.code, 'NOT_CONNECTED');
    assert.match(!result.ok ? result.message : '', /refused the connection/);
    assert.ok(tookMs < 20, `answered in ${tookMs} ms`);
    assert.match(client.health().lastError ?? '', /refused the connection/);
  });

  it('reconnects after AMI restarts on the same port', async () => {
    fake = await FakeAmiServer.create({ channels });
    const port = fake.port;
    client = await AmiClient.create(settingsFor(port), options());
    await fake.close();
    await until('the loss is noticed', () => !client!.health().connected);
    assert.equal((await client.redirect(target)).ok, false);
    await sleep(150); // a few failed attempts against the closed port
    fake = await FakeAmiServer.create({ channels, port });
    await until('logged in again', () => client!.health().connected);
    assert.deepEqual(client.health(), { configured: true, connected: true });
    assert.deepEqual(await client.redirect(target), { ok: true });
    assert.ok(logger.lines.some(([level, m]) => level === 'warn' && m.startsWith('AMI connection lost')));
  });

  it('times out an action that Asterisk never answers, without dropping the connection', async () => {
    fake = await FakeAmiServer.create({ channels });
    client = await AmiClient.create(settingsFor(fake.port), options({ actionTimeoutMs: 80 }));
    fake.silent = true;
    const started = performance.now();
    const result = await client.redirect(target);
    const tookMs = performance.now() - started;
    assert.deepEqual(result, { ok: false, code: 'TIMEOUT', message: 'Asterisk did not answer the Redirect within 80 ms.' });
    assert.ok(tookMs >= 75 && tookMs < 300, `timed out after ${tookMs} ms`);
    assert.equal(client.health().connected, true);
  });

  it('drops a connection that stops answering Ping, then reconnects', async () => {
    fake = await FakeAmiServer.create({ channels });
    client = await AmiClient.create(settingsFor(fake.port), options({ actionTimeoutMs: 50, pingIntervalMs: 30 }));
    fake.silent = true;
    await until('the silent connection is dropped', () => !client!.health().connected);
    assert.match(client.health().lastError ?? '', /did not answer Ping within 50 ms/);
    fake.silent = false;
    await until('logged in again', () => client!.health().connected);
  });

  for (const [field, value] of [
    ['channel', 'Local/1@x;2\r\nAction: Hangup'],
    ['context', 'dest-x\n'],
    ['exten', '10\r3'],
    ['channel', 'Local/1@x\u0000;2'],
  ] as const) {
    it(`refuses ${JSON.stringify(value)} in ${field} as INVALID without writing anything`, async () => {
      fake = await FakeAmiServer.create({ channels });
      client = await AmiClient.create(settingsFor(fake.port), options());
      await sleep(20);
      const bytesBefore = fake.bytesReceived;
      const result = await client.redirect({ ...target, [field]: value });
      assert.equal(!result.ok && result.code, 'INVALID');
      assert.match(!result.ok ? result.message : '', /line break \(CR or LF\) or NUL/);
      await sleep(20);
      assert.equal(fake.bytesReceived, bytesBefore);
      assert.deepEqual(fake.actionsNamed('redirect'), []);
    });
  }

  it('refuses a priority that is not a whole number of at least 1', async () => {
    client = await AmiClient.create(undefined, options());
    for (const priority of [0, -1, 1.5, Number.NaN]) {
      const result = await client.redirect({ ...target, priority });
      assert.equal(!result.ok && result.code, 'INVALID', `priority ${priority}`);
    }
  });

  it('is NOT_CONFIGURED without settings, and says so in health', async () => {
    client = await AmiClient.create(undefined, options());
    assert.deepEqual(client.health(), { configured: false, connected: false });
    const result = await client.redirect(target);
    assert.equal(!result.ok && result.code, 'NOT_CONFIGURED');
  });

  it('refuses settings that are not valid when created', async () => {
    await assert.rejects(
      AmiClient.create({ host: '127.0.0.1', port: 70000, username: 'crm', secret: 'x\r\nAction: Hangup' }, options()),
      (err: Error) => err.name === 'AmiSettingsError' && /port must be between 1 and 65535/.test(err.message) && !err.message.includes('Hangup'),
    );
  });

  it('closes the connection and stops reconnecting on close()', async () => {
    fake = await FakeAmiServer.create({ channels });
    client = await AmiClient.create(settingsFor(fake.port), options());
    await client.close();
    assert.equal(client.health().connected, false);
    await until('the fake saw the connection end', () => fake!.sessionStates().length === 0);
    const logins = fake.actionsNamed('login').length;
    await sleep(150);
    assert.equal(fake.actionsNamed('login').length, logins, 'no reconnect after close');
    const result = await client.redirect(target);
    assert.equal(!result.ok && result.code, 'NOT_CONNECTED');
  });

  it('gives up a login that is never answered after the login timeout', async () => {
    fake = await FakeAmiServer.create({ channels });
    fake.silent = true;
    const started = performance.now();
    client = await AmiClient.create(settingsFor(fake.port), options({ loginTimeoutMs: 100, reconnectInitialMs: 1000 }));
    const tookMs = performance.now() - started;
    assert.ok(tookMs >= 95 && tookMs < 400, `gave up after ${tookMs} ms`);
    assert.deepEqual(client.health(), {
      configured: true,
      connected: false,
      lastError: `AMI at 127.0.0.1:${fake.port} did not answer the login within 100 ms`,
    });
    await until('the abandoned connection is closed', () => fake!.sessionStates().length === 0);
  });

  it('with an event listener: asks for its event classes, delivers events, and says when the connection was lost and is back', async () => {
    fake = await FakeAmiServer.create({ channels });
    const received: Array<Record<string, unknown>> = [];
    const changes: string[] = [];
    client = await AmiClient.create(settingsFor(fake.port), options({
      events: { mask: 'call,cdr,agent', onEvent: (e) => received.push(e), onConnected: () => changes.push('up'), onDisconnected: () => changes.push('down') },
    }));
    assert.equal(fake.actionsNamed('events')[0]?.headers.eventmask, 'call,cdr,agent');
    fake.emitEvent([['Event', 'Hangup'], ['Privilege', 'call,all'], ['Channel', 'Local/100@x-00000001;1'], ['Uniqueid', '1.2'], ['Linkedid', '1.1'], ['Cause-txt', 'Normal Clearing']]);
    await until('the event arrives', () => received.some((e) => e.event === 'Hangup'));
    assert.deepEqual(received.find((e) => e.event === 'Hangup'), {
      event: 'Hangup', privilege: 'call,all', channel: 'Local/100@x-00000001;1', uniqueid: '1.2', linkedid: '1.1', 'cause-txt': 'Normal Clearing',
    });
    fake.dropConnections();
    await until('reconnected', () => changes.length === 3);
    assert.deepEqual(changes, ['up', 'down', 'up']);
    assert.deepEqual(await client.redirect(target), { ok: true }, 'redirects still work with events on');
  });
});
