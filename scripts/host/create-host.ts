/**
 * The reference host: a small real Express admin that loads the plugin the way a PBX web admin
 * does (login with server-side sessions, menu, license switch, destination catalog, DIDs per
 * tenant, one error handler), for newcomers and for the end-to-end tests. `npm start` runs it
 * through scripts/reference-host.ts.
 */
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import cookieParser from 'cookie-parser';
import ejs from 'ejs';
import express, { type Request, type Response } from 'express';
import type { Knex } from 'knex';
import { register } from '../../src/index';
import type { CallLimits } from '../../src/config';
import type { AgiSettings, AmiSettings, CrmEgressPolicy, DialplanSigning, HostContext, HostDirectory, HostLogger, MenuEntry, PluginHandle, PluginHealth } from '../../src/host';
import { integrationProblem } from '../../src/call/health-report';
import { formFields, formText } from '../../src/web/body-types';
import { ReferenceCatalog } from './catalog';
import { ReferenceDirectory } from './directory';
import { didRoutes } from './did-routes';
import { hostErrorHandler } from './error-pages';
import { hostSignIn } from './host-auth';
import { HostSessions } from './host-sessions';
import { HostStore } from './host-store';
import { IvrMenus } from './ivr-menus';
import { ivrRoutes } from './ivr-routes';
import { renderLayout } from './layout';
import { operatorAccess } from './operator-access';
import { referenceRuleUsage } from './rule-usage';

export interface ReferenceHostOptions {
  db: Knex;
  port: number;
  adminUser: string;
  adminPassword: string;
  /** Key for the session cookie and the plugin's sealed secrets. */
  secretKey: string;
  agi: Partial<AgiSettings>;
  ami?: AmiSettings;
  /** PEM of a private CA that signed the CRMs' certificates. */
  crmCa?: string;
  /** Where to send the CRM hosts a connector does not take from its settings (HostContext.resolveCrmOrigin). */
  resolveCrmOrigin?: (origin: string) => string;
  /** Over plugin.json's lookup cache time; 0 turns the cache off. */
  lookupCacheTtlSeconds?: number;
  logger: HostLogger;
  /** Users beyond the admin, each in its own tenant (tests of tenant isolation). */
  extraUsers?: Array<{ name: string; password: string; tenantId: string }>;
  /** Overrides of the plugin's call limits (tests of overflow and stop use small ones). */
  limits?: Partial<CallLimits>;
  /** How often the plugin writes call decisions (default 500 ms). */
  decisionFlushMs?: number;
  /** The address browsers reach the host at (HostContext.publicUrl): CRM Connect's redirect URLs. */
  publicUrl?: string;
  /** The dialplan lines' signing key and a previous one's grace period (default: signed with `secretKey`). */
  dialplanSigning?: DialplanSigning;
  /** Where CRM traffic may go (default: public addresses only). */
  crmEgress?: CrmEgressPolicy;
  /** The host's directory of extensions and their users' e-mails; `false`: a host without one. Default: the seeded one. */
  directory?: HostDirectory | false;
  /** Lets requests from other machines read /metrics and /healthz with `Authorization: Bearer <token>` (METRICS_TOKEN); without it only this machine may. */
  metricsToken?: string;
  /** Address the admin listens on. Default 127.0.0.1 (this machine only). */
  listenHost?: string;
}

export interface ReferenceHost {
  url: string;
  plugin: PluginHandle;
  close(): Promise<void>;
}

const VIEWS = path.join(__dirname, 'views');
const LICENSE_SETTING = 'license.crm_routing';

/** The home page shows a user their own tenant's integrations only (/healthz, for operators, shows all). */
function tenantsOwn(health: PluginHealth, tenantId: string): PluginHealth {
  const others = new Set(health.integrations.filter((i) => i.tenantId !== tenantId && i.state === 'failing').map(integrationProblem));
  const problems = health.problems.filter((p) => !others.has(p));
  return { ...health, healthy: problems.length === 0, problems, integrations: health.integrations.filter((i) => i.tenantId === tenantId) };
}

