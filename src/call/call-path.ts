/**
 * Puts the call path together: the in-memory rules and integrations, the CRM connectors, the
 * AMI client, the decision log, the call flow and the FastAGI server; and takes it apart again
 * in `stop()`, sending calls still waiting to their default destination.
 */
import type { HostContext, PluginHealth } from '../host';
import { IntegrationHealth } from '../metrics/integration-health';
import { PluginMetrics } from '../metrics/plugin-metrics';
import { DatabasePing } from '../store/database-ping';
import { healthReport } from './health-report';
import type { PluginConfig } from '../config';
import type { Rule } from '../domain/rule';
import { AmiClient } from '../ami/ami-client';
import { HttpClient } from '../crm/shared/http-client';
import { RuleConnectors } from '../crm/rule-connectors';
import type { IntegrationRecord } from '../store/integration-store';
import type { PluginStore } from '../store/plugin-store';
import { AgiServer } from './agi-server';
import { CallFlow } from './call-flow';
import { DecisionLog } from './decision-log';
import { DialplanSigner } from './dialplan-signature';
import { OwnerRouting } from './owner-routing';
import { RateLimitedLogger } from './log-limit';
import { RuleTester } from './rule-tester';
import { joinSiblings } from './sibling-notices';
import { SnapshotCache } from './snapshot-cache';

export interface CallPath {
  rules: SnapshotCache<Rule>;
  connectors: RuleConnectors;
  tester: RuleTester;
  /** Signs the AGI URLs of dialplan lines; calls from lines it did not sign are refused. */
  signer: DialplanSigner;
  /** The pages saved a rule: resolves once the next call sees it. */
  rulesChanged(): Promise<void>;
  integrationsChanged(): Promise<void>;
  /** From memory: the FastAGI listener and AMI. */
  health(): Pick<PluginHealth, 'agi' | 'ami'>;
  /** Everything PluginHandle.health() answers (asks the database, bounded). */
  report(): Promise<PluginHealth>;
  /** This plugin instance's metrics (its own prom-client registry). */
  metrics: PluginMetrics;
  stop(): Promise<void>;
}

/** The AMI Redirect's own limit: past it the call is moved with AGI instead. */
const REDIRECT_TIMEOUT_MS = 500;

export interface CallPathOptions {
  host: HostContext;
  store: PluginStore;
  config: PluginConfig;
  /**
   * Benchmarks and tests only: answers every call's lookup instead of the CRM connectors (an
   * in-process stub, so a measurement of the call path is not one of a CRM). Test rule and the
   * CRM > Integration page keep the real connectors.
   */
  lookups?: Pick<RuleConnectors, 'forRule'>;
  /** How often the decision log writes to the database. Default 500 ms. */
  decisionFlushMs?: number;
}

