import assert from 'node:assert/strict';
import { AMI_BANNER, FakeAmiServer, type AmiChannelControl, type AmiRedirectTarget } from '../../scripts/lib/fake-ami';
import { RawClient, sleep } from './raw-client';

const LOGIN_OK = 'Action: Login\r\nUsername: crm\r\nSecret: crmsecret\r\nEvents: off\r\nActionID: 1\r\n\r\n';
const ACCEPTED = 'Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n';

describe('FakeAmiServer', () => {
  let fake: FakeAmiServer;
  let client: RawClient;
  const redirects: Array<[string, AmiRedirectTarget]> = [];
  const channels: AmiChannelControl = {
    redirect(channel, target) {
      redirects.push([channel, target]);
      if (channel === 'Local/5551234@from-did-00000000;2') return 'ok';
      if (channel === 'Local/gone@from-did-00000001;2') return 'not-up';
      return 'no-such-channel';
    },
    hangup: (channel) => (channel === 'Local/5551234@from-did-00000000;2' ? 'ok' : 'no-such-channel'),
  };

  beforeEach(async () => {
    redirects.length = 0;
    fake = await FakeAmiServer.create({ authFailureDelayMs: 150, channels });
    client = await RawClient.connect(fake.port);
  });
  afterEach(async () => {
    client.destroy();
    await fake.close();
  });

  async function login(): Promise<void> {
    client.write(LOGIN_OK);
    await client.waitForText(ACCEPTED);
  }

  it('greets with the banner and accepts the right secret, with nothing after it when events are off', async () => {
    await client.waitForText(AMI_BANNER);
    assert.equal(client.received, 'Asterisk Call Manager/11.0.0\r\n');
    await login();
    await sleep(50);
    assert.equal(client.received, AMI_BANNER + ACCEPTED);
    assert.deepEqual(fake.sessionStates(), [{ id: 1, authenticated: true, events: false }]);
  });

  it('sends FullyBooted after a login that did not switch events off (`Event: off` is not `Events`)', async () => {
    client.write('Action: login\r\nActionID: 7\r\nEvent: off\r\nSecret: crmsecret\r\nUsername: crm\r\n\r\n');
    await client.waitForText('Status: Fully Booted\r\n\r\n');
    assert.match(client.received, /Message: Authentication accepted\r\n\r\nEvent: FullyBooted\r\nPrivilege: system,all\r\nUptime: \d+\r\nLastReload: \d+\r\n/);
    assert.equal(fake.sessionStates()[0]?.events, true);
    client.write('Action: Events\r\nEventMask: off\r\nActionID: 8\r\n\r\n');
    await client.waitForText('Response: Success\r\nActionID: 8\r\nEvents: Off\r\n\r\n');
    assert.equal(fake.sessionStates()[0]?.events, false);
  });

  it('answers a wrong secret late with Authentication failed, then closes', async () => {
    client.write('Action: Login\r\nUsername: crm\r\nSecret: wrong\r\nActionID: 1\r\n\r\n');
    await sleep(80);
    assert.equal(client.received, AMI_BANNER, 'the refusal is not immediate');
    await client.waitForText('Response: Error\r\nActionID: 1\r\nMessage: Authentication failed\r\n\r\n', 1000);
    await client.waitForClose(1000);
  });

  it('answers the measured transcript byte for byte', async () => {
    await login();
    const expect = async (action: string, answer: RegExp | string) => {
      const from = client.received.length;
      client.write(action);
      await client.waitFor((r) => r.slice(from).endsWith('\r\n\r\n'), 1000, `the answer to ${JSON.stringify(action)}`);
      const got = client.received.slice(from);
      if (typeof answer === 'string') assert.equal(got, answer);
      else assert.match(got, answer);
    };
    await expect('Action: Ping\r\nActionID: 2\r\n\r\n', /^Response: Success\r\nActionID: 2\r\nPing: Pong\r\nTimestamp: \d{10}\.\d{6}\r\n\r\n$/);
    await expect(
      'Action: Redirect\r\nChannel: Local/nosuch@x-00000000;2\r\nContext: dest-x\r\nExten: 103\r\nPriority: 1\r\nActionID: 3\r\n\r\n',
      'Response: Error\r\nActionID: 3\r\nMessage: Channel does not exist: Local/nosuch@x-00000000;2\r\n\r\n',
    );
    await expect('Action: Redirect\r\nActionID: 4\r\n\r\n', 'Response: Error\r\nActionID: 4\r\nMessage: Channel not specified\r\n\r\n');
    await expect(
      'Action: Bogus\r\nActionID: 5\r\n\r\n',
      'Response: Error\r\nActionID: 5\r\nMessage: Invalid/unknown command: Bogus. Use Action: ListCommands to show available commands.\r\n\r\n',
    );
    await expect(
      'Action: Redirect\r\nChannel: Local/5551234@from-did-00000000;2\r\nContext: nosuch-context\r\nExten: 999\r\nPriority: 1\r\nActionID: 9\r\n\r\n',
      'Response: Success\r\nActionID: 9\r\nMessage: Redirect successful\r\n\r\n',
    );
    await expect('Action: Logoff\r\nActionID: 6\r\n\r\n', 'Response: Goodbye\r\nActionID: 6\r\nMessage: Thanks for all the fish.\r\n\r\n');
    await client.waitForClose(1000);
    assert.deepEqual(redirects, [
      ['Local/nosuch@x-00000000;2', { context: 'dest-x', exten: '103', priority: 1 }],
      ['Local/5551234@from-did-00000000;2', { context: 'nosuch-context', exten: '999', priority: 1 }],
    ]);
  });

  it('refuses actions before login with Permission denied', async () => {
    client.write('Action: Ping\r\nActionID: 7\r\n\r\n');
    await client.waitForText('Response: Error\r\nActionID: 7\r\nMessage: Permission denied\r\n\r\n');
    client.write('Action: Redirect\r\nChannel: Local/5551234@from-did-00000000;2\r\nContext: x\r\nExten: 1\r\nPriority: 1\r\n\r\n');
    await client.waitForText('Response: Error\r\nMessage: Permission denied\r\n\r\n');
    assert.deepEqual(redirects, [], 'nothing reached the channels');
  });

  it('says when the channel is already hanging up', async () => {
    await login();
    client.write('Action: Redirect\r\nChannel: Local/gone@from-did-00000001;2\r\nContext: x\r\nExten: 1\r\nPriority: 1\r\nActionID: 2\r\n\r\n');
    await client.waitForText('Response: Error\r\nActionID: 2\r\nMessage: Redirect failed, channel not up.\r\n\r\n');
  });

  it('records every action with its lines as received', async () => {
    await login();
    client.write('Action: Ping\nActionID: 2\n\n');
    await client.waitForText('Ping: Pong');
    assert.deepEqual(
      fake.actions.map((a) => [a.action, a.headers.actionid]),
      [['Login', '1'], ['Ping', '2']],
    );
    assert.deepEqual(fake.actions[0]?.lines, ['Action: Login', 'Username: crm', 'Secret: crmsecret', 'Events: off', 'ActionID: 1']);
    assert.equal(fake.bytesReceived, Buffer.byteLength(LOGIN_OK) + 'Action: Ping\nActionID: 2\n\n'.length);
  });

  it('stays silent when told to, and can drop every connection', async () => {
    await login();
    fake.silent = true;
    client.write('Action: Ping\r\nActionID: 2\r\n\r\n');
    assert.ok(await fake.waitForAction('ping', 500), 'the Ping was received');
    await sleep(50);
    assert.ok(!client.received.includes('Pong'));
    fake.dropConnections();
    await client.waitForClose(1000);
  });

  it('closes new connections at once while refusing sessions', async () => {
    fake.refuseNewSessions = true;
    const second = await RawClient.connect(fake.port);
    await second.waitForClose(1000);
    assert.equal(second.received, '');
  });

  it('waits for a login with a limit', async () => {
    assert.equal(await fake.waitForLogin(30), false);
    const waiting = fake.waitForLogin(1000);
    client.write(LOGIN_OK);
    assert.equal(await waiting, true);
  });
});
