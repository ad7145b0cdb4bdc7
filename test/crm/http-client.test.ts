import assert from 'node:assert/strict';
import { HttpClient } from '../../src/crm/http-client';
import { CrmError } from '../../src/crm/crm-error';
import { FakeHttpsServer } from '../support/fake-https';
import { testCa } from '../support/test-ca';

describe('HttpClient', () => {
  let fake: FakeHttpsServer;
  let client: HttpClient;
  const signal = () => new AbortController().signal;

  before(async () => {
    fake = await FakeHttpsServer.start(() => ({ body: { ok: true } }));
    client = new HttpClient({ ca: testCa().caPem });
  });
  after(async () => { await client.close(); await fake.close(); });

  it('talks HTTPS to a server whose certificate the private CA signed', async () => {
    const res = await client.request({ method: 'GET', url: `${fake.url}/x?a=1`, signal: signal() });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { ok: true });
    assert.equal(fake.requests.at(-1)?.query.get('a'), '1');
  });

  it('refuses a certificate signed by nobody it trusts', async () => {
    const untrusted = await FakeHttpsServer.start(() => ({ body: 'x' }), testCa().selfSigned(['localhost']));
    try {
      await assert.rejects(client.request({ method: 'GET', url: untrusted.url, signal: signal() }), (err: CrmError) => err.code === 'TLS');
    } finally { await untrusted.close(); }
  });
});
