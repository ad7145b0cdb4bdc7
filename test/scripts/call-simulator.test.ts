import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ADMIN } from '../support/test-host';
import { CallRig, TEST_SECRET_KEY } from '../e2e/support/call-rig';

const run = promisify(execFile);

/** `npm run call -- ...` as a person runs it, against a running test host. */
async function npmRunCall(args: string[], env: Record<string, string> = { SECRET_KEY: TEST_SECRET_KEY }): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { SECRET_KEY: _key, DIALPLAN_KEY: _dialplanKey, ...inherited } = process.env;
    const { stdout, stderr } = await run('npx', ['tsx', 'scripts/call-simulator.ts', ...args], { timeout: 30_000, env: { ...inherited, AMI_URL: '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run call (scripts/call-simulator.ts) against a running host', function () {
  this.timeout(40_000);

  describe('a host without AMI', () => {
    let rig: CallRig;
    let rule: number;
    before(async () => {
      rig = await CallRig.start({ ami: 'none' });
      rule = await rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    });
    after(async () => rig?.close());

    it('prints the dialogue and where the call ended: moved with AGI', async () => {
      const { code, stdout } = await npmRunCall(['--rule', String(rule), '--caller', '+15550001111', '--agi', `127.0.0.1:${rig.agiPort}`, '--no-ami']);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /server > SET CONTEXT "ext-queues"/);
      assert.match(stdout, /Ended up at: ext-queues,103,1 \(moved with AGI SET CONTEXT\/EXTENSION\/PRIORITY\)/);
      assert.match(stdout, /AGISTATUS: SUCCESS/);
      assert.match(stdout, /CRM_ROUTING_OUTCOME=MATCH/);
      assert.match(stdout, /CRM_ROUTING_METHOD=AGI/);
      assert.equal(rig.requestsTo('/gold').at(-1)?.query.get('caller_id'), '+15550001111');
    });

    it('places the call of a line copied from the DIDs page (--line), with no key at hand', async () => {
      const line = (await rig.host.host.plugin.routingDestinations(ADMIN.tenantId)).find((r) => r.ruleId === rule)!.dialplan[0]!;
      const { code, stdout } = await npmRunCall(['--line', line, '--caller', '+15550002222', '--agi', `127.0.0.1:${rig.agiPort}`, '--no-ami'], { DATA_DIR: '/nonexistent' });
      assert.equal(code, 0, stdout);
      assert.match(stdout, /Ended up at: ext-queues,103,1/);
      assert.equal(rig.requestsTo('/gold').at(-1)?.query.get('caller_id'), '+15550002222');
    });

    it('says so when the host refuses the line (signed with another key): FORBIDDEN, the dialplan goes on', async () => {
      const { stdout } = await npmRunCall(['--rule', String(rule), '--caller', '+15550001111', '--agi', `127.0.0.1:${rig.agiPort}`, '--no-ami'], { SECRET_KEY: 'not-the-host-key-0123456789abcdef-0123456789' });
      assert.match(stdout, /CRM_ROUTING_STATUS=FORBIDDEN/);
      assert.match(stdout, /The host refused the line: its signature was not made with the host's key/);
    });
  });

  describe('a host whose AMI settings point at the script\'s port', () => {
    let rig: CallRig;
    let rule: number;
    before(async () => {
      rig = await CallRig.start({ ami: 'closed-port' });
      rule = await rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    });
    after(async () => rig?.close());

    it('plays AMI too: the host logs in and moves the call with Redirect', async () => {
      const { code, stdout } = await npmRunCall([
        '--rule', String(rule), '--caller', '+15550001111', '--agi', `127.0.0.1:${rig.agiPort}`, '--ami-port', String(rig.amiSettings!.port), '--ami-wait', '15000',
      ]);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /The host logged in to AMI: it will move the call with AMI Redirect\./);
      assert.match(stdout, /Ended up at: ext-queues,103,1 \(moved by AMI Redirect\)/);
      assert.match(stdout, /CRM_ROUTING_METHOD=AMI/);
      assert.match(stdout, /AMI Redirect received: Local\/5551234@from-did-[0-9a-f]{8};2 -> ext-queues,103,1/);
    });
  });

  describe('--end: the measured end of the call, played on the fake AMI for the host call log', () => {
    let rig: CallRig;
    let rule: number;
    before(async () => {
      rig = await CallRig.start({ ami: 'closed-port', callLogGraceMs: 300 });
      rule = await rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'extension:100' }] });
    });
    after(async () => rig?.close());

    const amiArgs = () => ['--agi', `127.0.0.1:${rig.agiPort}`, '--ami-port', String(rig.amiSettings!.port), '--ami-wait', '15000', '--pace', '0.5'];

    it('routes the call, then plays its end: the host emits one answered inbound call tied to the AGI channel', async () => {
      const { code, stdout } = await npmRunCall(['--rule', String(rule), '--caller', '+15550003333', '--did', '5559876', '--end', 'answered', ...amiArgs()]);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /Playing the end of the call as Asterisk 22 reported it when measured \(S1: /);
      const linkedid = /Sent 21 AMI events for Linkedid (\S+): Newchannel 4, DialBegin 2, DialEnd 2, OriginateResponse 1, Cdr 3, CEL HANGUP 4, Hangup 4, CEL LINKEDID_END 1/.exec(stdout)?.[1];
      assert.ok(linkedid, stdout);
      const calls = rig.completedCalls.filter((c) => c.linkedId === linkedid);
      assert.equal(calls.length, 1);
      const decision = (await rig.store.decisions.recent(ADMIN.tenantId, rule, 10))[0]!;
      assert.deepEqual(
        { direction: calls[0]!.direction, disposition: calls[0]!.disposition, externalNumber: calls[0]!.externalNumber, did: calls[0]!.did, agent: calls[0]!.agentExtension, agi: calls[0]!.channelUniqueIds.includes(decision.callId) },
        { direction: 'inbound', disposition: 'answered', externalNumber: '+15550003333', did: '5559876', agent: '100', agi: true },
      );
    });

    it('--end outbound plays an extension calling out, without routing anything', async () => {
      const { code, stdout } = await npmRunCall(['--end', 'outbound', '--agent', '101', '--caller', '+442071234567', ...amiArgs()]);
      assert.equal(code, 0, stdout);
      assert.doesNotMatch(stdout, /Calling agi:/);
      const linkedid = /for Linkedid (\S+):/.exec(stdout)?.[1];
      const call = rig.completedCalls.find((c) => c.linkedId === linkedid);
      assert.deepEqual([call?.direction, call?.agentExtension, call?.externalNumber], ['outbound', '101', '+442071234567']);
    });

    it('says when it finds no host database to read the call log from', async () => {
      const { code, stdout } = await npmRunCall(['--rule', String(rule), '--caller', '+15550003333', '--end', 'missed', ...amiArgs()], { SECRET_KEY: TEST_SECRET_KEY, DATA_DIR: '/nonexistent' });
      assert.equal(code, 0, stdout);
      assert.match(stdout, /Call log: no host database to read \(SQLite file \/nonexistent\/pbx.sqlite does not exist\)/);
    });

    it('refuses an unknown --end', async () => {
      const { code, stderr } = await npmRunCall(['--rule', String(rule), '--caller', '+1555', '--end', 'voicemail', '--no-ami']);
      assert.equal(code, 2);
      assert.match(stderr, /--end must be one of answered, missed, busy, abandoned, abandoned-unanswered, queue, queue-empty, outbound/);
    });
  });

  describe('--end on a host that logs calls to a Custom CRM call log URL (MariaDB)', () => {
    let rig: CallRig;
    let rule: number;
    let databaseUrl: string;
    before(async function () {
      this.timeout(60_000);
      rig = await CallRig.start({ ami: 'closed-port', callLogGraceMs: 300, callLog: 'outbox', dialect: 'mariadb' });
      rule = await rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'extension:100' }] });
      const url = rig.route('/calls', () => ({ status: 201, body: { id: 'C-7', url: 'https://crm.example.com/calls/C-7' } }));
      await rig.admin.get('/crm/integration');
      const saved = await rig.admin.post('/crm/integration/custom/call-log', {
        logEnabled: 'yes', call_inboundAnswered: 'yes', minSeconds: '0', unknownCaller: 'contact', subject: '{direction} call {caller}', url, action: 'save',
      });
      assert.match(saved.text, /Call logging for Custom CRM was saved and is on/);
      const { connection } = (rig.host.database.db.client as { config: { connection: { host: string; port: number; user: string; password?: string; database: string } } }).config;
      databaseUrl = `mysql://${encodeURIComponent(connection.user)}:${encodeURIComponent(connection.password ?? '')}@${connection.host}:${connection.port}/${connection.database}`;
    });
    after(async () => rig?.close());

    const args = () => ['--agi', `127.0.0.1:${rig.agiPort}`, '--ami-port', String(rig.amiSettings!.port), '--ami-wait', '15000', '--pace', '0.5'];

    it('prints where the call was logged: sent, with the CRM record; a missed call skipped by the log options', async () => {
      const answered = await npmRunCall(['--rule', String(rule), '--caller', '+15550004444', '--end', 'answered', ...args()], { SECRET_KEY: TEST_SECRET_KEY, DATABASE_URL: databaseUrl });
      assert.equal(answered.code, 0, answered.stdout + answered.stderr);
      const linkedid = /for Linkedid (\S+):/.exec(answered.stdout)?.[1];
      assert.ok(linkedid, answered.stdout);
      assert.ok(answered.stdout.includes(`Call log (CRM > Call log), Linkedid ${linkedid}:\n  Custom CRM call log URL: sent, record C-7 (https://crm.example.com/calls/C-7)`), answered.stdout);
      assert.equal(rig.requestsTo('/calls').length, 1);

      const missed = await npmRunCall(['--rule', String(rule), '--caller', '+15550004444', '--end', 'missed', ...args()], { SECRET_KEY: TEST_SECRET_KEY, DATABASE_URL: databaseUrl });
      assert.match(missed.stdout, /  Custom CRM call log URL: skipped: Inbound missed calls are not logged \(log options\)\./);
      assert.equal(rig.requestsTo('/calls').length, 1);
    });
  });
});
