/**
 * CRM > Integration, "Connect": the OAuth authorization code flow for every CRM whose definition
 * declares `connect` (src/crm/integration.ts, OAuthConnect).
 *
 * - POST /integration/{crm}/connect (CSRF-checked like every post): reads the SAVED settings,
 *   records a state (ConnectStateStore: bound to tenant, user, browser and login session, single
 *   use, 10 minutes) with a PKCE verifier where the vendor takes PKCE, and answers 303 to the
 *   vendor's consent page.
 * - GET /integration/{crm}/connect/callback: the vendor sends the browser back here. The state is
 *   checked before anything else; a vendor error, a bad, expired, reused or foreign state, or a
 *   refused code exchange changes nothing saved. On success the refresh token (and what the
 *   vendor taught, e.g. Pipedrive's company domain) is saved sealed through the IntegrationStore.
 * - POST /integration/{crm}/connect/disconnect: forgets what Connect stored.
 * Every outcome returns to the Integration page (303) with a notice (connect-cookies.ts).
 *
 * The page's part (the redirect URL to register, connected or not, the buttons) comes from
 * `panel`, rendered by views/integration/connect.ejs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { CRM_LABELS, isCrmKind, type CrmKind } from '../domain/crm-kinds';
import type { HostContext } from '../host';
import type { OAuthConnect } from '../crm/integration';
import { CRM_REGISTRY } from '../crm/registry';
import type { RuleConnectors } from '../crm/rule-connectors';
import type { IntegrationView } from '../store/integration-store';
import type { PluginStore } from '../store/plugin-store';
import { ConnectCookies, type ConnectNotice } from './connect-cookies';
import { connectRedirectUri, parsePublicUrl } from './public-url';

const VENDOR_TIMEOUT_MS = 15_000;

export interface ConnectRoutesDeps {
  host: HostContext;
  store: PluginStore;
  connectors: RuleConnectors;
  onChanged: () => Promise<void> | void;
  /** Mark the cookies Secure (the host's secureCookies). */
  secureCookies: boolean;
}

/** What Connect stored, kept in the integration's settings (no secret in it). */
export interface ConnectionInfo {
  account?: string;
  connectedAt: string;
  /** Names of the secrets Connect stored: Disconnect removes them; typing one anew ends the connection. */
  secrets: string[];
}

/** The Connect part of a CRM's section, for views/integration/connect.ejs. */
export interface ConnectPanel {
  label: string;
  pkce: boolean;
  redirectUri?: string;
  redirectError?: string;
  connection?: ConnectionInfo;
  /** A refresh token is stored but did not come from Connect (typed by hand). */
  manualToken: boolean;
  /** Why Connect cannot start yet (settings missing), from the saved settings. */
  blocked?: string;
  notice?: ConnectNotice;
}

export interface ConnectPage {
  router: Router;
  panel(req: Request, crm: CrmKind, view: IntegrationView | undefined, notice: ConnectNotice | undefined): ConnectPanel | undefined;
  takeNotice(req: Request, res: Response): ConnectNotice | undefined;
  /** Settings a Save of the section keeps besides its fields: the connection, unless one of its secrets was typed anew. */
  keptOnSave(stored: Record<string, unknown> | undefined, typedSecrets: Record<string, string>): Record<string, unknown>;
}

const text = (max: number) => z.string().max(max).optional();
const callbackQuery = z.object({ state: text(512), code: text(4096), error: text(200), error_description: text(1000) }).catchall(z.unknown());
const connectionSchema = z.object({ account: z.string().max(320).optional(), connectedAt: z.string(), secrets: z.array(z.string()).max(10) });

