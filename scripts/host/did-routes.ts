/**
 * The reference host's DIDs page: a tenant's numbers, each pointed at a catalog destination or at
 * one of the tenant's CRM Routing rules whose Location is DID, with the rule's dialplan lines to
 * copy. Every query is scoped to the signed-in tenant; a number another tenant has is refused.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { HostAuth, HostDestinations, PluginHandle } from '../../src/host';
import { formFields, formText } from '../../src/web/body-types';
import { describeChoice, destinationProblem, pickerGroups, RULE_PREFIX, type PickerContext } from './destination-picker';
import { setFlash, takeFlash } from './host-flash';
import type { HostStore } from './host-store';

export interface DidRoutesDeps {
  store: HostStore;
  plugin: PluginHandle;
  catalog: HostDestinations;
  auth: HostAuth;
  licensed: () => boolean;
  /** The host's body type check, body parser and CSRF check, for the forms. */
  formPost: RequestHandler[];
  page: (req: Request, res: Response, view: string, title: string, locals: Record<string, unknown>, status?: number) => Promise<void>;
}

export function didRoutes(deps: DidRoutesDeps): Router {
  const router = express.Router();
  const tenantOf = (req: Request) => deps.auth.currentUser(req).tenantId;

  const pickerOf = async (req: Request): Promise<PickerContext> => {
    const tenantId = tenantOf(req);
    return { rules: await deps.plugin.routingDestinations(tenantId), catalog: deps.catalog.list(tenantId), location: 'did', licensed: deps.licensed() };
  };

  const render = async (req: Request, res: Response, error = '', status = 200, posted = { number: '', destination: '' }) => {
    const ctx = await pickerOf(req);
    const dids = (await deps.store.dids(tenantOf(req))).map((d) => ({ ...d, described: describeChoice(d.destination, ctx) }));
    await deps.page(req, res, 'dids', 'DIDs', { dids, rules: ctx.rules, groups: pickerGroups(ctx), licensed: ctx.licensed, error, posted, notice: takeFlash(req) }, status);
  };

  router.get('/', deps.auth.middleware, (req, res) => render(req, res));

  router.post('/', deps.auth.middleware, ...deps.formPost, async (req, res) => {
    const body = formFields(req);
    const number = formText(body, 'number', 100).trim();
    const destination = formText(body, 'destination', 191);
    const posted = { number: number.slice(0, 40), destination };
    if (!/^\+?\d{2,20}$/.test(number)) return render(req, res, 'Enter the DID as digits, e.g. 5551234 (a leading + is allowed).', 422, posted);
    // The picker holds the tenant's own rules only: another tenant's rule is "no longer exists".
    const ctx = await pickerOf(req);
    const problem = destinationProblem(destination, ctx);
    if (problem) return render(req, res, problem, 422, posted);
    if ((await deps.store.saveDid(tenantOf(req), number, destination)) === 'taken') {
      return render(req, res, `The number ${number} belongs to another account; nothing was changed.`, 409, posted);
    }
    setFlash(req, `DID ${number} now goes to ${describeChoice(destination, ctx)}.${destination.startsWith(RULE_PREFIX) ? ' Copy its dialplan below into Asterisk.' : ''}`);
    res.redirect(303, '/dids');
  });

  router.post('/:id/delete', deps.auth.middleware, ...deps.formPost, async (req, res) => {
    const id = Number(req.params.id);
    if (Number.isSafeInteger(id) && id > 0) await deps.store.deleteDid(tenantOf(req), id);
    res.redirect(303, '/dids');
  });

  return router;
}
