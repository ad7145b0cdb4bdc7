/**
 * The reference host: a small real Express admin that loads the plugin the way a PBX web admin
 * does (login, menu, license switch, destination catalog, DIDs), for newcomers and for the
 * end-to-end tests. `npm start` runs it through scripts/reference-host.ts.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import cookieParser from 'cookie-parser';
import cookieSession from 'cookie-session';
import ejs from 'ejs';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Knex } from 'knex';
import { register } from '../../src/index';
import type { CallLimits } from '../../src/config';
import type { AgiSettings, AmiSettings, CrmEgressPolicy, DialplanSigning, HostContext, HostLogger, MenuEntry, PluginHandle } from '../../src/host';
import { createCsrf } from '../../src/web/csrf';
import { ReferenceCatalog } from './catalog';
import { describeChoice, destinationProblem, pickerGroups, type PickerContext } from './destination-picker';
import { setFlash, takeFlash } from './host-flash';
import { HostStore } from './host-store';
import { IvrMenus } from './ivr-menus';
import { ivrRoutes } from './ivr-routes';
import { renderLayout } from './layout';
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
}

export interface ReferenceHost {
  url: string;
  plugin: PluginHandle;
  close(): Promise<void>;
}

interface SessionData { sid?: string; user?: string; tenantId?: string }

const VIEWS = path.join(__dirname, 'views');
const LICENSE_SETTING = 'license.crm_routing';

export async function startReferenceHost(options: ReferenceHostOptions): Promise<ReferenceHost> {
  const store = new HostStore(options.db);
  await store.init();
  const ivrMenus = new IvrMenus(options.db);
  await ivrMenus.init();
  let licensed = (await store.setting(LICENSE_SETTING)) !== 'off';
  const users = [{ name: options.adminUser, password: options.adminPassword, tenantId: 'default' }, ...(options.extraUsers ?? [])];
  const menu: MenuEntry[] = [];
  const catalog = new ReferenceCatalog();

  const app = express();
  app.disable('x-powered-by');
  app.get('/host.css', (_req, res) => res.sendFile(path.join(__dirname, 'host.css')));
  for (const icon of ['/favicon.svg', '/favicon.ico']) app.get(icon, (_req, res) => res.type('image/svg+xml').sendFile(path.join(__dirname, 'favicon.svg'), { maxAge: '1d' }));
  app.use(cookieSession({ name: 'pbx_session', keys: [options.secretKey], httpOnly: true, sameSite: 'lax', maxAge: 8 * 3600_000 }));
  app.use((req, _res, next) => {
    const session = req.session as SessionData;
    session.sid ??= randomBytes(16).toString('hex');
    next();
  });

  const session = (req: Request) => req.session as SessionData;
  const csrf = createCsrf({ secretKey: options.secretKey, sessionOf: (req) => session(req).sid ?? '', secureCookie: false, cookieName: 'pbx_csrf', purpose: 'host csrf' });
  app.use(cookieParser());
  const hostBody = [express.urlencoded({ extended: false, limit: '20kb' }), csrf.protect];
  const layout = (req: Request, title: string, body: string) =>
    renderLayout({ menu, isLicensed: () => licensed, userName: (r) => session(r).user, logoutToken: (r) => csrf.token(r, r.res!) }, { req, title, body });
  const page = async (req: Request, res: Response, view: string, title: string, locals: Record<string, unknown>, status = 200) => {
    const body = await ejs.renderFile(path.join(VIEWS, `${view}.ejs`), { ...locals, csrfToken: csrf.token(req, res) });
    res.status(status).type('html').send(layout(req, title, body));
  };

  const requireLogin: RequestHandler = (req, res, next) => {
    if (session(req).user) return next();
    if (req.method === 'GET' && req.accepts(['html', 'json']) === 'html') return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    res.status(401).type('text').send('Sign in first.');
  };

  app.get('/login', (req, res) => page(req, res, 'login', 'Sign in', { error: '', username: '', next: safeNext(req.query.next) }));
  app.post('/login', ...hostBody, (req, res) => {
    const body = req.body as Record<string, string>;
    const user = users.find((u) => u.name === body.username && sameSecret(u.password, String(body.password ?? '')));
    if (!user) return page(req, res, 'login', 'Sign in', { error: 'Wrong username or password.', username: String(body.username ?? ''), next: safeNext(body.next) }, 401);
    Object.assign(session(req), { user: user.name, tenantId: user.tenantId, sid: randomBytes(16).toString('hex') });
    res.redirect(303, safeNext(body.next));
  });
  app.post('/logout', ...hostBody, (req, res) => {
    req.session = null;
    res.redirect(303, '/login');
  });

  const auth = {
    middleware: requireLogin,
    currentUser: (req: Request) => ({ id: session(req).user ?? '', name: session(req).user ?? '', tenantId: session(req).tenantId ?? '' }),
    sessionId: (req: Request) => session(req).sid ?? '',
  };
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
    usage: referenceRuleUsage(() => store.dids(), ivrMenus, catalog),
    licensePageUrl: '/license',
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    dialplanSigning: options.dialplanSigning,
    crmEgress: options.crmEgress,
  };
  const plugin = await register(hostContext, { limits: options.limits, lookupCacheTtlSeconds: options.lookupCacheTtlSeconds, decisionFlushMs: options.decisionFlushMs });

  app.get('/', requireLogin, (req, res) => page(req, res, 'home', 'Home', { health: plugin.health() }));
  app.get('/license', requireLogin, (req, res) => page(req, res, 'license', 'License', { enabled: licensed }));
  app.post('/license', requireLogin, ...hostBody, async (req, res) => {
    licensed = (req.body as Record<string, string>).crm_routing === 'on';
    await store.setSetting(LICENSE_SETTING, licensed ? 'on' : 'off');
    res.redirect(303, '/license');
  });
  const didPicker = async (req: Request): Promise<PickerContext> => {
    const tenantId = auth.currentUser(req).tenantId;
    return { rules: await plugin.routingDestinations(tenantId), catalog: catalog.list(), location: 'did', licensed };
  };
  const didsPage = async (req: Request, res: Response, error = '', status = 200, posted = { number: '', destination: '' }) => {
    const ctx = await didPicker(req);
    const dids = (await store.dids()).map((d) => ({ ...d, described: describeChoice(d.destination, ctx) }));
    await page(req, res, 'dids', 'DIDs', { dids, rules: ctx.rules, groups: pickerGroups(ctx), licensed, error, posted, notice: takeFlash(req) }, status);
  };
  app.get('/dids', requireLogin, (req, res) => didsPage(req, res));
  app.post('/dids', requireLogin, ...hostBody, async (req, res) => {
    const body = req.body as Record<string, string>;
    const number = String(body.number ?? '').trim();
    const destination = String(body.destination ?? '').slice(0, 191);
    const posted = { number: number.slice(0, 40), destination };
    if (!/^\+?\d{2,20}$/.test(number)) return didsPage(req, res, 'Enter the DID as digits, e.g. 5551234 (a leading + is allowed).', 422, posted);
    const ctx = await didPicker(req);
    const problem = destinationProblem(destination, ctx);
    if (problem) return didsPage(req, res, problem, 422, posted);
    await store.saveDid(number, destination);
    setFlash(req, `DID ${number} now goes to ${describeChoice(destination, ctx)}.${destination.startsWith('crm-routing:') ? ' Copy its dialplan below into Asterisk.' : ''}`);
    res.redirect(303, '/dids');
  });
  app.post('/dids/:id/delete', requireLogin, ...hostBody, async (req, res) => {
    await store.deleteDid(Number(req.params.id));
    res.redirect(303, '/dids');
  });
  app.use('/ivrs', requireLogin, ivrRoutes({
    menus: ivrMenus, destinations: catalog, plugin, tenantOf: (req) => auth.currentUser(req).tenantId, licensed: () => licensed, hostBody, page,
  }));
  app.use((req, res) => void page(req, res, 'not-found', 'Not found', {}, 404));

  const server = http.createServer(app);
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    url,
    plugin,
    async close() {
      await plugin.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Only local paths: a login link must not send people to another site. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[\x21-\x7e]*$/.test(next) ? next : '/';
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