export function connectRoutes(deps: ConnectRoutesDeps): ConnectPage {
  const { host, store } = deps;
  const publicUrl = host.publicUrl === undefined ? undefined : parsePublicUrl(host.publicUrl);
  const cookies = new ConnectCookies(host, deps.secureCookies);
  const router = Router();
  // A form's CSP form-action also covers the redirects after it: Chromium refuses the 303 from
  // Connect to the vendor's consent page unless the Integration pages allow https targets. Only
  // these pages; every other page of the plugin keeps form-action 'self'.
  router.use((_req, res, next) => {
    const csp = res.getHeader('content-security-policy');
    if (typeof csp === 'string') res.setHeader('content-security-policy', csp.replace("form-action 'self'", "form-action 'self' https:"));
    next();
  });

  const connectOf = (crm: string): { crm: CrmKind; connect: OAuthConnect } | undefined => {
    if (!isCrmKind(crm)) return undefined;
    const connect = CRM_REGISTRY[crm].definition.connect;
    return connect ? { crm, connect } : undefined;
  };
  const back = (req: Request, res: Response, notice: ConnectNotice) => {
    cookies.setNotice(req, res, notice);
    res.redirect(303, `${req.baseUrl}#crm-${notice.crm}`);
  };

  /** The saved settings, secrets opened, checked by the CRM's schema; or why Connect cannot use them. */
  async function savedSettings(tenantId: string, crm: CrmKind, connect: OAuthConnect): Promise<{ settings: Record<string, unknown>; stored: Record<string, unknown> } | { error: string }> {
    const label = CRM_LABELS[crm];
    const record = await store.integrations.get(tenantId, crm);
    if (!record) return { error: `Save the ${label} settings first, then press Connect.` };
    const merged = { ...record.settings, ...record.secrets };
    const missing = connect.requires(merged);
    if (missing) return { error: missing };
    const parsed = CRM_REGISTRY[crm].definition.schema.safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { error: `The saved ${label} settings are incomplete (${issue?.path.join('.') || 'settings'}: ${issue?.message ?? 'invalid'}): fix them and Save, then press Connect.` };
    }
    return { settings: parsed.data as Record<string, unknown>, stored: record.settings };
  }

  router.post('/:crm/connect', async (req, res) => {
    const found = connectOf(String(req.params.crm));
    if (!found) return void res.status(404).type('text').send('This CRM has no Connect.');
    const { crm, connect } = found;
    const label = CRM_LABELS[crm];
    const fail = (message: string) => back(req, res, { crm, ok: false, message });
    const target = connectRedirectUri(publicUrl, host.basePath, req, crm);
    if ('error' in target) return fail(target.error);
    const user = host.auth.currentUser(req);
    const saved = await savedSettings(user.tenantId, crm, connect);
    if ('error' in saved) return fail(saved.error);
    const verifier = connect.pkce ? randomBytes(32).toString('base64url') : undefined;
    const state = await store.connectStates.create({
      tenantId: user.tenantId, userId: user.id, bindingHash: cookies.bind(req, res), crm, redirectUri: target.uri, ...(verifier ? { verifier } : {}),
    });
    let consent: string;
    try {
      const services = deps.connectors.connectServices(user.tenantId);
      const prepared = await connect.prepare?.(saved.settings, services, AbortSignal.timeout(VENDOR_TIMEOUT_MS));
      consent = connect.authorizeUrl(saved.settings, {
        redirectUri: target.uri, state, ...(verifier ? { codeChallenge: createHash('sha256').update(verifier).digest('base64url') } : {}), ...(prepared ? { prepared } : {}),
      }, services);
    } catch (err) {
      return fail(`Could not start the ${label} sign-in: ${(err as Error).message}`);
    }
    if (!/^https:\/\//.test(consent)) return fail(`${label}'s consent page address is not https; nothing was started.`);
    res.redirect(303, consent);
  });

  router.get('/:crm/connect/callback', async (req, res) => {
    const found = connectOf(String(req.params.crm));
    if (!found) return void res.status(404).type('text').send('This CRM has no Connect.');
    const { crm, connect } = found;
    const label = CRM_LABELS[crm];
    const fail = (message: string) => back(req, res, { crm, ok: false, message: `${message} Nothing was changed.` });
    const query = callbackQuery.safeParse(req.query);
    if (!query.success || !query.data.state) return fail(`The answer from ${label} has no usable state, so it cannot be matched to a Connect started here: press Connect again.`);
    const q = query.data;
    const user = host.auth.currentUser(req);
    const consumed = await store.connectStates.consume(q.state!, crm, { tenantId: user.tenantId, userId: user.id, bindingHash: cookies.bindingOf(req) });
    switch (consumed.kind) {
      case 'unknown': return fail(`This answer from ${label} does not belong to a Connect started here (unknown state): press Connect again.`);
      case 'other_owner': return fail(`This ${label} sign-in was started by another user or in another browser or login session: press Connect yourself.`);
      case 'other_crm': return fail(`This sign-in was started for ${CRM_LABELS[consumed.crm]}, not ${label}.`);
      case 'used': return fail(`This answer from ${label} was already used: press Connect to sign in again.`);
      case 'expired': return fail(`The ${label} sign-in took longer than 10 minutes and expired: press Connect again.`);
    }
    if (q.error !== undefined) {
      const why = q.error === 'access_denied' ? 'access was denied or the sign-in cancelled at the consent page' : 'the sign-in failed';
      return fail(`${label} did not grant access: ${why} (${q.error}${q.error_description ? `: ${q.error_description.split(/\r?\n/)[0]!.slice(0, 300)}` : ''}).`);
    }
    if (!q.code) return fail(`${label} came back without an authorization code: press Connect again.`);
    const saved = await savedSettings(user.tenantId, crm, connect);
    if ('error' in saved) return fail(saved.error);
    const callback = Object.fromEntries(Object.entries(req.query).filter(([, v]) => typeof v === 'string').slice(0, 20).map(([k, v]) => [k, (v as string).slice(0, 2000)]));
    let result: Awaited<ReturnType<OAuthConnect['exchangeCode']>>;
    try {
      result = await connect.exchangeCode(saved.settings, { code: q.code, redirectUri: consumed.connect.redirectUri, ...(consumed.connect.verifier ? { codeVerifier: consumed.connect.verifier } : {}), callback },
        deps.connectors.connectServices(user.tenantId), AbortSignal.timeout(VENDOR_TIMEOUT_MS));
    } catch (err) {
      return fail(`${label} did not accept the sign-in: ${(err as Error).message}`);
    }
    const current = await store.integrations.get(user.tenantId, crm);
    if (!current) return fail(`The ${label} integration was deleted meanwhile.`);
    const connection: ConnectionInfo = { ...(result.account ? { account: result.account.slice(0, 320) } : {}), connectedAt: new Date().toISOString(), secrets: Object.keys(result.secrets) };
    await store.integrations.save(user.tenantId, crm, { enabled: current.enabled, settings: { ...current.settings, ...result.settings, connection }, secrets: result.secrets });
    await deps.onChanged();
    back(req, res, { crm, ok: true, message: `Connected to ${label}${connection.account ? ` as ${connection.account}` : ''}. The refresh token is stored encrypted and used from now on.` });
  });

  router.post('/:crm/connect/disconnect', async (req, res) => {
    const found = connectOf(String(req.params.crm));
    if (!found) return void res.status(404).type('text').send('This CRM has no Connect.');
    const { crm } = found;
    const user = host.auth.currentUser(req);
    const current = await store.integrations.get(user.tenantId, crm);
    const connection = connectionSchema.safeParse(current?.settings.connection);
    if (!current || !connection.success) return back(req, res, { crm, ok: false, message: `${CRM_LABELS[crm]} is not connected; nothing was changed.` });
    const { connection: _dropped, ...settings } = current.settings;
    await store.integrations.save(user.tenantId, crm, { enabled: current.enabled, settings, secrets: {}, removeSecrets: connection.data.secrets });
    await deps.onChanged();
    back(req, res, { crm, ok: true, message: `Disconnected from ${CRM_LABELS[crm]}: the stored refresh token was removed.` });
  });

  return {
    router,
    takeNotice: (req, res) => cookies.takeNotice(req, res),
    panel(req, crm, view, notice) {
      const connect = CRM_REGISTRY[crm].definition.connect;
      if (!connect) return undefined;
      const target = connectRedirectUri(publicUrl, host.basePath, req, crm);
      const stored = new Set(Object.entries(view?.secrets ?? {}).filter(([, s]) => s.stored).map(([name]) => name));
      const parsed = connectionSchema.safeParse(view?.settings.connection);
      const connection = parsed.success && parsed.data.secrets.every((name) => stored.has(name)) ? parsed.data : undefined;
      const blocked = view ? connect.requires({ ...view.settings, ...Object.fromEntries([...stored].map((name) => [name, 'stored'])) }) : `Save the ${CRM_LABELS[crm]} settings first.`;
      return {
        label: CRM_LABELS[crm], pkce: connect.pkce,
        ...('uri' in target ? { redirectUri: target.uri } : { redirectError: target.error }),
        ...(connection ? { connection } : {}),
        manualToken: !connection && stored.has('refreshToken'),
        ...(blocked ? { blocked } : {}),
        ...(notice?.crm === crm ? { notice } : {}),
      };
    },
    keptOnSave(stored, typedSecrets) {
      const connection = connectionSchema.safeParse(stored?.connection);
      if (!connection.success || connection.data.secrets.some((name) => (typedSecrets[name] ?? '') !== '')) return {};
      return { connection: connection.data };
    },
  };
}
