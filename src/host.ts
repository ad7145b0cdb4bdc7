/**
 * The host contract: everything the plugin needs from the PBX web admin arrives in a
 * HostContext, and everything the host needs back leaves in a PluginHandle. Nothing in src/
 * reaches for a global; tests pass fakes, a real host passes its own.
 */
import type { Express, Request, RequestHandler } from 'express';
import type { Knex } from 'knex';
import type { DestinationRef, DefaultVoicemail } from './domain/destination';

/** The tenant and user a request acts for; returned by `HostAuth.currentUser`. */
export interface HostUser {
  id: string;
  name: string;
  /** Every row the plugin stores carries this; every query filters by it. */
  tenantId: string;
}

export interface HostAuth {
  /** The host's login check; runs before every plugin route. The plugin has no login of its own. */
  middleware: RequestHandler;
  /** The signed-in user of a request that passed `middleware`. */
  currentUser(req: Request): HostUser;
  /**
   * Optional: the id of the request's login session, one that changes at every sign-in and is
   * forgotten at logout (a server-side session id, never the cookie a browser could replay).
   * The plugin binds its CSRF tokens to it, so a token from before a logout is refused after the
   * next login, and a CRM "Connect" started in one session is refused in another. Without it CSRF
   * tokens are bound to user and tenant only (valid across logins), and a Connect to the user and
   * a cookie of the browser that started it.
   */
  sessionId?(req: Request): string;
}

export interface HostLicense {
  /** Asked on every request and every call, so switching the feature takes effect at once. */
  isEnabled(feature: string): boolean;
}

export interface MenuEntry {
  /** Top-level menu, e.g. "CRM". */
  section: string;
  /** Entry under it, e.g. "Routing". */
  label: string;
  /** Absolute path of the page. */
  href: string;
  /** License feature the entry needs; the host marks the entry "not licensed" while it is off. */
  feature: string;
}

export interface HostMenu {
  add(entry: MenuEntry): void;
}

export interface LayoutPage {
  req: Request;
  title: string;
  /** Already escaped HTML of the page body. */
  body: string;
}

/** Wraps a plugin page in the host's chrome (header, menu, footer); returns a whole HTML document. */
export type HostLayout = (page: LayoutPage) => string;

export type DestinationKind = 'extension' | 'queue' | 'ivr' | 'recording' | 'voicemail' | 'hangup';

/** One entry of the host's destination catalog, as offered in dropdowns. */
export interface CatalogEntry {
  kind: DestinationKind;
  /** Number or name the host knows it by: "103", "welcome-en". */
  id: string;
  /** What an administrator sees: "100 - Test", "103 - Sales queue". */
  label: string;
}

/** Where a call goes in the dialplan, plus channel variables to set before it moves. */
export interface DialplanTarget {
  context: string;
  exten: string;
  priority: number;
  variables?: Record<string, string>;
}

export interface HostDestinations {
  /** The tenant's catalog: extensions, queues, IVRs, recordings, voicemail boxes. */
  list(tenantId: string): CatalogEntry[];
  /**
   * Turns a destination into the dialplan location a call is sent to; `undefined` when the
   * destination no longer exists (renamed or deleted). `voicemail` is the rule's
   * "Default Destination Voicemail" and only applies to the default destination.
   */
  target(tenantId: string, dest: DestinationRef, options?: { voicemail?: DefaultVoicemail }): DialplanTarget | undefined;
}

/** Something of the host's that sends calls to a rule: a DID, an IVR option. */
export interface RuleUse {
  /** As an administrator knows it: "DID 5551234", "IVR 200 - Main menu, option 2". */
  label: string;
  /** Where to change it: an absolute path (or URL) in the host's admin. */
  href?: string;
}

/** Rule id -> what uses it; a rule asked for but absent is used by nothing. */
export type RuleUses = Record<number, RuleUse[]>;

/**
 * What uses the given rules of a tenant (optional). With it, the Routing list shows "Used by",
 * and removing a rule says what still sends calls to it; a host without it loses only that.
 * Asked once per list page for the page's rules (up to 50), so a host answers with one query.
 */
export type HostRuleUsage = (tenantId: string, ruleIds: readonly number[]) => RuleUses | Promise<RuleUses>;

/** One of the host's extensions, with the name and e-mail of the person it belongs to. */
export interface DirectoryEntry {
  /** The extension number: "101". */
  extension: string;
  /** Who answers it: "Ana Reception". */
  name: string;
  /** The user's e-mail, the key a CRM user is found by (owner routing, call-log owners). */
  email?: string;
}

/**
 * The host's extensions and their users (optional). With it a rule can send a caller to the
 * extension of the CRM record's owner, and a logged call gets the answering agent as its CRM
 * owner; without it both fall back (the default destination, the integration's user).
 */
export interface HostDirectory {
  /** The tenant's extension with this e-mail (case-insensitive) or this number; undefined when none. */
  find(tenantId: string, key: { email: string } | { extension: string }): DirectoryEntry | undefined | Promise<DirectoryEntry | undefined>;
}