export async function startCallPath({ host, store, config, lookups, decisionFlushMs }: CallPathOptions): Promise<CallPath> {
  const logger = host.logger;
  const metrics = new PluginMetrics();
  const integrationHealth = new IntegrationHealth();
  // As many connections to one CRM as there may be calls waiting on it: with HttpClient's
  // default of 64, 2,000 calls against a CRM answering in 300 ms queued for 9 s and 3 in 4 of
  // them hit their deadline (npm run bench:agi -- --crm https). Connections open only on demand.
  const http = new HttpClient({ ...(host.crmCa ? { ca: host.crmCa } : {}), connectionsPerOrigin: config.limits.maxConcurrentCalls, egress: host.crmEgress });
  const rules = await SnapshotCache.create<Rule>({
    name: 'Rule cache', logger, key: (rule) => rule.id,
    load: async () => {
      const snapshot = await store.rules.loadSnapshot((failure) =>
        logger.error('A rule could not be read (wrong secret key?) and is skipped', { ruleId: failure.ruleId, tenantId: failure.tenantId }));
      return { version: snapshot.version, items: snapshot.rules };
    },
    version: () => store.rules.cacheVersion('rules'),
  });
  let connectors: RuleConnectors | undefined;
  const integrationKey = (tenantId: string, crm: string) => `${tenantId}\u0000${crm}`;
  const integrations = await SnapshotCache.create<IntegrationRecord>({
    name: 'Integration cache', logger, key: (record) => integrationKey(record.tenantId, record.crm),
    load: async () => {
      const version = await store.integrations.cacheVersion();
      const items = await store.integrations.loadAll((failure) =>
        logger.error('An integration could not be read (wrong secret key?) and is skipped', { crm: failure.crm, tenantId: failure.tenantId }));
      return { version, items };
    },
    version: () => store.integrations.cacheVersion(),
    onReload: () => connectors?.integrationsChanged(),
  });
  connectors = new RuleConnectors({
    http, logger, cacheTtlMs: config.lookupCacheTtlSeconds * 1000, resolveOrigin: host.resolveCrmOrigin, tokenStore: store.tokenStates,
    integration: (tenantId, crm) => integrations.get(integrationKey(tenantId, crm)),
    observe: { metrics, health: integrationHealth },
  });
  const ami = await AmiClient.create(host.ami, { logger, actionTimeoutMs: REDIRECT_TIMEOUT_MS });
  const signer = new DialplanSigner(host.secretKey, host.dialplanSigning);
  const decisions = new DecisionLog(store.decisions, { logger, retentionDays: config.decisionRetentionDays, ...(decisionFlushMs === undefined ? {} : { flushMs: decisionFlushMs }) });
  // Whoever reaches the AGI port decides how many bad connections and lines there are: their warnings are rate limited.
  const callLog = new RateLimitedLogger(logger);
  const owners = new OwnerRouting(host.directory, connectors);
  const flow = new CallFlow({
    rules, license: host.license, destinations: host.destinations, connectors: lookups ?? connectors, ami, decisions, logger: callLog, agiPath: config.manifest.agiPath, signer, owners, metrics,
  });
  const limits = config.limits;
  const agi = await AgiServer.create({
    logger: callLog, port: config.agi.port, bind: config.agi.bind, allow: config.agi.allow,
    maxSessions: limits.maxConcurrentCalls, maxPendingHeaders: limits.maxPendingHeaders, headerTimeoutMs: limits.headerTimeoutMs,
    commandTimeoutMs: limits.commandTimeoutMs, idleTimeoutMs: limits.idleTimeoutMs,
    parser: { maxHeaderBytes: limits.headerBytes, maxHeaderLines: limits.headerLines },
    onSession: flow.handle, onOverflow: flow.overflow, onDrain: flow.drain, onBadRequest: flow.badRequest,
    onRefused: (reason) => metrics.refused(reason),
  });
  // Other FastAGI workers of this machine (startAgiWorkers) hear of the pages' writes at once.
  const siblings = joinSiblings({ rules: () => rules.reload(), integrations: () => integrations.reload() });
  metrics.observe({
    activeCalls: () => flow.activeCalls,
    agiConnections: () => agi.sessions.size,
    amiConnected: () => ami.health().connected,
    decisionLogBuffered: () => decisions.pending,
    decisionLogDropped: () => decisions.totals.dropped,
    decisionLogWriteErrors: () => decisions.totals.writeErrors,
  });
  const database = new DatabasePing(host.db);
  const listening = agi.address();
  logger.info('CRM Routing FastAGI listening', { address: listening });
  let stopping: Promise<void> | undefined;
  const health = () => ({
    // address() throws once the server is closed; health is still asked then (a status page during shutdown).
    agi: { listening: agi.listening, port: listening.port, activeCalls: flow.activeCalls, connections: agi.sessions.size, pendingHeaders: agi.pendingHeaders },
    ami: ami.health(),
  });

  return {
    metrics,
    rules,
    connectors,
    tester: new RuleTester(connectors, host.destinations, owners),
    signer,
    async rulesChanged() {
      await rules.reload();
      siblings.announce('rules');
    },
    async integrationsChanged() {
      await integrations.reload();
      siblings.announce('integrations');
    },
    health,
    report: () => healthReport({
      ...health(),
      database: () => database.check(),
      decisionLog: decisions.health(),
      enabled: [...integrations.values()].filter((record) => record.enabled),
      observed: integrationHealth.all(),
    }),
    stop() {
      // A host may stop twice (its own shutdown, then a signal): the second call waits for the first.
      stopping ??= (async () => {
        await agi.stop({ timeoutMs: limits.stopTimeoutMs });
        callLog.flush();
        siblings.stop();
        rules.stop();
        integrations.stop();
        await ami.close();
        await decisions.stop();
        await http.close();
      })();
      return stopping;
    },
  };
}
