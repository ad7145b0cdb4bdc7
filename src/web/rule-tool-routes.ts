/**
 * Tools on a rule's edit page besides the form: "Recent calls" (the decision log of the rule).
 * Test rule runs on the form itself (routing-routes.ts), so it tests what the form holds.
 */
import { Router, type Request, type Response } from 'express';
import type { HostContext } from '../host';
import { BRANCH_LABELS } from '../domain/decide';
import type { Rule } from '../domain/rule';
import type { PluginStore } from '../store/plugin-store';
import { destinationLabel } from './destination-labels';
import type { PageRenderer } from './page';

export interface RuleToolRoutesDeps {
  host: HostContext;
  store: PluginStore;
  pages: PageRenderer;
}

const RECENT_CALLS = 100;

export function ruleToolRoutes(deps: RuleToolRoutesDeps): Router {
  const router = Router();
  const tenantOf = (req: Request) => deps.host.auth.currentUser(req).tenantId;

  async function findRule(req: Request, res: Response): Promise<Rule | undefined> {
    const id = Number(req.params.id);
    const rule = Number.isSafeInteger(id) && id > 0 ? await deps.store.rules.get(tenantOf(req), id) : undefined;
    if (!rule) await deps.pages.render(req, res, 'error', 'Rule not found', { message: 'This rule does not exist (it may have been removed).' }, 404);
    return rule;
  }

  router.get('/:id/calls', async (req, res) => {
    const rule = await findRule(req, res);
    if (!rule) return;
    const calls = await deps.store.decisions.recent(rule.tenantId, rule.id, RECENT_CALLS);
    const catalog = deps.host.destinations.list(rule.tenantId);
    await deps.pages.render(req, res, 'routing/calls', `Recent calls: ${rule.name}`, {
      rule, calls, branchLabels: BRANCH_LABELS, label: (dest: Parameters<typeof destinationLabel>[0]) => destinationLabel(dest, catalog),
    });
  });

  return router;
}