/** AMI connection settings; without them the plugin moves calls with AGI alone. */
export interface AmiSettings {
  host: string;
  port: number;
  username: string;
  secret: string;
}

export interface HostLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  /**
   * Optional: false when debug lines are dropped anyway. The call path then skips building its
   * per-command debug lines (several per call); without it every line is built and passed.
   */
  isDebugEnabled?(): boolean;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** FastAGI listener settings (defaults in plugin.json, overridable by the host). */
export interface AgiSettings {
  /** TCP port; 0 picks a free one (tests). Default 4573. */
  port: number;
  /** Address to bind; default 127.0.0.1. */
  bind: string;
  /** Asterisk addresses allowed to connect; empty allows any that reach `bind`. */
  allow: string[];
  /** Host name Asterisk uses to reach the plugin, shown in the dialplan line. */
  publicHost: string;
}

/**
 * The key that signs the AGI URLs in dialplan lines (`&sig=`), and a previous one still accepted
 * for a while after a key change. Lines signed with neither are refused (CRM_ROUTING_STATUS=FORBIDDEN).
 */
export interface DialplanSigning {
  /** Key material for the signatures (at least 32 bytes of entropy). Default: the host's `secretKey`. */
  key?: string | Buffer;
  /** The key lines were signed with before the change (the old `key`, or the old `secretKey`). */
  previousKey?: string | Buffer;
  /** Until when `previousKey` is accepted; without it the previous key is not accepted at all. */
  acceptPreviousUntil?: Date;
}

/**
 * Where the plugin may connect for CRM traffic (CRM URLs, Custom CRM URLs, token endpoints),
 * checked on the address actually connected to after DNS. Always refused: link-local addresses
 * (169.254.0.0/16, fe80::/10), cloud metadata endpoints (169.254.169.254, metadata.google.internal,
 * fd00:ec2::254, 100.100.100.200), unspecified, multicast and reserved addresses.
 */
export interface CrmEgressPolicy {
  /** Allow 127.0.0.0/8 and ::1 (a CRM on the PBX host itself; tests with local fakes). Default false. */
  allowLoopback?: boolean;
  /** Allow private ranges: 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 (an on-premises CRM). Default false. */
  allowPrivate?: boolean;
  /** Further addresses or CIDR ranges to allow even though they are loopback or private ("10.1.2.3", "10.20.0.0/16"). */
  allow?: string[];
}

export interface HostContext {
  /** Mounts the plugin's Express sub-app at `basePath` inside the host's app. */
  mount(basePath: string, app: Express): void;
  /** Absolute URL path the plugin lives under, e.g. "/crm". */
  basePath: string;
  /** A knex instance on the host's database (MySQL/MariaDB in production, SQLite for demos). */
  db: Knex;
  /** Prefix of every table the plugin creates, including its migrations table. Default "crm_routing_". */
  tablePrefix?: string;
  license: HostLicense;
  auth: HostAuth;
  menu: HostMenu;
  layout: HostLayout;
  destinations: HostDestinations;
  /** AMI settings, or undefined to move calls with AGI `SET CONTEXT/EXTENSION/PRIORITY` only. */
  ami?: AmiSettings;
  /** Overrides of plugin.json's AGI defaults. */
  agi?: Partial<AgiSettings>;
  logger: HostLogger;
  /** Key material for sealing stored CRM secrets (AES-256-GCM); at least 32 bytes of entropy. */
  secretKey: string | Buffer;
  /** PEM of a private CA that signed CRM certificates (in addition to the system's and NODE_EXTRA_CA_CERTS). */
  crmCa?: string;
  /**
   * Sends the CRM hosts a connector does not take from its settings (Zoho's accounts.zoho.* and
   * www.zohoapis.*) elsewhere: given the vendor's origin, returns the origin to call instead
   * (an egress proxy; the reference host's fake CRMs in tests). Default: the vendor's own.
   */
  resolveCrmOrigin?: (origin: string) => string;
  /** Mark the plugin's cookies Secure (default true). Only a host on plain http, like the demo, turns it off. */
  secureCookies?: boolean;
  /** Where the host's DIDs and IVR options point at rules (optional; see HostRuleUsage). */
  usage?: HostRuleUsage;
  /**
   * The host's License page (optional): the plugin's "not licensed" page links to it, so an
   * administrator learns where the crm_routing feature is switched on. Without it the page
   * explains without a link.
   */
  licensePageUrl?: string;
  /**
   * The host's address as administrators' browsers reach it, e.g. "https://pbx.example.com" (a
   * path prefix is allowed: "https://example.com/pbx"). CRM "Connect" buttons send the browser
   * back to `{publicUrl}{basePath}/integration/{crm}/connect/callback`, the redirect URL to
   * register at the vendor. https, except for localhost. Unset: Connect works only on a host
   * reached at localhost / 127.0.0.1 (a demo), where the request's own address is used; the
   * Host header of any other request is never trusted for it.
   */
  publicUrl?: string;
  /** The key of the dialplan lines' signatures and a previous one's grace period. Default: derived from `secretKey`. */
  dialplanSigning?: DialplanSigning;
  /** Where CRM traffic may go. Default: public addresses only (loopback and private ranges refused). */
  crmEgress?: CrmEgressPolicy;
  /** The host's extensions with their users' names and e-mails (optional; see HostDirectory). */
  directory?: HostDirectory;
}

