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

export type { HostContext, PluginHandle } from './host';
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
}

export async function register(host: HostContext, options: RegisterOptions = {}): Promise<PluginHandle> {
  const config = pluginConfig(host, options.limits, options.lookupCacheTtlSeconds);
  if (host.publicUrl !== undefined) parsePublicUrl(host.publicUrl); // a wrong address fails here, before anything starts
  const store = await PluginStore.create(host.db, { tablePrefix: config.tablePrefix, secretKey: host.secretKey, logger: host.logger });
  const callPath = await startCallPath({ host, store, config, decisionFlushMs: options.decisionFlushMs });
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
      { path: '/integration', router: integrationRoutes({ host, store, pages, kit, connectors: callPath.connectors, onChanged: () => callPath.integrationsChanged(), connect }) },
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
    health: () => callPath.report(),
    metricsHandler: (_req, res, next) => {
      callPath.metrics.text().then(({ contentType, body }) => {
        res.set('Content-Type', contentType).set('Cache-Control', 'no-store').send(body);
      }, next);
    },
    stop: () => callPath.stop(),
  };
}
