/**
 * The plugin's entry: `register(host)` runs the migrations, mounts CRM > Integration and
 * CRM > Routing, starts the FastAGI endpoint and the AMI client, and hands back a PluginHandle.
 */
import type { HostContext, PluginHandle, RoutingDestination } from './host';
import { pluginConfig, type CallLimits } from './config';
import { PluginStore } from './store/plugin-store';
import { MAX_LIST_LIMIT } from './store/rule-store';
import { createWebApp } from './web/app';
import { LICENSE_FEATURE } from './web/license-gate';
import { agiUrl, dialplanFor } from './call/dialplan';
import { startCallPath } from './call/call-path';
import { connectRoutes } from './web/connect-routes';
import { parsePublicUrl } from './web/public-url';
import { integrationChoices, integrationRoutes } from './web/integration-routes';
import { ruleToolRoutes } from './web/rule-tool-routes';
import { guideRoutes } from './web/guide-routes';
import { startCallEvents } from './calllog/call-events';
import type { CompletedCall } from './calllog/completed-call';
import { CallLogService, type CallLogServiceOptions } from './calllog/call-log-service';
import { LogPanels } from './web/log-options-panel';
import { callLogRoutes } from './web/call-log-routes';

export type { HostContext, PluginHandle } from './host';
export type { CompletedCall } from './calllog/completed-call';
export { startCallEvents, type CallEvents, type CallEventsOptions } from './calllog/call-events';
/** For the host's own pages: whether an error means its database could not be reached, and what to say then. */
export { DATABASE_UNREACHABLE_MESSAGE, isDatabaseUnreachable } from './store/database-unreachable';
/** All cores: the host's start-up in node:cluster workers sharing the FastAGI port (README "Several workers and nodes"). */
export { startAgiWorkers, type AgiWorkers, type AgiWorkersOptions } from './call/agi-workers';

/** Settings beyond HostContext, all optional: a host (or a test) may tighten plugin.json's limits. */
export interface RegisterOptions {
  /** Overrides of plugin.json's `defaults.limits` (e.g. a lower maxConcurrentCalls or stopTimeoutMs). */
  limits?: Partial<CallLimits>;
  /** Overrides plugin.json's `lookupCacheTtlSeconds` (0 to 3600); 0 turns the lookup cache off. */
  lookupCacheTtlSeconds?: number;
  /** How often call decisions are written (default 500 ms); tests shorten it to read Recent calls at once. */
  decisionFlushMs?: number;
  /**
   * Each call that ended, assembled from AMI's end-of-call events (only with `HostContext.ami`),
   * once, about 1.5 s after its last hang-up. Default: one debug log line per call.
   */
  onCompletedCall?: (call: CompletedCall) => void;
  /** The call log's grace period after a call's last hang-up (default 1500 ms). */
  callLogGraceMs?: number;
  /** The call log's worker timings (tests shorten polls, leases and backoff). */
  callLogWorker?: CallLogServiceOptions['worker'];
}

