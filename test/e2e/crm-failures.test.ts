import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { FakeHttpsServer } from '../support/fake-https';
import { testCa } from '../support/test-ca';
import { CallRig, closedPort } from './support/call-rig';
import { within } from './support/within';

/** Every rule here has a 1 s deadline; the caller must be moved within it plus this much. */
const DEADLINE_MS = 1000;
const SLACK_MS = 50;

describe('Live call routing: a failing CRM sends the caller to the default destination within the deadline', function () {
  let rig: CallRig;
  let untrusted: FakeHttpsServer;
  /** Accepts TCP connections and never says a word: a TLS handshake that stalls. */
  let silent: Server;
  const stalled = new Set<Socket>();

  before(async function () {
    this.timeout(30_000);
    rig = await CallRig.start();
    untrusted = await FakeHttpsServer.start(() => ({ body: { value: 'gold' } }), testCa().selfSigned(['localhost', '127.0.0.1']));
    silent = createServer((socket) => {
      stalled.add(socket);
      socket.on('close', () => stalled.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await rig?.close();
    await untrusted?.close();
    for (const socket of stalled) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
  });

  const rows = [{ operator: 'eq' as const, value: 'gold', destination: 'queue:103' }];

  /** A rule on `url`, one call into it, and the checks every failure shares. */
  async function failingCall(url: string, expected: { outcome: 'CRM_ERROR' | 'CRM_TIMEOUT'; errorCode: string }): Promise<CallResult> {
    const rule = await rig.createRule({ url, rows, deadlineSeconds: DEADLINE_MS / 1000, defaultDestination: 'extension:101' });
    const call = await rig.call(rule);
    assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-local', exten: '101', priority: 1, via: 'redirect' }, call.dialogue);
    assert.ok(call.timings.finalMoveAtMs < DEADLINE_MS + SLACK_MS, `moved ${call.timings.finalMoveAtMs} ms after connecting`);
    assert.deepEqual(
      { status: call.variables.CRM_ROUTING_STATUS, outcome: call.variables.CRM_ROUTING_OUTCOME, value: call.variables.CRM_ROUTING_VALUE, row: call.variables.CRM_ROUTING_ROW },
      { status: 'OK', outcome: expected.outcome, value: '', row: '' },
    );
    const decision = await rig.decision(rule, call.uniqueid);
    assert.deepEqual(
      { outcome: decision.outcome, errorCode: decision.errorCode, destination: decision.destination, method: decision.method, value: decision.value },
      { outcome: expected.outcome, errorCode: expected.errorCode, destination: { type: 'extension', target: '101' }, method: 'ami', value: null },
    );
    assert.ok(decision.errorMessage && decision.errorMessage.length > 0, 'the error says what happened');
    return call;
  }

  it('HTTP 500: CRM_ERROR, HTTP_ERROR recorded', async () => {
    await failingCall(rig.route('/http-500', () => ({ status: 500, body: 'Internal Server Error' })), { outcome: 'CRM_ERROR', errorCode: 'HTTP_ERROR' });
  });

  it('a CRM slower than the deadline: CRM_TIMEOUT, TIMEOUT recorded, the request aborted', async () => {
    const url = rig.route('/slow', () => ({ delayMs: 3000, body: { value: 'gold' } }));
    const call = await failingCall(url, { outcome: 'CRM_TIMEOUT', errorCode: 'TIMEOUT' });
    assert.ok(call.timings.finalMoveAtMs >= DEADLINE_MS - 5, `the deadline was used in full (${call.timings.finalMoveAtMs} ms)`);
    const request = rig.requestsTo('/slow').at(-1)!;
    await within(rig.crm.connectionClosed(request.connectionId), 500, 'the CRM connection is closed after the deadline');
  });

  it('a server that accepts the connection but never completes TLS: CRM_TIMEOUT, TIMEOUT recorded', async () => {
    await failingCall(`https://localhost:${(silent.address() as AddressInfo).port}/lookup`, { outcome: 'CRM_TIMEOUT', errorCode: 'TIMEOUT' });
  });

  it('an untrusted (self-signed) certificate: CRM_ERROR, TLS recorded, nothing sent', async () => {
    await failingCall(`${untrusted.url}/lookup`, { outcome: 'CRM_ERROR', errorCode: 'TLS' });
    assert.equal(untrusted.requests.length, 0);
  });

  it('garbage bytes instead of HTTP: CRM_ERROR, BAD_RESPONSE recorded', async () => {
    await failingCall(rig.route('/garbage', () => ({ raw: '\x00\x13garbage\r\n\r\nnot http at all\n' })), { outcome: 'CRM_ERROR', errorCode: 'BAD_RESPONSE' });
  });

  it('an answer over 64 KiB: CRM_ERROR, TOO_LARGE recorded', async () => {
    await failingCall(rig.route('/oversize', () => ({ headers: { 'content-type': 'text/plain' }, body: 'g'.repeat(200 * 1024) })), { outcome: 'CRM_ERROR', errorCode: 'TOO_LARGE' });
  });

  it('connection refused: CRM_ERROR, CONNECTION recorded', async () => {
    await failingCall(`https://localhost:${await closedPort()}/lookup`, { outcome: 'CRM_ERROR', errorCode: 'CONNECTION' });
  });

  it('a dropped connection: CRM_ERROR, CONNECTION recorded', async () => {
    await failingCall(rig.route('/drop', () => ({ drop: true })), { outcome: 'CRM_ERROR', errorCode: 'CONNECTION' });
  });
});

