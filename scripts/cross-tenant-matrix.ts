/**
 * `npm run matrix:tenants`
 *
 * The cross-tenant AGI matrix (scripts/lib/cross-tenant-cases.ts): tenant "acme" holds a signed
 * line of its own and knows the id and tenant name of a "globex" rule; every way of altering
 * or leaving out the line's rule, tenant and signature is placed as a call through the simulated
 * Asterisk against the plugin's call path. Prints each case's CRM_ROUTING_STATUS and the CRM
 * lookups made per tenant; exits 1 unless every case was refused with no lookup.
 */
import { performance } from 'node:perf_hooks';
import type { Rule } from '../src/domain/rule';
import type { CrmConnector, LookupResult } from '../src/crm/connector';
import { DialplanSigner } from '../src/call/dialplan-signature';
import { AsteriskSimulator } from './lib/asterisk-simulator';
import { startBenchCallPath } from './lib/bench-call-path';
import { table } from './lib/bench-stats';
import { crossTenantCases, REFUSED_STATUSES } from './lib/cross-tenant-cases';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function main(): Promise<void> {
  const lookups = new Map<string, number>();
  const crm: CrmConnector = { lookup: async (): Promise<LookupResult> => ({ kind: 'value', value: 'Gold' }) };
  const counting = { forRule: (rule: Rule) => { lookups.set(rule.tenantId, (lookups.get(rule.tenantId) ?? 0) + 1); return crm; } };
  const path = await startBenchCallPath({ logger: quiet, stub: counting, tenants: ['acme', 'globex'] });
  const asterisk = new AsteriskSimulator({ maxCallMs: 5000 });
  try {
    const [attacker, victim] = path.rules as [typeof path.rules[0], typeof path.rules[0]];
    const signedQuery = attacker.script.slice(attacker.script.indexOf('?') + 1);
    const cases = crossTenantCases({
      attacker: { ruleId: attacker.id, tenantId: attacker.tenantId, signedQuery, sig: new URLSearchParams(signedQuery).get('sig')! },
      victim: { ruleId: victim.id, tenantId: victim.tenantId },
    });
    console.log('matrix:tenants: calls into another tenant\'s rule over FastAGI, the plugin\'s call path (stub CRM counting lookups per tenant)');
    console.log(`Attacker: tenant "${attacker.tenantId}", its own line ${attacker.script}; victim: tenant "${victim.tenantId}", rule ${victim.id}\n`);

    const control = await asterisk.placeCall({ agiPort: path.port, script: attacker.script, callerId: '+15550001111' });
    const controlVictim = await asterisk.placeCall({ agiPort: path.port, script: victim.script, callerId: '+15550001111' });
    console.log(`Control: acme's own line -> ${control.variables.CRM_ROUTING_OUTCOME}; globex's own line -> ${controlVictim.variables.CRM_ROUTING_OUTCOME}; lookups ${JSON.stringify(Object.fromEntries(lookups))}\n`);
    lookups.clear();

    const rows: string[][] = [['case', 'agi_network_script (agi_arg_1)', 'CRM_ROUTING_STATUS', 'lookups', 'ms']];
    let refused = 0;
    for (const c of cases) {
      const started = performance.now();
      const call = await asterisk.placeCall({ agiPort: path.port, script: c.script, ...(c.args ? { args: c.args } : {}), callerId: '+15550001111' });
      const status = call.variables.CRM_ROUTING_STATUS ?? '(none)';
      const total = [...lookups.values()].reduce((a, b) => a + b, 0);
      if (REFUSED_STATUSES.has(status) && total === 0) refused += 1;
      rows.push([`${c.group}: ${c.label}`, `${c.script.length > 70 ? `${c.script.slice(0, 67)}...` : c.script}${c.args ? ` (${c.args.join(',')})` : ''}`, status, String(total), (performance.now() - started).toFixed(1)]);
    }
    console.log(table(rows));
    console.log(`\nRefused with no CRM lookup: ${refused} of ${cases.length}; lookups for globex: ${lookups.get('globex') ?? 0}, for acme: ${lookups.get('acme') ?? 0}`);

    // The cost of the check on every call: one HMAC-SHA256 (two for a line signed with the previous key).
    const signer = new DialplanSigner('matrix-secret-key-0123456789abcdef-0123456789');
    const sig = signer.sign(7, 'acme');
    const rounds = 200_000;
    const t0 = performance.now();
    for (let i = 0; i < rounds; i += 1) signer.verify('7', 'acme', sig);
    const t1 = performance.now();
    for (let i = 0; i < rounds; i += 1) signer.verify('7', 'acme', 'AAAAAAAAAAAAAAAAAAAAAA');
    const t2 = performance.now();
    console.log(`Signature check: ${(((t1 - t0) * 1000) / rounds).toFixed(2)} µs per valid line, ${(((t2 - t1) * 1000) / rounds).toFixed(2)} µs per refused line (${rounds} each)`);
    process.exitCode = refused === cases.length ? 0 : 1;
  } finally {
    asterisk.close();
    await path.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