export async function register(host: HostContext, options: RegisterOptions = {}): Promise<PluginHandle> {
  const config = pluginConfig(host, options.limits, options.lookupCacheTtlSeconds);
  if (host.publicUrl !== undefined) parsePublicUrl(host.publicUrl); // a wrong address fails here, before anything starts
  const store = await PluginStore.create(host.db, { tablePrefix: config.tablePrefix, secretKey: host.secretKey, logger: host.logger });
  // Finished calls from AMI's end-of-call events (without AMI there are none) go to the call log's outbox.
  let callLog: CallLogService | undefined;
  const callEvents = host.ami
    ? startCallEvents({
      host, onCall: options.onCompletedCall ?? ((call) => callLog?.enqueue(call)),
      ...(options.callLogGraceMs !== undefined ? { assembler: { graceMs: options.callLogGraceMs } } : {}),
    })
    : undefined;
  const callPath = await startCallPath({ host, store, config, decisionFlushMs: options.decisionFlushMs, amiEvents: callEvents?.amiEvents })
    .catch((err: unknown) => {
      callEvents?.stop();
      throw err;
    });
  const outbox = new CallLogService({
    host, store, connectors: callPath.connectors, http: callPath.http, logger: host.logger,
    ruleName: (id) => callPath.rules.get(id)?.name, retentionDays: config.decisionRetentionDays, worker: options.callLogWorker,
  });
  callLog = outbox;
  outbox.start();
  const logPanels = new LogPanels({ store, connectors: callPath.connectors, http: callPath.http, service: outbox });
  // With port 0 (tests) the dialplan must show the port actually listened on.
  const listening = { ...config, agi: { ...config.agi, port: callPath.health().agi.port } };

  const connect = connectRoutes({ host, store, connectors: callPath.connectors, onChanged: () => callPath.integrationsChanged(), secureCookies: host.secureCookies ?? true });
  const app = createWebApp({
    host,
    rules: store.rules,
    counts: store.decisionCounts,
    integrations: (tenantId) => integrationChoices(store, tenantId),
    onRulesChanged: () => callPath.rulesChanged(),
    tester: callPath.tester,
    secureCookies: host.secureCookies,
    extraRoutes: (pages, kit) => [
      { path: '/integration/guides', router: guideRoutes(pages) },
      { path: '/integration', router: connect.router },
      { path: '/integration', router: integrationRoutes({ host, store, pages, kit, connectors: callPath.connectors, onChanged: () => callPath.integrationsChanged(), connect, logPanels,
        callLogSource: () => ({ amiConfigured: host.ami !== undefined, amiConnected: callPath.health().ami.connected }) }) },
      { path: '/calllog', router: callLogRoutes({ host, store, pages, kit, onRetry: () => outbox.worker.kick() }) },
      { path: '/routing', router: ruleToolRoutes({ host, store, pages }) },
    ],
  });
  host.mount(host.basePath, app);
  for (const entry of config.manifest.menu) {
    host.menu.add({ section: entry.section, label: entry.label, href: `${host.basePath}${entry.path}`, feature: LICENSE_FEATURE });
  }

  return {
    async routingDestinations(tenantId: string): Promise<RoutingDestination[]> {
      const destinations: RoutingDestination[] = [];
      for (let offset = 0; ; offset += MAX_LIST_LIMIT) {
        const { rules, total } = await store.rules.list(tenantId, { offset, limit: MAX_LIST_LIMIT });
        for (const summary of rules) {
          const rule = callPath.rules.get(summary.id) ?? (await store.rules.get(tenantId, summary.id));
          if (!rule) continue;
          destinations.push({
            ruleId: rule.id, name: rule.name, location: rule.location,
            dialplan: dialplanFor(rule, listening, host.destinations, callPath.signer), agiUrl: agiUrl(rule, listening, callPath.signer),
          });
        }
        if (offset + MAX_LIST_LIMIT >= total) return destinations;
      }
    },
    async health() {
      const health = await callPath.report();
      if (!callEvents) return health;
      const { openCalls, completed, skippedInternal, skippedNoTenant, droppedOverflow, droppedIdle, droppedCdrs } = callEvents.stats();
      return { ...health, callLog: { openCalls, completed, skippedInternal, skippedNoTenant, droppedOverflow, droppedIdle, droppedCdrs } };
    },
    metricsHandler: (_req, res, next) => {
      callPath.metrics.text().then(({ contentType, body }) => {
        res.set('Content-Type', contentType).set('Cache-Control', 'no-store').send(body);
      }, next);
    },
    callLog: { enqueue: (call) => outbox.enqueue(call), stats: () => outbox.stats(), flush: () => outbox.flush() },
    async stop() {
      callEvents?.stop();
      await outbox.stop();
      await callPath.stop();
    },
  };
}
