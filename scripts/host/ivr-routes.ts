/**
 * The reference host's IVRs page: each IVR menu of the catalog with its keys 0-9, each pointing
 * at a destination (a catalog entry or a CRM Routing rule whose Location is IVR), and the
 * dialplan of the menu to copy into Asterisk.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { HostDestinations, PluginHandle } from '../../src/host';
import { formFields, formText } from '../../src/web/body-types';
import { describeChoice, destinationProblem, dialplanLines, pickerGroups, type PickerContext } from './destination-picker';
import { setFlash, takeFlash } from './host-flash';
import { IVR_DIGITS, type IvrDigit, type IvrMenus } from './ivr-menus';

export interface IvrRoutesDeps {
  menus: IvrMenus;
  destinations: HostDestinations;
  plugin: PluginHandle;
  tenantOf: (req: Request) => string;
  licensed: () => boolean;
  /** The host's body type check, body parser and CSRF check, for the menu forms. */
  hostBody: RequestHandler[];
  page: (req: Request, res: Response, view: string, title: string, locals: Record<string, unknown>, status?: number) => Promise<void>;
}

export function ivrRoutes(deps: IvrRoutesDeps): Router {
  const router = Router();

  async function pickerContext(req: Request): Promise<PickerContext> {
    const tenantId = deps.tenantOf(req);
    return { rules: await deps.plugin.routingDestinations(tenantId), catalog: deps.destinations.list(tenantId), location: 'ivr', licensed: deps.licensed() };
  }

  async function render(req: Request, res: Response, problem?: { ivr: string; digit: string; message: string; posted: Record<string, string> }, status = 200): Promise<void> {
    const tenantId = deps.tenantOf(req);
    const ctx = await pickerContext(req);
    const saved = await deps.menus.options(tenantId);
    const menus = ctx.catalog.filter((e) => e.kind === 'ivr').map((ivr) => {
      const chosen = Object.fromEntries(IVR_DIGITS.map((d) => [d, problem?.ivr === ivr.id ? (problem.posted[d] ?? '') : (saved.find((o) => o.ivr === ivr.id && o.digit === d)?.destination ?? '')]));
      const options = IVR_DIGITS.map((digit) => ({ digit, destination: chosen[digit] as string, described: chosen[digit] ? describeChoice(chosen[digit] as string, ctx) : '' }));
      const dialplan = [`[ivr-${ivr.id}]`, 'exten => s,1,Answer()', ' same => n,WaitExten(10)',
        ...options.filter((o) => o.destination !== '').flatMap((o) => dialplanLines(o.digit, o.destination, ctx.rules, tenantId, deps.destinations))];
      return { id: ivr.id, label: ivr.label, options, dialplan };
    });
    await deps.page(req, res, 'ivrs', 'IVRs', { menus, groups: pickerGroups(ctx), licensed: ctx.licensed, problem, notice: takeFlash(req) }, status);
  }

  router.get('/', (req, res) => render(req, res));

  router.post('/:ivr', ...deps.hostBody, async (req, res) => {
    const ctx = await pickerContext(req);
    const ivr = ctx.catalog.find((e) => e.kind === 'ivr' && e.id === req.params.ivr);
    if (!ivr) return void res.status(404).type('text').send('No such IVR.');
    const body = formFields(req);
    const posted = Object.fromEntries(IVR_DIGITS.map((d) => [d, formText(body, `option_${d}`, 200)]));
    const saved = (await deps.menus.options(deps.tenantOf(req))).filter((o) => o.ivr === ivr.id);
    for (const digit of IVR_DIGITS) {
      const choice = posted[digit]!;
      // An option may be left empty, or kept as it was (a rule removed meanwhile is shown as such);
      // a newly chosen one must fit an IVR option.
      const unchanged = saved.some((o) => o.digit === digit && o.destination === choice);
      const message = choice === '' || unchanged ? undefined : destinationProblem(choice, ctx);
      if (message) return render(req, res, { ivr: ivr.id, digit, message: `Key ${digit}: ${message}`, posted }, 422);
    }
    await deps.menus.saveMenu(deps.tenantOf(req), ivr.id, posted as Record<IvrDigit, string>);
    const used = IVR_DIGITS.filter((d) => posted[d] !== '').length;
    setFlash(req, `IVR ${ivr.label} was saved: ${used === 0 ? 'no key has a destination' : used === 1 ? '1 key has a destination' : `${used} keys have a destination`}. Copy its dialplan below into Asterisk.`);
    res.redirect(303, `${req.baseUrl}#ivr-${ivr.id}`);
  });

  return router;
}
