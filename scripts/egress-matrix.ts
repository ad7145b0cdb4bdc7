/**
 * `npm run matrix:egress`
 *
 * Where CRM traffic may go, as the plugin's HTTP client decides it: loopback (a real HTTPS server
 * on 127.0.0.1), 169.254.169.254 and metadata.google.internal, link-local, private ranges, public
 * addresses, and a name whose DNS answer is a refused address (rebinding), each under the default
 * policy and under a host that allows loopback and private ranges (an on-premises CRM). Prints
 * what is refused and why, and what happened to what was let through (this machine may have no
 * route to the internet: a public address then fails to connect, after the policy let it).
 */
import { lookup, type LookupAddress } from 'node:dns';
import { CrmError } from '../src/crm/shared/crm-error';
import type { ConnectLookup } from '../src/crm/shared/egress-policy';
import { HttpClient } from '../src/crm/shared/http-client';
import type { CrmEgressPolicy } from '../src/host';
import { FakeHttpsServer } from '../test/support/fake-https';
import { testCa } from '../test/support/test-ca';
import { table } from './lib/bench-stats';

/** A DNS where these names answer what a hostile DNS would. */
const ANSWERS: Record<string, string[]> = {
  'rebind.crm.test': ['169.254.169.254'],
  'intranet-crm.test': ['10.20.30.40'],
  'mixed.crm.test': ['169.254.169.254', '127.0.0.1'],
};
const resolve: ConnectLookup = (hostname, options, callback) => {
  const found = ANSWERS[hostname];
  if (!found) return lookup(hostname, { ...options, all: true }, callback as never);
  callback(null, found.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
};

async function main(): Promise<void> {
  const fake = await FakeHttpsServer.start(() => ({ body: { value: 'Gold' } }), testCa().issue(['localhost', '127.0.0.1', 'mixed.crm.test']));
  const port = new URL(fake.url).port;
  const targets: Array<[string, string]> = [
    ['loopback (a CRM on the PBX itself)', `https://127.0.0.1:${port}/lookup`],
    ['loopback by name', `https://localhost:${port}/lookup`],
    ['loopback, IPv6', 'https://[::1]:9/lookup'],
    ['cloud metadata', 'https://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['cloud metadata by name', 'https://metadata.google.internal/computeMetadata/v1/'],
    ['cloud metadata, IPv4-mapped IPv6', 'https://[::ffff:169.254.169.254]/latest/'],
    ['link-local', 'https://169.254.10.20/'],
    ['private 10/8', 'https://10.20.30.40/'],
    ['private 192.168/16', 'https://192.168.1.10/'],
    ['private, by name', 'https://intranet-crm.test/'],
    ['DNS answer is metadata (rebinding)', 'https://rebind.crm.test/'],
    ['DNS answers metadata and loopback', `https://mixed.crm.test:${port}/lookup`],
    ['public', 'https://93.184.215.14/'],
  ];
  const policies: Array<[string, CrmEgressPolicy]> = [['default', {}], ['loopback + private allowed', { allowLoopback: true, allowPrivate: true }]];
  const clients = policies.map(([, egress]) => new HttpClient({ ca: testCa().caPem, egress, resolve, connectTimeoutMs: 1500 }));
  try {
    console.log('matrix:egress: CRM connections under the egress policy (checked on the address connected to, after DNS)\n');
    const rows: string[][] = [['target', 'URL', ...policies.map(([name]) => name)]];
    const reasons = new Map<string, string>();
    for (const [label, url] of targets) {
      const cells: string[] = [];
      for (const client of clients) {
        try {
          const res = await client.request({ method: 'GET', url, signal: AbortSignal.timeout(3000), timeoutMs: 2500, what: 'The CRM' });
          cells.push(`allowed: HTTP ${res.status}`);
        } catch (err) {
          const e = err as CrmError;
          if (e.code === 'EGRESS') {
            cells.push('REFUSED');
            reasons.set(label, e.message);
          } else {
            cells.push(`allowed, then ${e.code}`);
          }
        }
      }
      rows.push([label, url.length > 60 ? `${url.slice(0, 57)}...` : url, ...cells]);
    }
    console.log(table(rows));
    console.log('("allowed, then X": the policy let the connection through; X is what this machine\'s network made of it, no CRM being there.)');
    console.log('\nWhy (as Test connection and Test rule show it):');
    for (const [label, reason] of reasons) console.log(`  ${label}: ${reason}`);
    console.log(`\nRequests that reached the local HTTPS server: ${fake.requests.length} (only under a policy that allows loopback)`);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await fake.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
