/**
 * The plugin's call path as bench:agi runs it: startCallPath with plugin.json's settings (limits
 * included), on a fresh SQLite file, with one DID rule whose fourth row matches "Gold", the
 * reference host's destination catalog, the license on and, unless `ami` is given, no AMI, so
 * every call is moved with AGI's SET CONTEXT/EXTENSION/PRIORITY. The web parts of the host are
 * not used by the call path and are left empty.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { pluginConfig } from '../../src/config';
import { startCallPath, type CallPath } from '../../src/call/call-path';
import { agiScript } from '../../src/call/dialplan';
import { DialplanSigner } from '../../src/call/dialplan-signature';
import { NO_BRANCHES, type RuleDraft } from '../../src/domain/rule';
import type { AmiSettings, HostContext, HostLogger } from '../../src/host';
import { PluginStore } from '../../src/store/plugin-store';
import { ReferenceCatalog } from '../host/catalog';
import { SQLITE_POOL } from '../host/host-data';
import type { CallLimits } from '../../src/config';
import type { RuleConnectors } from '../../src/crm/rule-connectors';

export interface BenchCallPathOptions {
  logger: HostLogger;
  /** Answers every lookup in process (startCallPath's `lookups`); without it the rule's Custom CRM URL is asked over HTTPS. */
  stub?: Pick<RuleConnectors, 'forRule'>;
  /** One rule per tenant (the same rule). Default one tenant, "bench-agi". */
  tenants?: string[];
  /** Over plugin.json's call limits. */
  limits?: Partial<CallLimits>;
  /** The FastAGI allow-list (AGI_ALLOW). Default: any address. */
  agiAllow?: string[];
  /** The rule's Custom CRM URL. */
  customUrl?: string;
  /** PEM of the CA that signed the Custom CRM's certificate. */
  crmCa?: string;
  /** AMI settings: calls are then moved by AMI Redirect (one AGI command, EXEC MSet, then the action). */
  ami?: AmiSettings;
  /**
   * A database prepared by prepareBenchDatabase (bench:agi's workers phase): opened, not created,
   * its rules used as they are. Default: a fresh SQLite file with the bench rule.
   */
  shared?: { file: string; secretKey: string };
  /** The FastAGI port. Default 0 (a free one). */
  agiPort?: number;
}

export interface BenchCallPath {
  callPath: CallPath;
  port: number;
  /** The AGI script of the (first) rule's signed dialplan line: `crm-routing?rule=<id>&tenant=bench-agi&sig=...`. */
  script: string;
  /** Every tenant's rule with its signed script. */
  rules: Array<{ id: number; tenantId: string; script: string }>;
  /** Where a "Gold" caller lands. */
  expected: { context: string; exten: string; priority: number };
  stop(): Promise<void>;
}

const TENANT = 'bench-agi';

export const BENCH_RULE = (customUrl: string): RuleDraft => ({
  name: 'Bench - VIP routing', fieldName: 'tier', location: 'did', greeting: null,
  source: { kind: 'custom', url: customUrl, post: false, headers: [] },
  deadlineSeconds: 3,
  defaultDestination: { type: 'queue', target: '104' }, defaultVoicemail: 'unset', branches: { ...NO_BRANCHES },
  rows: [
    { operator: 'eq', value: 'Platinum', destination: { type: 'queue', target: '105' } },
    { operator: 'eq', value: 'Silver', destination: { type: 'extension', target: '101' } },
    { operator: 'starts_with', value: 'Bronze', destination: { type: 'extension', target: '102' } },
    { operator: 'eq', value: 'Gold', destination: { type: 'queue', target: '103' } },
    { operator: 'empty', value: '', destination: { type: 'ivr', target: '200' } },
  ],
});

/** A SQLite file with the bench rule, for processes that share it; resolves with its rule's signed AGI script. */
export async function prepareBenchDatabase(file: string, secretKey: string, customUrl: string): Promise<string> {
  const db = knex({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true, pool: SQLITE_POOL });
  try {
    const store = await PluginStore.create(db, { secretKey });
    const rule = await store.rules.create(TENANT, BENCH_RULE(customUrl));
    return agiScript(rule, 'crm-routing', new DialplanSigner(secretKey));
  } finally {
    await db.destroy();
  }
}

export async function startBenchCallPath(options: BenchCallPathOptions): Promise<BenchCallPath> {
  const dir = options.shared ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'bench-agi-'));
  // As the reference host opens its SQLite file (WAL).
  const db = knex({ client: 'better-sqlite3', connection: { filename: options.shared?.file ?? path.join(dir!, 'pbx.sqlite') }, useNullAsDefault: true, pool: SQLITE_POOL });
  const secretKey = options.shared?.secretKey ?? randomBytes(32).toString('hex');
  const host: HostContext = {
    mount: () => undefined, basePath: '/crm', db,
    license: { isEnabled: () => true },
    auth: { middleware: (_req, _res, next) => next(), currentUser: () => ({ id: 'bench', name: 'bench', tenantId: TENANT }) },
    menu: { add: () => undefined }, layout: (page) => page.body,
    destinations: new ReferenceCatalog(),
    agi: { port: options.agiPort ?? 0, bind: '127.0.0.1', ...(options.agiAllow ? { allow: options.agiAllow } : {}) },
    ...(options.ami ? { ami: options.ami } : {}),
    logger: options.logger, secretKey, crmCa: options.crmCa, secureCookies: false,
    // --crm https: the fake CRM runs on this machine.
    crmEgress: { allowLoopback: true },
  };
  const store = await PluginStore.create(db, { secretKey });
  const created = [];
  if (options.shared) {
    for (const tenantId of options.tenants ?? [TENANT]) {
      for (const summary of (await store.rules.list(tenantId, { offset: 0, limit: 10 })).rules) created.push((await store.rules.get(tenantId, summary.id))!);
    }
  } else {
    for (const tenantId of options.tenants ?? [TENANT]) created.push(await store.rules.create(tenantId, BENCH_RULE(options.customUrl ?? 'https://crm.bench.invalid/lookup')));
  }
  const callPath = await startCallPath({ host, store, config: pluginConfig(host, options.limits), ...(options.stub ? { lookups: options.stub } : {}) });
  const rules = created.map((rule) => ({ id: rule.id, tenantId: rule.tenantId, script: agiScript(rule, 'crm-routing', callPath.signer) }));
  return {
    callPath,
    port: callPath.health().agi.port,
    script: rules[0]!.script,
    rules,
    expected: { context: 'ext-queues', exten: '103', priority: 1 },
    async stop() {
      await callPath.stop();
      await db.destroy();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