/** A rule as the host offers it on the DID / IVR destination pickers. */
export interface RoutingDestination {
  ruleId: number;
  name: string;
  location: 'did' | 'ivr';
  /** Dialplan lines to place where the DID or IVR option points, fallback included. */
  dialplan: string[];
  /**
   * The signed AGI URL of the rule alone (`agi://host:port/crm-routing?rule=7&tenant=t&sig=...`),
   * for hosts that write their own lines. Always set by the plugin (optional only for hosts' fixtures).
   */
  agiUrl?: string;
}

/** One integration (tenant + CRM), or a tenant's Custom CRM rules ("custom"), as its live lookups found it. */
export interface IntegrationHealthReport {
  tenantId: string;
  crm: string;
  /** ok: the last lookup the CRM answered worked; failing: the last one ended in an error; unused: no lookup since the plugin started. */
  state: 'ok' | 'failing' | 'unused';
  /** ISO time of the last lookup the CRM answered (found or not found). */
  lastSuccessAt?: string;
  /** The last lookup that failed: when, and its code (TIMEOUT, AUTH, CONNECTION, HTTP_ERROR...; see the README's error codes). */
  lastError?: { at: string; code: string };
}

/** The host's database as the plugin sees it: `SELECT 1` within a bounded time (1 s). */
export interface DatabaseHealth {
  reachable: boolean;
  /** How long the check took, up to the timeout. */
  checkMs: number;
  /** Why it is not reachable: the driver's code (ECONNREFUSED, ER_..., SQLITE_...) or TIMEOUT. */
  code?: string;
}

/** The buffer of call decisions waiting to be written (Recent calls); never free text. */
export interface DecisionLogHealth {
  buffered: number;
  maxBuffered: number;
  /** Records dropped since the plugin started because the buffer was full. */
  dropped: number;
  /** ISO time of the last write that worked. */
  lastWriteAt?: string;
  /** The last write that failed: when, and the database's error code. */
  lastWriteError?: { at: string; code: string };
  /** The last write attempt failed (the records wait and are retried). */
  failing: boolean;
}

/**
 * What `PluginHandle.health()` answers: safe to show to an operator as it is (no secrets, no
 * caller numbers, no free text from a CRM or the database).
 */
export interface PluginHealth {
  /** Every part is well: AGI listening, AMI connected (when configured), database reachable, decision log writing, no integration failing. */
  healthy: boolean;
  /** The parts that are not, in words: "AMI is not connected", "zoho (tenant default) is failing: TIMEOUT". Empty when healthy. */
  problems: string[];
  agi: {
    listening: boolean;
    port: number;
    activeCalls: number;
    /** Open FastAGI connections of any kind, and those of them that have not sent their header yet. */
    connections: number;
    pendingHeaders: number;
  };
  ami: { configured: boolean; connected: boolean; lastError?: string };
  database: DatabaseHealth;
  decisionLog: DecisionLogHealth;
  /** Each enabled integration, and each tenant's Custom CRM once one of its rules was called. */
  integrations: IntegrationHealthReport[];
}

export interface PluginHandle {
  /**
   * The tenant's rules, for the host's DID and IVR destination pickers. A picker offers only the
   * rules of its own location (DID pickers `location: 'did'`, IVR option pickers `'ivr'`), and
   * none while the license feature is off (calls to rules then take the dialplan fallback).
   */
  routingDestinations(tenantId: string): Promise<RoutingDestination[]>;
  /**
   * The plugin's state for a status page or a monitor (the reference host serves it at /healthz:
   * 200 when `healthy`, else 503). Asks the database (bounded: about 1 s at most), so it is async.
   */
  health(): Promise<PluginHealth>;
  /**
   * The plugin's metrics in the Prometheus text format (prom-client, a registry of this plugin
   * instance alone). The host mounts it where its scraper reads, e.g.
   * `app.get('/metrics', onlyOperators, plugin.metricsHandler)`, and decides who may read it:
   * the handler itself checks nothing. Labels are bounded: rule id, CRM kind, outcome, method,
   * result and reason codes; never a caller number. Metrics (all prefixed `crm_routing_`):
   * `calls_total{rule,outcome,method}`, `agi_refused_total{reason}`, `crm_lookups_total{crm,result}`,
   * `crm_lookup_duration_seconds{crm}` (histogram), `lookup_cache_hits_total{crm}`,
   * `lookup_cache_misses_total{crm}`, `crm_sign_ins_total{crm,kind,result}`, `ami_connected`,
   * `active_calls`, `agi_connections`, `decision_log_buffered`, `decision_log_dropped_total`,
   * `decision_log_write_errors_total`.
   */
  metricsHandler: RequestHandler;
  /** Stops accepting calls, sends calls still waiting to their default destination, ends AMI. */
  stop(): Promise<void>;
}
