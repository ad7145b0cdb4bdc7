/**
 * CRM > Routing: the rule list (search, paging), the Add / Edit form, and delete with its
 * confirmation. Every handler acts for the signed-in user's tenant only.
 */
import { Router, type Request, type Response } from 'express';
import type { CatalogEntry, HostContext } from '../host';
import type { Rule } from '../domain/rule';
import type { RuleStore } from '../store/rule-store';
import { DuplicateRuleNameError, StaleRuleError } from '../store/store-errors';
import type { PageRenderer } from './page';
import { applyFormEdit, emptyRuleForm, readFormEdit, readRuleForm, type RuleFormValues } from './rule-form';
import { catalogChoice, validateRuleForm, type FieldErrors, type RuleFormContext } from './rule-validation';
import { formOptions, type IntegrationChoices } from './rule-form-options';

export const PAGE_SIZE = 50;

export interface RoutingRoutesDeps {
  host: HostContext;
  rules: RuleStore;
  pages: PageRenderer;
  /** Enabled integrations of a tenant, for the form's CRM list. */
  integrations: (tenantId: string) => Promise<IntegrationChoices>;
  /** Called after every write so the call path's rule cache reloads. */
  onRulesChanged: () => Promise<void> | void;
}

export function routingRoutes(deps: RoutingRoutesDeps): Router {
  const router = Router();
  const tenantOf = (req: Request) => deps.host.auth.currentUser(req).tenantId;

  router.get('/', async (req, res) => {
    const search = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
    const page = Math.max(1, Math.min(100_000, Number.parseInt(String(req.query.page ?? '1'), 10) || 1));
    const { rules, total } = await deps.rules.list(tenantOf(req), { search, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
    const notice = typeof req.query.notice === 'string' ? req.query.notice.slice(0, 200) : '';
    await deps.pages.render(req, res, 'routing/list', 'CRM Routing', { rules, total, search, page, pageSize: PAGE_SIZE, notice });
  });

  router.get('/new', async (req, res) => {
    await renderForm(req, res, { values: emptyRuleForm() });
  });

  router.post('/new', async (req, res) => {
    await save(req, res, undefined);
  });

  router.get('/:id/edit', async (req, res) => {
    const rule = await findRule(req, res);
    if (rule) await renderForm(req, res, { values: ruleToForm(rule), rule });
  });

  router.post('/:id/edit', async (req, res) => {
    const rule = await findRule(req, res);
    if (rule) await save(req, res, rule);
  });

  // Without JavaScript the list's Delete button lands here without `confirmed`: ask first.
  router.post('/:id/delete', async (req, res) => {
    const rule = await findRule(req, res);
    if (!rule) return;
    if ((req.body as Record<string, unknown>)?.confirmed !== 'yes') {
      await deps.pages.render(req, res, 'routing/confirm-delete', 'Remove rule', { rule });
      return;
    }
    await deps.rules.delete(tenantOf(req), rule.id);
    await deps.onRulesChanged();
    res.redirect(303, `${req.baseUrl}?notice=${encodeURIComponent(`Rule '${rule.name}' was removed.`)}`);
  });

  async function findRule(req: Request, res: Response): Promise<Rule | undefined> {
    const id = Number(req.params.id);
    const rule = Number.isSafeInteger(id) && id > 0 ? await deps.rules.get(tenantOf(req), id) : undefined;
    // Another tenant's rule is answered exactly like a rule that does not exist.
    if (!rule) await deps.pages.render(req, res, 'error', 'Rule not found', { message: 'This rule does not exist (it may have been removed).' }, 404);
    return rule;
  }

  async function save(req: Request, res: Response, existing: Rule | undefined): Promise<void> {
    const tenantId = tenantOf(req);
    const values = readRuleForm(req.body);
    const edit = readFormEdit((req.body as Record<string, unknown>)?.action);
    if (edit) return renderForm(req, res, { values: applyFormEdit(values, edit), rule: existing });

    const context = await formContext(tenantId, existing);
    const { draft, errors, warnings } = validateRuleForm(values, context);
    if (draft && (await deps.rules.nameTaken(tenantId, draft.name, existing?.id))) {
      errors.name = `A rule named '${draft.name}' already exists; choose another name.`;
    }
    if (!draft || Object.keys(errors).length > 0) return renderForm(req, res, { values, rule: existing, errors, warnings }, 422);
    try {
      const saved = existing
        ? await deps.rules.update(tenantId, existing.id, draft, Number(values.version) || undefined)
        : await deps.rules.create(tenantId, draft);
      if (!saved) return void (await findRule(req, res));
      await deps.onRulesChanged();
      const verb = existing ? 'saved' : 'created';
      const notice = Object.keys(warnings).length > 0 ? ` with ${Object.keys(warnings).length} warning(s): open it to review` : '';
      res.redirect(303, `${req.baseUrl}?notice=${encodeURIComponent(`Rule '${saved.name}' was ${verb}${notice}.`)}`);
    } catch (err) {
      if (err instanceof DuplicateRuleNameError) {
        return renderForm(req, res, { values, rule: existing, errors: { name: `A rule named '${values.name.trim()}' already exists; choose another name.` }, warnings }, 422);
      }
      if (err instanceof StaleRuleError) {
        return renderForm(req, res, { values, rule: existing, errors: { form: 'Someone else saved this rule after you opened it. Your changes are still in the form: reload the page to see theirs, or save again to overwrite them.' }, warnings }, 409);
      }
      throw err;
    }
  }

  async function formContext(tenantId: string, existing: Rule | undefined): Promise<RuleFormContext> {
    const integrations = await deps.integrations(tenantId);
    const source = existing?.source;
    return {
      catalog: deps.host.destinations.list(tenantId),
      integrations: integrations.map((i) => ({ crm: i.crm, hasDefaultCredentials: i.hasDefaultCredentials, usesUsername: i.usesUsername })),
      stored: existing && {
        hasPassword: source?.kind === 'integration' && source.password !== '',
        secretHeaders: source?.kind === 'custom' ? source.headers.filter((h) => h.secret).map((h) => h.name) : [],
      },
    };
  }

  interface FormState {
    values: RuleFormValues;
    rule?: Rule;
    errors?: FieldErrors;
    warnings?: FieldErrors;
  }

  async function renderForm(req: Request, res: Response, state: FormState, status = 200): Promise<void> {
    const tenantId = tenantOf(req);
    const catalog: CatalogEntry[] = deps.host.destinations.list(tenantId);
    const integrations = await deps.integrations(tenantId);
    const context = await formContext(tenantId, state.rule);
    const title = state.rule ? `Edit rule: ${state.rule.name}` : 'Add rule';
    await deps.pages.render(req, res, 'routing/form', title, {
      values: state.values,
      rule: state.rule,
      errors: state.errors ?? {},
      warnings: state.warnings ?? {},
      stored: context.stored,
      options: formOptions(catalog, integrations),
      action: state.rule ? `${req.baseUrl}/${state.rule.id}/edit` : `${req.baseUrl}/new`,
    }, status);
  }

  return router;
}

/** A stored rule as the form shows it: secrets never leave the server (blank keeps them). */
export function ruleToForm(rule: Rule): RuleFormValues {
  const g = rule.greeting;
  const s = rule.source;
  return {
    ...emptyRuleForm(),
    name: rule.name,
    fieldName: rule.fieldName,
    location: rule.location,
    greetingRecording: g?.recording ?? '',
    dtmfMaxDigits: String(g?.maxDigits ?? 4),
    dtmfTimeout: String(g?.timeoutSeconds ?? 5),
    dtmfRetries: String(g?.retries ?? 2),
    dtmfPattern: g?.pattern ?? '',
    source: s.kind,
    crm: s.kind === 'integration' ? s.crm : '',
    crmModule: s.kind === 'integration' ? s.module : '',
    crmUsername: s.kind === 'integration' ? s.username : '',
    crmPassword: '',
    customUrl: s.kind === 'custom' ? s.url : '',
    customPost: s.kind === 'custom' && s.post ? 'yes' : 'no',
    headers: s.kind === 'custom' ? s.headers.map((h) => ({ name: h.name, value: h.secret ? '' : h.value, secret: h.secret ? 'yes' : 'no' })) : [],
    deadlineSeconds: String(rule.deadlineSeconds),
    defaultDestination: catalogChoice(rule.defaultDestination),
    defaultVoicemail: rule.defaultVoicemail,
    rows: rule.rows.map((r) => ({ operator: r.operator, value: r.value, destType: r.destination.type, destTarget: r.destination.target })),
    version: String(rule.version),
  };
}
