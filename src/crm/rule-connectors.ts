/**
 * Which connector answers a rule's lookup: the Custom CRM connector for its URL, or the
 * connector of the tenant's enabled integration, built once from the integration's settings
 * (from memory, never the database) and wrapped in the lookup cache. Connectors are rebuilt
 * when the integrations change.
 */
import type { HostLogger } from '../host';
import { CRM_LABELS, type CrmKind } from '../domain/crm-kinds';
import type { Rule } from '../domain/rule';
import type { IntegrationRecord } from '../store/integration-store';
import type { CrmConnector, LookupResult } from './connector';
import type { OwnerEmailResult } from './owner-lookup';
import { CustomCrmConnector } from './custom-crm';
import type { HttpClient } from './shared/http-client';
import type { ConnectorServices, IntegrationConnector } from './integration';
import { CachedLookup } from './shared/lookup-cache';
import { ObservedLookup } from './shared/observed-lookup';
import type { PluginMetrics } from '../metrics/plugin-metrics';
import type { IntegrationHealth } from '../metrics/integration-health';
import { CRM_REGISTRY } from './registry';
import { TokenCache, type DurableTokenStore } from './shared/token-cache';

export interface RuleConnectorsOptions {
  http: HttpClient;
  logger: HostLogger;
  /** The tenant's integration of a kind, from the in-memory snapshot. */
  integration: (tenantId: string, crm: CrmKind) => IntegrationRecord | undefined;
  /** Lookup cache time for found values; 0 turns the cache off. */
  cacheTtlMs: number;
  /** Lookup cache time for "not found". */
  notFoundTtlMs?: number;
  /** The host's `resolveCrmOrigin`, handed to every connector. */
  resolveOrigin?: (origin: string) => string;
  /** Where durable sign-ins are shared with the other processes on the database (TokenCache). */
  tokenStore?: DurableTokenStore;
  /** Counts and times live lookups, cache hits and sign-ins per CRM (/metrics); and where each integration's last success and error are kept (health). Both or neither. */
  observe?: { metrics: PluginMetrics; health: IntegrationHealth };
}

/** A connector that always answers with the same error (an integration that cannot be used). */
class FailingConnector implements CrmConnector {
  constructor(private readonly result: LookupResult) {}
  async lookup(): Promise<LookupResult> {
    return this.result;
  }
}

interface Built {
  record: IntegrationRecord;
  connector: IntegrationConnector;
  cached: CrmConnector;
}

export class RuleConnectors {
  private readonly tokens: TokenCache;
  private readonly custom = new WeakMap<Rule, CrmConnector>();
  private built = new Map<string, Built>();

  constructor(private readonly options: RuleConnectorsOptions) {
    this.tokens = new TokenCache(options.tokenStore ? { store: options.tokenStore } : {});
  }

  forRule(rule: Rule): CrmConnector {
    const source = rule.source;
    if (source.kind === 'custom') {
      let connector = this.custom.get(rule);
      if (!connector) {
        connector = new CustomCrmConnector({ url: source.url, post: source.post, headers: source.headers }, this.options.http);
        const observe = this.options.observe;
        if (observe) connector = new ObservedLookup(connector, observe.metrics.crm('custom'), observe.health, observe.health.of(rule.tenantId, 'custom'));
        this.custom.set(rule, connector);
      }
      return connector;
    }
    const built = this.integration(rule.tenantId, source.crm);
    return built instanceof FailingConnector ? built : built.cached;
  }

