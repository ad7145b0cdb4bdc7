/**
 * Who may read the reference host's /metrics and /healthz: this machine, or anyone with the
 * bearer token (METRICS_TOKEN). Checked over a real non-loopback address of this machine (the
 * host listening on 0.0.0.0), where the request is not local.
 */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import request from 'supertest';
import { isLocal } from '../../scripts/host/operator-access';
import { startTestHost, type TestHost } from '../support/test-host';

const TOKEN = 'metrics-token-0123456789abcdef';

/** An IPv4 address of this machine that is not loopback: requests to it come from it too, but not from 127/8. */
function outsideAddress(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

describe('Reference host: /metrics and /healthz only for this machine or the bearer token', function () {
  this.timeout(30_000);
  let host: TestHost;
  let outside: string;

  before(async function () {
    const address = outsideAddress();
    if (!address) this.skip();
    outside = `http://${address}:${new URL((host = await startTestHost({ metricsToken: TOKEN, listenHost: '0.0.0.0' })).host.url).port}`;
  });
  after(async () => host?.close());

  for (const path of ['/metrics', '/healthz']) {
    it(`${path}: 401 from a non-local address without the token, or with a wrong one; 200 with it; 200 from localhost`, async () => {
      const none = await request(outside).get(path);
      assert.equal(none.status, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer');
      assert.doesNotMatch(none.text, /crm_routing|healthy/);
      for (const wrong of ['Bearer metrics-token-0123456789abcdeX', `Bearer ${TOKEN}x`, 'Bearer ', `Basic ${TOKEN}`, TOKEN]) {
        assert.equal((await request(outside).get(path).set('Authorization', wrong)).status, 401, wrong);
      }
      const withToken = await request(outside).get(path).set('Authorization', `Bearer ${TOKEN}`);
      assert.equal(withToken.status, 200, withToken.text);
      assert.match(withToken.text, path === '/metrics' ? /^# HELP crm_routing_/m : /"healthy":true/);
      assert.equal((await request(host.host.url).get(path)).status, 200, 'from this machine, no token needed');
    });
  }

  it('a local request that came through a proxy needs the token like any other', async () => {
    const proxied = await request(host.host.url).get('/healthz').set('X-Forwarded-For', '203.0.113.7');
    assert.equal(proxied.status, 401);
    assert.equal((await request(host.host.url).get('/healthz').set('X-Forwarded-For', '203.0.113.7').set('Authorization', `Bearer ${TOKEN}`)).status, 200);
  });
});

describe('isLocal', () => {
  it('is loopback only (IPv4 127/8, IPv6 ::1, and IPv4-mapped loopback)', () => {
    for (const local of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLocal(local), true, local);
    for (const remote of ['10.0.0.1', '192.0.2.2', '::ffff:192.0.2.2', 'fd00::2', '0.0.0.0', '::', '', undefined, '127.0.0.1.evil']) assert.equal(isLocal(remote), false, String(remote));
  });
});
