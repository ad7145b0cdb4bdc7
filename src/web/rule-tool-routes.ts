/**
 * Tools on a rule's edit page besides the form: "Recent calls" (the decision log of the rule)
 * and "Outcomes" (its calls per hour and outcome over 7 days).
 * Test rule runs on the form itself (routing-routes.ts), so it tests what the form holds.
 */
import { Router, type Request, type Response } from 'express';
import type { HostContext } from '../host';
import { BRANCH_LABELS, OUTCOMES } from '../domain/decide';
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

  router.get('/:id/outcomes', async (req, res) => {
    const rule = await findRule(req, res);
    if (!rule) return;
    const counts = await deps.store.decisionCounts.hourly(rule.tenantId, rule.id);
    // Known outcomes in their usual order, then any other code the log holds; only those that occurred.
    const seen = Object.keys(counts.outcomes);
    const outcomes = [...OUTCOMES.filter((o) => seen.includes(o)), ...seen.filter((o) => !(OUTCOMES as readonly string[]).includes(o)).sort()];
    const branches = Object.keys(counts.branches).sort();
    await deps.pages.render(req, res, 'routing/outcomes', `Outcomes: ${rule.name}`, {
      rule, counts, outcomes, branches, branchLabels: { ...BRANCH_LABELS, none: 'Not moved or not recorded' },
    });
  });

  return router;
}
