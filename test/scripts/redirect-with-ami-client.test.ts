import assert from 'node:assert/strict';
import { AmiClient } from '../../src/ami/ami-client';
import { AsteriskSimulator } from '../../scripts/lib/asterisk-simulator';
import { FakeAmiServer } from '../../scripts/lib/fake-ami';
import { TinyAgiServer } from './tiny-agi-server';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('AmiClient, fake AMI and simulated Asterisk together', () => {
  let agi: TinyAgiServer;
  let asterisk: AsteriskSimulator;
  let ami: FakeAmiServer;
  let client: AmiClient;

  beforeEach(async () => {
    agi = await TinyAgiServer.start();
    asterisk = new AsteriskSimulator({ maxCallMs: 3000 });
    ami = await FakeAmiServer.create({ channels: asterisk });
    client = await AmiClient.create({ host: '127.0.0.1', port: ami.port, username: 'crm', secret: 'crmsecret' }, { logger: quiet });
  });
  afterEach(async () => {
    await client.close();
    asterisk.close();
    await ami.close();
    await agi.close();
  });

  it('moves the caller to the redirect target as soon as the server closes after the Redirect', async () => {
    agi.onCall(async (a) => {
      const channel = /agi_channel: (.*)\n/.exec(await a.header())?.[1] ?? '';
      assert.equal(await a.command('SET VARIABLE CRM_ROUTING_STATUS ok'), '200 result=1');
      assert.deepEqual(await client.redirect({ channel, context: 'dest-x', exten: '103', priority: 1 }), { ok: true });
      assert.equal(await a.line(), 'HANGUP');
      a.end();
    });
    const result = await asterisk.placeCall({ agiPort: agi.port, callerId: '+15550001111' });
    await agi.finished();
    assert.deepEqual(result.ended, { kind: 'dialplan', context: 'dest-x', exten: '103', priority: 1, via: 'redirect' });
    assert.equal(result.agiStatus, 'HANGUP');
    const { serverClosedAtMs = Infinity, finalMoveAtMs } = result.timings;
    assert.ok(finalMoveAtMs - serverClosedAtMs < 20, `moved ${finalMoveAtMs - serverClosedAtMs} ms after the close`);
  });

  it('is rejected with Asterisk\'s message once the call has left AGI', async () => {
    agi.onCall(async (a) => {
      await a.header();
      a.end();
    });
    const result = await asterisk.placeCall({ agiPort: agi.port });
    await agi.finished();
    assert.deepEqual(await client.redirect({ channel: result.channel, context: 'dest-x', exten: '103', priority: 1 }), {
      ok: false,
      code: 'REJECTED',
      message: `Channel does not exist: ${result.channel}`,
    });
  });
});
