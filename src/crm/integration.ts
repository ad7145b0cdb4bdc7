/**
 * How a CRM of CRM > Integration is declared: its settings (rendered as the Integration page's
 * section and validated with zod from the same declaration), what CRM Username / CRM Password
 * mean for it, and a factory for its connector. One file per CRM exports one `CrmDefinition`.
 */
import type { z } from 'zod';
import type { HostLogger } from '../host';
import type { CrmKind } from '../domain/crm-kinds';
import type { CallLogWriter } from './call-log-writer';
import type { CrmConnector, LookupRequest } from './connector';
import type { OwnerLookup } from './owner-lookup';
import type { CrmErrorCode } from './shared/crm-error';
import type { HttpClient } from './shared/http-client';
import type { TokenCache } from './shared/token-cache';

export interface SettingOption {
  value: string;
  label: string;
}

/** One setting of a CRM's section on the Integration page. */
export interface SettingField {
  /** Key in the integration's settings object. */
  name: string;
  label: string;
  /** One sentence shown under the field. */
  help: string;
  type: 'text' | 'url' | 'select' | 'secret' | 'textarea' | 'number';
  /** Secrets are sealed at rest and never rendered back (an empty field keeps the stored value). */
  secret: boolean;
  required: boolean;
  options?: SettingOption[];
  placeholder?: string;
  defaultValue?: string;
}

/** What a connector needs besides its settings; shared by every integration of a host. */
export interface ConnectorServices {
  http: HttpClient;
  tokens: TokenCache;
  logger: HostLogger;
  /**
   * Maps a vendor origin the connector cannot take from its settings (Zoho's
   * https://accounts.zoho.eu, https://www.zohoapis.eu) to the origin to call instead: the
   * host's `resolveCrmOrigin` (an egress proxy, a test's fake servers). Unset: the vendor's own.
   */
  resolveOrigin?: (origin: string) => string;
}

export type Credentials = LookupRequest['credentials'];

export type TestReport =
  | { ok: true; message: string }
  | { ok: false; code: CrmErrorCode; message: string; retryAfterMs?: number };

export interface CrmField {
  /** API name, what a rule's CRM Field Name holds. */
  name: string;
  label: string;
  type: string;
}

/**
 * A configured CRM: the call-path lookup plus the Integration page's tools, (where the CRM's
 * writer is built) the call log's `logCall` / `findLoggedCall`, and (where a record names its
 * owner by a user id) `ownerEmail`, the second read of "Owner's extension" rows.
 */
export interface IntegrationConnector extends CrmConnector, Partial<CallLogWriter>, Partial<OwnerLookup> {
  /** A real authentication and a sample lookup; reports precisely what went wrong. */
  testConnection(credentials: Credentials, signal: AbortSignal): Promise<TestReport>;
  /** Modules / entities a rule can search (Contacts, Leads, Accounts...). */
  listModules(credentials: Credentials, signal: AbortSignal): Promise<string[]>;
  /** Field API names of a module, from the CRM's metadata endpoint. */
  listFields(module: string, credentials: Credentials, signal: AbortSignal): Promise<CrmField[]>;
}

/**
 * The OAuth 2.0 authorization code flow behind an integration's "Connect" button: the page sends
 * the administrator to `authorizeUrl`, the vendor sends them back to the plugin's callback with a
 * code, and `exchangeCode` turns it into what the integration stores (secrets sealed). Declared
 * by each CRM whose vendor offers the flow; the web routes (state bound to the login session,
 * PKCE, the callback) are the same for all.
 */
export interface OAuthConnect<Settings extends Record<string, unknown> = Record<string, unknown>> {
  /** Whether the vendor accepts PKCE (S256); then `codeChallenge` is sent and `codeVerifier` handed back. */
  pkce: boolean;
  /** Settings that must be filled before Connect can start (e.g. clientId, subdomain), with why. */
  requires(settings: Partial<Settings>): string | undefined;
  /**
   * Optional: what the consent page's address needs from the vendor first (Bullhorn's data
   * centre, from its loginInfo), asked within `signal`; handed to authorizeUrl as `prepared`.
   */
  prepare?(settings: Settings, services: ConnectorServices, signal: AbortSignal): Promise<Record<string, string>>;
  /** The vendor's consent page for these settings. */
  authorizeUrl(
    settings: Settings,
    params: { redirectUri: string; state: string; codeChallenge?: string; prepared?: Record<string, string> },
    services: ConnectorServices,
  ): string;
  /**
   * Exchanges the code at the vendor's token endpoint. `callback` holds every query parameter the
   * vendor sent back (Zoho's accounts-server and location, say). Returns the secrets to store
   * sealed (always the refresh token) and settings learned from the vendor (an instance URL, the
   * sign-in mode that uses the token: declare them as fields of the section, or the section's
   * next Save drops them); `account` names who signed in, when the vendor says.
   * Throws a CrmError with a message for the administrator when the vendor refuses.
   */
  exchangeCode(
    settings: Settings,
    params: { code: string; redirectUri: string; codeVerifier?: string; callback: Record<string, string> },
    services: ConnectorServices,
    signal: AbortSignal,
  ): Promise<{ secrets: Record<string, string>; settings?: Record<string, string>; account?: string }>;
}

export interface CrmDefinition<Settings extends Record<string, unknown> = Record<string, unknown>> {
  kind: CrmKind;
  label: string;
  /** One line: what CRM Username and CRM Password mean for this CRM. */
  credentialsHelp: string;
  /** Suggested modules for the rule form; the first is the default. */
  modules: string[];
  fields: SettingField[];
  /** Validates the settings as stored (secrets included, already opened). */
  schema: z.ZodType<Settings>;
  create(settings: Settings, services: ConnectorServices): IntegrationConnector;
  /** The "Connect" button, where the vendor offers the authorization code flow. */
  connect?: OAuthConnect<Settings>;
}
