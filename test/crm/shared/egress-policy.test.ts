import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { CrmError } from '../../../src/crm/shared/crm-error';
import { EgressPolicy, type ConnectLookup } from '../../../src/crm/shared/egress-policy';
import { HttpClient } from '../../../src/crm/shared/http-client';
import { FakeHttpsServer } from '../../support/fake-https';
import { testCa } from '../../support/test-ca';

/** A DNS whose answers the test sets (and changes), as a hostile or rebinding DNS would. */
function fakeDns(answers: Record<string, string[]>): ConnectLookup & { asked: string[] } {
  const asked: string[] = [];
  const resolve: ConnectLookup = (hostname, _options, callback) => {
    asked.push(hostname);
    const found = answers[hostname];
    if (!found) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
    callback(null, found.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return Object.assign(resolve, { asked });
}

async function requestError(client: HttpClient, url: string): Promise<CrmError> {
  try {
    await client.request({ method: 'GET', url, signal: AbortSignal.timeout(3000), what: 'Acme CRM' });
  } catch (err) {
    assert.ok(err instanceof CrmError, String(err));
    return err;
  }
  assert.fail(`${url} was reached`);
}

describe('EgressPolicy', () => {
  it('by default refuses loopback, private, link-local and metadata addresses, and allows public ones', () => {
    const policy = new EgressPolicy();
    const kinds = Object.fromEntries(['127.0.0.1', '::1', '10.1.2.3', '192.168.1.1', '172.20.0.1', '100.64.0.1', 'fd12::1', '169.254.1.1', 'fe80::1', '169.254.169.254', 'fd00:ec2::254', '0.0.0.0', '224.0.0.1', '255.255.255.255', '8.8.8.8', '2606:4700::1111']
      .map((address) => [address, policy.refusal(address)?.kind ?? 'allowed']));
    assert.deepEqual(kinds, {
      '127.0.0.1': 'loopback', '::1': 'loopback', '10.1.2.3': 'private', '192.168.1.1': 'private', '172.20.0.1': 'private', '100.64.0.1': 'private', 'fd12::1': 'private',
      '169.254.1.1': 'link-local', 'fe80::1': 'link-local', '169.254.169.254': 'metadata', 'fd00:ec2::254': 'metadata', '0.0.0.0': 'unspecified',
      '224.0.0.1': 'multicast', '255.255.255.255': 'reserved', '8.8.8.8': 'allowed', '2606:4700::1111': 'allowed',
    });
  });

  it('judges IPv6 forms that carry an IPv4 address by that address', () => {
    const policy = new EgressPolicy();
    for (const address of ['::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', '::169.254.169.254']) {
      assert.equal(policy.refusal(address)?.kind, 'metadata', address);
    }
    assert.equal(policy.refusal('::ffff:127.0.0.1')?.kind, 'loopback');
    assert.equal(policy.refusal('::ffff:8.8.8.8'), undefined);
  });

  it('allows loopback or private ranges only when the host says so, and metadata never', () => {
    const onPrem = new EgressPolicy({ allowPrivate: true });
    assert.equal(onPrem.refusal('10.1.2.3'), undefined);
    assert.equal(onPrem.refusal('127.0.0.1')?.kind, 'loopback');
    const local = new EgressPolicy({ allowLoopback: true });
    assert.equal(local.refusal('127.0.0.1'), undefined);
    assert.equal(local.refusal('10.1.2.3')?.kind, 'private');
    const listed = new EgressPolicy({ allow: ['10.20.0.0/16', '169.254.169.254', '169.254.0.0/16'] });
    assert.equal(listed.refusal('10.20.5.5'), undefined);
    assert.equal(listed.refusal('10.21.5.5')?.kind, 'private');
    assert.equal(listed.refusal('169.254.169.254')?.kind, 'metadata', 'an allow-list does not open metadata endpoints');
    assert.equal(listed.refusal('169.254.1.1')?.kind, 'link-local');
    assert.throws(() => new EgressPolicy({ allow: ['crm.local'] }), /"crm.local" is not an IP address or CIDR range/);
  });

  it('checks literal hosts and metadata service names before any connection', () => {
    const policy = new EgressPolicy();
    assert.equal(policy.refuseHost('[::1]')?.kind, 'loopback');
    assert.equal(policy.refuseHost('169.254.169.254')?.kind, 'metadata');
    assert.equal(policy.refuseHost('Metadata.Google.Internal.')?.kind, 'metadata');
    assert.equal(policy.refuseHost('crm.example.com'), undefined, 'a name is checked on what it resolves to');
  });

  it('describes itself for the Integration page', () => {
    assert.match(new EgressPolicy().describe().join(' '), /Private networks .*: refused\. Loopback .*: refused\./);
    assert.match(new EgressPolicy({ allowPrivate: true, allow: ['10.0.0.5'] }).describe().join(' '), /: allowed\. Loopback .*: refused\. Also allowed: 10\.0\.0\.5\./);
  });
});

describe('HttpClient with an egress policy (checked on the address connected to)', () => {
  let fake: FakeHttpsServer;
  before(async () => {
    fake = await FakeHttpsServer.start(() => ({ body: { ok: true }, headers: { connection: 'close' } }), testCa().issue(['crm.example.test', 'localhost', '127.0.0.1']));
  });
  after(async () => fake.close());
  const port = () => new URL(fake.url).port;

  it('refuses a CRM on loopback by default, with a sentence an administrator can act on, and sends nothing', async () => {
    const client = new HttpClient({ ca: testCa().caPem });
    try {
      const before = fake.requests.length;
      const err = await requestError(client, fake.url);
      assert.equal(err.code, 'EGRESS');
      assert.equal(err.message, 'Acme CRM is at 127.0.0.1 (localhost resolves there), a loopback address of the PBX itself: CRM traffic may go there only when the PBX administrator allows loopback addresses.');
      assert.equal((await requestError(client, `https://127.0.0.1:${port()}/`)).code, 'EGRESS');
      assert.equal(fake.requests.length, before, 'no request reached the fake');
    } finally {
      await client.close();
    }
  });

  it('refuses 169.254.169.254 and metadata.google.internal even when loopback and private ranges are allowed', async () => {
    const client = new HttpClient({ ca: testCa().caPem, egress: { allowLoopback: true, allowPrivate: true } });
    try {
      assert.match((await requestError(client, 'https://169.254.169.254/latest/meta-data/')).message, /^Acme CRM is at 169\.254\.169\.254, a cloud metadata endpoint: CRM traffic never goes there\.$/);
      assert.equal((await requestError(client, 'https://metadata.google.internal/computeMetadata/v1/')).code, 'EGRESS');
    } finally {
      await client.close();
    }
  });

  it('judges a name by the addresses it resolves to, and follows a DNS answer that changes between requests', async () => {
    const answers: Record<string, string[]> = { 'crm.example.test': ['127.0.0.1'] };
    const dns = fakeDns(answers);
    const client = new HttpClient({ ca: testCa().caPem, egress: { allowLoopback: true }, resolve: dns });
    try {
      assert.equal((await client.request({ method: 'GET', url: `https://crm.example.test:${port()}/`, signal: AbortSignal.timeout(3000) })).status, 200);
      answers['crm.example.test'] = ['169.254.169.254'];
      const err = await requestError(client, `https://crm.example.test:${port()}/`);
      assert.equal(err.code, 'EGRESS');
      assert.match(err.message, /at 169\.254\.169\.254 \(crm\.example\.test resolves there\), a cloud metadata endpoint/);
      assert.equal(dns.asked.length, 2, 'each connection resolved the name again');
    } finally {
      await client.close();
    }
  });

  it('connects only to the allowed addresses of a name that also resolves to refused ones', async () => {
    const dns = fakeDns({ 'crm.example.test': ['169.254.169.254', '10.0.0.9', '127.0.0.1'] });
    const client = new HttpClient({ ca: testCa().caPem, egress: { allowLoopback: true }, resolve: dns });
    try {
      assert.equal((await client.request({ method: 'GET', url: `https://crm.example.test:${port()}/`, signal: AbortSignal.timeout(3000) })).status, 200);
    } finally {
      await client.close();
    }
  });

  it('still says when a name does not resolve at all (DNS), not EGRESS', async () => {
    const client = new HttpClient({ ca: testCa().caPem, resolve: fakeDns({}) });
    try {
      assert.equal((await requestError(client, 'https://nowhere.example.test/')).code, 'DNS');
    } finally {
      await client.close();
    }
  });
});
