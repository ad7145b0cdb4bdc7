/**
 * The reference host with every CRM of a table set up the way an administrator would: each
 * CRM's fake started, its integration saved and enabled on CRM > Integration, one rule per CRM
 * saved on CRM > Routing; plus the simulated Asterisk and a fake AMI to place calls with.
 *
 * Each rule reads the case's field and walks two rows: Gold -> queue 105, Silver -> queue 103;
 * anything else (no row, not found, CRM error) -> extension 101.
 */
import assert from 'node:assert/strict';
import { CRM_REGISTRY } from '../../src/crm/registry';
import { AsteriskSimulator, type CallResult } from '../../scripts/lib/asterisk-simulator';
import { FakeAmiServer } from '../../scripts/lib/fake-ami';
import type { CrmCase, KnownCaller, StartedCrm } from './crm-cases';
import { testCa } from './test-ca';
import { ADMIN, OTHER_TENANT_USER, startTestHost, type SignedInAgent, type TestHost } from './test-host';

export const ROWS = [
  { value: 'Gold', queue: '105' },
  { value: 'Silver', queue: '103' },
] as const;
export const DEFAULT_EXTENSION = '101';

export interface CrmCallRigOptions {
  /** Callers every fake knows. */
  callers: readonly KnownCaller[];
  /** Over plugin.json's 60 s; 0 turns the lookup cache off. */
  lookupCacheTtlSeconds?: number;
  /** Each rule's deadline. Default 3 s, the form's default. */
  deadlineSeconds?: number;
  /** Without it the host has the fake AMI; `none`: no AMI settings (calls move with AGI). */
  ami?: 'fake' | 'none';
}

interface Prepared {
  started: StartedCrm;
  ruleId: number;
  /** The rule's AGI script as its signed dialplan line has it. */
  script: string;
}

export class CrmCallRig {
  private constructor(
    readonly host: TestHost,
    readonly asterisk: AsteriskSimulator,
    readonly ami: FakeAmiServer,
    private readonly prepared: Map<CrmCase, Prepared>,
  ) {}

  static async start(cases: readonly CrmCase[], options: CrmCallRigOptions): Promise<CrmCallRig> {
    const started = await Promise.all(cases.map((c) => c.start(options.callers)));
    const asterisk = new AsteriskSimulator();
    const ami = await FakeAmiServer.create({ channels: asterisk });
    const host = await startTestHost({
      crmCa: testCa().caPem,
      ami: options.ami === 'none' ? undefined : { host: '127.0.0.1', port: ami.port, username: 'crm', secret: 'crmsecret' },
      lookupCacheTtlSeconds: options.lookupCacheTtlSeconds,
      // Zoho's connector fixes its hosts by data centre: its fake serves them (no other CRM asks).
      resolveCrmOrigin: started.find((s) => s.resolveOrigin)?.resolveOrigin,
    });
    const agents = { default: await host.signIn(ADMIN), other: await host.signIn(OTHER_TENANT_USER) };
    const prepared = new Map<CrmCase, Prepared>();
    for (const [i, c] of cases.entries()) {
      const agent = agents[c.tenant];
      await saveIntegration(agent, c, started[i]!);
      const name = `${c.name} rule`;
      await createRule(agent, c, name, options.deadlineSeconds ?? 3);
      const tenantId = c.tenant === 'default' ? ADMIN.tenantId : OTHER_TENANT_USER.tenantId;
      const offered = (await host.host.plugin.routingDestinations(tenantId)).find((r) => r.name === name);
      assert.ok(offered, `${name} is offered as a DID destination`);
      prepared.set(c, { started: started[i]!, ruleId: offered.ruleId, script: offered.agiUrl!.replace(/^agi:\/\/[^/]+\//, '') });
    }
    return new CrmCallRig(host, asterisk, ami, prepared);
  }

  /** One call into the case's rule, the way a DID pointing at it runs AGI(). */
  call(c: CrmCase, callerId: string): Promise<CallResult> {
    return this.asterisk.placeCall({ agiPort: this.host.agiPort, script: this.of(c).script, callerId, did: '5551234' });
  }

  fake(c: CrmCase): StartedCrm {
    return this.of(c).started;
  }

  async close(): Promise<void> {
    await this.host.close();
    this.asterisk.close();
    await this.ami.close();
    await Promise.all([...this.prepared.values()].map((p) => p.started.close()));
  }

  private of(c: CrmCase): Prepared {
    const prepared = this.prepared.get(c);
    if (!prepared) throw new Error(`${c.name} was not set up on this host`);
    return prepared;
  }
}

/** CRM > Integration: the CRM's section as a browser posts it (defaults for fields left alone), enabled, saved. */
export async function saveIntegration(agent: SignedInAgent, c: CrmCase, started: StartedCrm): Promise<void> {
  const { fields, label } = CRM_REGISTRY[c.crm].definition;
  const unknown = Object.keys(started.settings).filter((name) => !fields.some((f) => f.name === name));
  assert.deepEqual(unknown, [], `${c.name}: not fields of the ${label} section`);
  const form = Object.fromEntries(fields.map((f) => [f.name, started.settings[f.name] ?? (f.secret ? '' : f.defaultValue ?? '')]));
  await agent.get('/crm/integration');
  const res = await agent.post(`/crm/integration/${c.crm}`, { ...form, enabled: 'yes', action: 'save' });
  assert.equal(res.status, 200, `${c.name}: the Integration page refused the settings: ${errorsOf(res.text)}`);
  assert.match(res.text, /was saved and is enabled/, `${c.name}: no "saved" notice`);
}

/** CRM > Routing > New: the case's module and field, the two rows, the default destination. */
export async function createRule(agent: SignedInAgent, c: CrmCase, name: string, deadlineSeconds: number): Promise<void> {
  await agent.get('/crm/routing/new');
  const res = await agent.post('/crm/routing/new', {
    name, fieldName: c.fieldName, location: 'did', source: 'integration', crm: c.crm, crmModule: c.module,
    crmUsername: '', crmPassword: '', deadlineSeconds: String(deadlineSeconds), defaultDestination: `extension:${DEFAULT_EXTENSION}`, defaultVoicemail: 'unset',
    row_operator: ROWS.map(() => 'eq'), row_value: ROWS.map((r) => r.value), row_dest_type: ROWS.map(() => 'queue'), row_dest_target: ROWS.map((r) => r.queue),
    action: 'save',
  });
  assert.equal(res.status, 303, `${c.name}: the rule was not saved: ${errorsOf(res.text)}`);
}

function errorsOf(html: string): string {
  const errors = [...html.matchAll(/id="([\w.-]+)-error"[^>]*>([^<]*)</g)].map((m) => `${m[1]}: ${m[2]}`);
  return errors.join('; ') || html.slice(0, 300);
}
