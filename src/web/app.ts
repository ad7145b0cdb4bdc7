/**
 * The plugin's Express sub-app: security headers, the host's auth, the license gate, CSRF on
 * every post, static assets, then the CRM > Routing and CRM > Integration routes.
 */
import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { HostContext } from '../host';
import { DATABASE_UNREACHABLE_MESSAGE, isDatabaseUnreachable } from '../store/database-unreachable';
import { bodyTypeGate } from './body-types';
import { createCsrf, CSRF_FAILED_MESSAGE } from './csrf';
import { createFlash, type Flash } from './flash';
import { licenseGate, UNLICENSED_MESSAGE } from './license-gate';
import { createPageRenderer, VIEWS_DIR, type PageRenderer } from './page';
import { routingRoutes, type RoutingRoutesDeps } from './routing-routes';
import { SecretDrafts, type DraftOwner } from './secret-drafts';

export interface WebAppDeps extends Omit<RoutingRoutesDeps, 'pages' | 'kit'> {
  host: HostContext;
  /** Mark the CSRF cookie Secure. Default true; the demo host on plain http passes false. */
  secureCookies?: boolean;
  /** Extra routers mounted under the app (CRM > Integration, rule tools), built with the same page renderer and kit. */
  extraRoutes?: (pages: PageRenderer, kit: WebKit) => Array<{ path: string; router: express.Router }>;
}

/** What every page's routes share besides the renderer: secrets kept between round trips, one-time notices. */
export interface WebKit {
  drafts: SecretDrafts;
  flash: Flash;
  /** The tenant and user a request acts for, as drafts are bound to them. */
  ownerOf(req: Request): DraftOwner;
}

export function createWebApp(deps: WebAppDeps): Express {
  const { host } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  const csrf = createCsrf({
    secretKey: host.secretKey,
    // Bound to the login session when the host names one: a token from before a logout is refused after the next login.
    sessionOf: (req) => {
      const user = host.auth.currentUser(req);
      const session = host.auth.sessionId?.(req);
      return session === undefined ? `${user.tenantId}\u0000${user.id}` : `${user.tenantId}\u0000${user.id}\u0000${session}`;
    },
    secureCookie: deps.secureCookies ?? true,
  });
  const pages = createPageRenderer(host.layout, (req: Request, res: Response) => ({ base: host.basePath, csrfToken: csrf.token(req, res) }));
  const ownerOf = (req: Request): DraftOwner => {
    const user = host.auth.currentUser(req);
    return { tenantId: user.tenantId, userId: user.id };
  };
  const kit: WebKit = {
    drafts: new SecretDrafts(host.secretKey),
    flash: createFlash({ secretKey: host.secretKey, sessionOf: (req) => JSON.stringify(ownerOf(req)), path: host.basePath || '/', secureCookie: deps.secureCookies ?? true }),
    ownerOf,
  };

  app.use(helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"], frameAncestors: ["'none'"], objectSrc: ["'none'"], baseUri: ["'self'"],
        // The host decides whether it is served over https; upgrading would break a plain-http host.
        upgradeInsecureRequests: null,
      },
    },
    strictTransportSecurity: false, // the host decides HSTS for its own origin
  }));
  app.use('/assets', express.static(path.join(VIEWS_DIR, 'assets'), { fallthrough: false, index: false, maxAge: '1h' }));
  app.use(cookieParser());
  app.use(host.auth.middleware);
  app.use(licenseGate(host.license, async (req, res) => {
    if (req.accepts(['html', 'json']) === 'json') return void res.status(403).json({ ok: false, message: UNLICENSED_MESSAGE });
    await pages.render(req, res, 'unlicensed', 'Not licensed', { message: UNLICENSED_MESSAGE, licensePageUrl: host.licensePageUrl ?? '' }, 403);
  }));
  app.use(bodyTypeGate());
  app.use(express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 2000 }));
  app.use(express.json({ limit: '50kb' }));
  app.use(csrf.protect);
  app.get('/', (req, res) => res.redirect(303, `${req.baseUrl}/routing`));
  app.use('/routing', routingRoutes({ ...deps, pages, kit }));
  for (const extra of deps.extraRoutes?.(pages, kit) ?? []) app.use(extra.path, extra.router);

  const onError: ErrorRequestHandler = async (err, req, res, _next) => {
    const e = err as { code?: string; status?: number; type?: string };
    if (res.headersSent) return void res.end();
    const unreachable = isDatabaseUnreachable(err);
    const status = unreachable ? 503 : e.code === 'EBADCSRFTOKEN' ? 403 : e.type === 'entity.too.large' ? 413 : e.status && e.status < 500 ? e.status : 500;
    const message = unreachable ? DATABASE_UNREACHABLE_MESSAGE
      : e.code === 'EBADCSRFTOKEN' ? CSRF_FAILED_MESSAGE
      : status === 413 ? 'The form is too large to save.'
      : status < 500 ? 'The request could not be read.'
      : 'Something went wrong on the server; nothing was changed. Try again, and tell your administrator if it persists.';
    if (unreachable) host.logger.warn('crm-routing page: the database is not reachable', { path: req.originalUrl, error: (err as Error)?.message ?? String(err) });
    else if (status >= 500) host.logger.error('crm-routing page failed', { path: req.originalUrl, error: (err as Error)?.stack ?? String(err) });
    if (req.accepts(['html', 'json']) === 'json') return void res.status(status).json({ ok: false, message });
    await pages.render(req, res, 'error', status === 403 ? 'Forbidden' : status === 503 ? 'Database not reachable' : 'Error', { message }, status).catch(() => res.status(status).type('text').send(message));
  };
  app.use(onError);
  return app;
}
