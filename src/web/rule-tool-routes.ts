/**
 * Tools on a rule's edit page: "Test rule" (a dry run of the call path for a caller number and
 * digits) and "Recent calls" (the decision log of the rule).
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { HostContext } from '../host';
import { describeDestination } from '../domain/destination';
import type { Rule } from '../domain/rule';
import type { RuleTester } from '../call/rule-tester';
import type { PluginStore } from '../store/plugin-store';
import type { PageRenderer } from './page';

export interface RuleToolRoutesDeps {
  host: HostContext;
  store: PluginStore;
  pages: PageRenderer;
  tester: RuleTester;
}

const RECENT_CALLS = 100;

const testInput = z.object({
  callerId: z.string().trim().max(40).regex(/^[+\d\s().-]*$/, 'Enter the caller number as digits, e.g. +15551234567.'),
  dtmf: z.string().trim().max(20).regex(/^[\d*#]*$/, 'Digits may only be 0-9, * and #.'),
  did: z.string().trim().max(40).regex(/^[+\d]*$/, 'Enter the DID as digits.'),
});

export function ruleToolRoutes(deps: RuleToolRoutesDeps): Router {
  const router = Router();
  const tenantOf = (req: Request) => deps.host.auth.currentUser(req).tenantId;

  async function findRule(req: Request, res: Response): Promise<Rule | undefined> {
    const id = Number(req.params.id);
    const rule = Number.isSafeInteger(id) && id > 0 ? await deps.store.rules.get(tenantOf(req), id) : undefined;
    if (!rule) await deps.pages.render(req, res, 'error', 'Rule not found', { message: 'This rule does not exist (it may have been removed).' }, 404);
    return rule;
  }

  router.post('/:id/test', async (req, res) => {
    const rule = await findRule(req, res);
    if (!rule) return;
    const body = req.body as Record<string, unknown>;
    const values = { callerId: String(body.callerId ?? ''), dtmf: String(body.dtmf ?? ''), did: String(body.did ?? '') };
    const parsed = testInput.safeParse(values);
    if (!parsed.success) {
      const errors = Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message]));
      return deps.pages.render(req, res, 'routing/test-result', `Test rule: ${rule.name}`, { rule, values, errors, report: undefined, describeDestination }, 422);
    }
    const report = await deps.tester.test(rule, parsed.data);
    await deps.pages.render(req, res, 'routing/test-result', `Test rule: ${rule.name}`, { rule, values, errors: {}, report, describeDestination });
  });

  router.get('/:id/calls', async (req, res) => {
    const rule = await findRule(req, res);
    if (!rule) return;
    const calls = await deps.store.decisions.recent(rule.tenantId, rule.id, RECENT_CALLS);
    await deps.pages.render(req, res, 'routing/calls', `Recent calls: ${rule.name}`, { rule, calls, describeDestination });
  });

  return router;
}