  /**
   * The e-mail of the CRM user a rule's value names ("Owner's extension" rows keyed by user id),
   * from the rule's integration; a CRM whose records carry the e-mail itself says so.
   */
  async ownerEmail(rule: Rule, ownerId: string, signal: AbortSignal): Promise<OwnerEmailResult> {
    const source = rule.source;
    if (source.kind === 'custom') {
      return { kind: 'error', code: 'CONFIG', message: 'A Custom CRM cannot look users up: have it answer with the owner\'s e-mail or extension instead of a user id.' };
    }
    const built = this.integration(rule.tenantId, source.crm);
    if (built instanceof FailingConnector) {
      const failed = await built.lookup();
      return failed.kind === 'error' ? { kind: 'error', code: failed.code, message: failed.message } : { kind: 'not_found' };
    }
    if (!built.connector.ownerEmail) {
      return { kind: 'error', code: 'CONFIG', message: `${CRM_LABELS[source.crm]} records carry the owner's e-mail itself (see the README's owner table): read that field and choose "the value is the owner's e-mail".` };
    }
    return built.connector.ownerEmail(ownerId, { username: source.username, password: source.password }, signal);
  }

  /** The tenant's integration connector (for Test connection and the field picker), or why there is none. */
  integration(tenantId: string, crm: CrmKind): Built | FailingConnector {
    const record = this.options.integration(tenantId, crm);
    const label = CRM_LABELS[crm];
    if (!record?.enabled) {
      return new FailingConnector({ kind: 'error', code: 'CONFIG', message: `${label} is not enabled under CRM > Integration.` });
    }
    const key = `${tenantId}\u0000${crm}`;
    const existing = this.built.get(key);
    if (existing && existing.record.updatedAt.getTime() === record.updatedAt.getTime() && existing.record.id === record.id) return existing;
    const { definition } = CRM_REGISTRY[crm];
    const parsed = definition.schema.safeParse({ ...record.settings, ...record.secrets });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return new FailingConnector({ kind: 'error', code: 'CONFIG', message: `${label} settings are incomplete (${issue?.path.join('.') || 'settings'}: ${issue?.message ?? 'invalid'}). Fix them under CRM > Integration.` });
    }
    const observe = this.options.observe;
    const meters = observe?.metrics.crm(crm);
    const connector = definition.create(parsed.data, this.services(this.tokens.forTenant(tenantId, meters?.signIn)));
    const region = typeof record.settings.region === 'string' ? record.settings.region : 'US';
    const observed = observe && meters ? new ObservedLookup(connector, meters, observe.health, observe.health.of(tenantId, crm)) : connector;
    const cached = new CachedLookup(observed, {
      integrationId: `${crm}:${record.id}`,
      region: region as never,
      ttlMs: this.options.cacheTtlMs,
      ...(this.options.notFoundTtlMs !== undefined ? { notFoundTtlMs: this.options.notFoundTtlMs } : {}),
      what: label,
      ...(meters ? { counts: meters.cache() } : {}),
    });
    const entry = { record, connector, cached };
    this.built.set(key, entry);
    return entry;
  }

  /**
   * A connector from settings that may not be saved yet ("Test connection" before Save), with
   * its own token cache so a test never disturbs live calls; or why the settings cannot be used.
   * Durable sign-ins are still shared (a refresh token that works once is spent once), so the
   * tenant is needed.
   */
  probe(tenantId: string, crm: CrmKind, settings: Record<string, unknown>): IntegrationConnector | { error: string; path: string } {
    const parsed = CRM_REGISTRY[crm].definition.schema.safeParse(settings);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { error: issue?.message ?? 'These settings are not valid.', path: String(issue?.path[0] ?? '') };
    }
    return CRM_REGISTRY[crm].definition.create(parsed.data, this.services(this.freshTokens(tenantId)));
  }

  /** What a CRM's Connect (code exchange) needs: the shared HTTP client, a token cache of its own. */
  connectServices(tenantId: string): ConnectorServices {
    return this.services(this.freshTokens(tenantId));
  }

  private freshTokens(tenantId: string): TokenCache {
    return new TokenCache(this.options.tokenStore ? { store: this.options.tokenStore } : {}).forTenant(tenantId);
  }

  private services(tokens: TokenCache): ConnectorServices {
    const { http, logger, resolveOrigin } = this.options;
    return { http, tokens, logger, ...(resolveOrigin ? { resolveOrigin } : {}) };
  }

  /** Integrations changed: connectors are rebuilt on next use; tokens are kept (keyed by credentials). */
  integrationsChanged(): void {
    this.built = new Map();
  }
}