export async function startReferenceHost(options: ReferenceHostOptions): Promise<ReferenceHost> {
  const store = new HostStore(options.db);
  await store.init();
  const ivrMenus = new IvrMenus(options.db);
  await ivrMenus.init();
  const sessions = new HostSessions(options.db);
  await sessions.init();
  let licensed = (await store.setting(LICENSE_SETTING)) !== 'off';
  const users = [{ name: options.adminUser, password: options.adminPassword, tenantId: 'default' }, ...(options.extraUsers ?? [])];
  const menu: MenuEntry[] = [];
  const catalog = new ReferenceCatalog();
  const signIn = hostSignIn({ sessions, users, secretKey: options.secretKey, secureCookies: false });
  const { auth, csrf, formPost } = signIn;

  const app = express();
  app.disable('x-powered-by');
  app.get('/host.css', (_req, res) => res.sendFile(path.join(__dirname, 'host.css')));
  for (const icon of ['/favicon.svg', '/favicon.ico']) app.get(icon, (_req, res) => res.type('image/svg+xml').sendFile(path.join(__dirname, 'favicon.svg'), { maxAge: '1d' }));
  // For scrapers and monitors: no login, no session, nothing read from the host's tables (they answer while its database is down).
  const operators = operatorAccess(options.metricsToken);
  let plugin: PluginHandle | undefined;
  app.get('/metrics', operators, (req, res, next) => (plugin ? plugin.metricsHandler(req, res, next) : res.status(503).type('text').send('Starting.\n')));
  app.get('/healthz', operators, async (_req, res, next) => {
    try {
      const health = plugin ? await plugin.health() : undefined;
      res.set('Cache-Control', 'no-store').status(health?.healthy ? 200 : 503).json(health ?? { healthy: false, problems: ['Starting'] });
    } catch (err) {
      next(err);
    }
  });
  // Signed cookies carry the one-time notices (host-flash.ts).
  app.use(cookieParser(options.secretKey));
  app.use(signIn.loadSession);

  const layout = (req: Request, title: string, body: string) =>
    renderLayout({ menu, isLicensed: () => licensed, userName: signIn.userName, logoutToken: (r) => csrf.token(r, r.res!) }, { req, title, body });
  const page = async (req: Request, res: Response, view: string, title: string, locals: Record<string, unknown>, status = 200) => {
    const body = await ejs.renderFile(path.join(VIEWS, `${view}.ejs`), { ...locals, csrfToken: csrf.token(req, res) });
    res.status(status).type('html').send(layout(req, title, body));
  };

  app.use(signIn.routes((req, res, locals, status) => page(req, res, 'login', 'Sign in', locals, status)));

  const hostContext: HostContext = {
    mount: (basePath, pluginApp) => app.use(basePath, pluginApp),
    basePath: '/crm',
    db: options.db,
    license: { isEnabled: (feature) => feature === 'crm_routing' && licensed },
    auth,
    menu: { add: (entry) => menu.push(entry) },
    layout: (p) => layout(p.req, p.title, p.body),
    destinations: catalog,
    ami: options.ami,
    agi: options.agi,
    logger: options.logger,
    secretKey: options.secretKey,
    secureCookies: false,
    crmCa: options.crmCa,
    resolveCrmOrigin: options.resolveCrmOrigin,
    usage: referenceRuleUsage((tenantId) => store.dids(tenantId), ivrMenus, catalog),
    licensePageUrl: '/license',
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    dialplanSigning: options.dialplanSigning,
    crmEgress: options.crmEgress,
    ...(options.directory === false ? {} : { directory: options.directory ?? new ReferenceDirectory() }),
  };
  plugin = await register(hostContext, { limits: options.limits, lookupCacheTtlSeconds: options.lookupCacheTtlSeconds, decisionFlushMs: options.decisionFlushMs });

  const registered = plugin;
  app.get('/', auth.middleware, async (req, res) => page(req, res, 'home', 'Home', { health: tenantsOwn(await registered.health(), auth.currentUser(req).tenantId) }));
  app.get('/license', auth.middleware, (req, res) => page(req, res, 'license', 'License', { enabled: licensed }));
  app.post('/license', auth.middleware, ...formPost, async (req, res) => {
    const on = formText(formFields(req), 'crm_routing') === 'on';
    await store.setSetting(LICENSE_SETTING, on ? 'on' : 'off');
    licensed = on;
    res.redirect(303, '/license');
  });
  app.use('/dids', didRoutes({ store, plugin: registered, catalog, auth, licensed: () => licensed, formPost, page }));
  app.use('/ivrs', auth.middleware, ivrRoutes({
    menus: ivrMenus, destinations: catalog, plugin: registered, tenantOf: (req) => auth.currentUser(req).tenantId, licensed: () => licensed, hostBody: formPost, page,
  }));
  app.use((req, res) => page(req, res, 'not-found', 'Not found', {}, 404));
  app.use(hostErrorHandler(options.logger, (req, res, { title, message, errorId }, status) => page(req, res, 'error', title, { heading: title, message, errorId }, status)));

  const server = http.createServer(app);
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port, options.listenHost ?? '127.0.0.1', resolve));
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    url,
    plugin: registered,
    async close() {
      await registered.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
