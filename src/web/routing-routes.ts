/**
 * CRM > Routing: the rule list (search, paging, what uses each rule), the Add / Edit form (with
 * Test rule on the form as it stands), and delete with its confirmation. Every handler acts for
 * the signed-in user's tenant only. Secrets typed in the form travel between round trips sealed
 * (secret-drafts.ts), never in clear; notices after a redirect come from a one-time flash.
 */
import { Router, type Request, type Response } from 'express';
import type { CatalogEntry, HostContext } from '../host';
import { BRANCH_LABELS } from '../domain/decide';
import type { Rule } from '../domain/rule';
import type { RuleTester, RuleTestReport } from '../call/rule-tester';
import type { DecisionCounts } from '../store/decision-counts';
import type { RuleStore } from '../store/rule-store';
import { DuplicateRuleNameError, StaleRuleError } from '../store/store-errors';
import type { WebKit } from './app';
import { destinationLabel } from './destination-labels';
import { formFields, formText } from './body-types';
import type { PageRenderer } from './page';
import {
  applyFormEdit, emptyRuleForm, keptSecretsOf, readFormEdit, readRuleForm, typedRuleSecrets, withKeptSecrets, withoutSecrets, type RuleFormValues,
} from './rule-form';
import { formOptions, type IntegrationChoices } from './rule-form-options';
import { checkTestValues, readTestValues, ruleUnderTest, sameAsSaved, type TestInputValues } from './rule-under-test';
import { deleteQuestion, removedNotice, RuleUsage } from './rule-usage';
import { catalogChoice, validateRuleForm, type FieldErrors, type RuleFormContext } from './rule-validation';

export const PAGE_SIZE = 50;

export interface RoutingRoutesDeps {
  host: HostContext;
  rules: RuleStore;
  /** Each listed rule's calls over the last 24 hours, from the decision log. */
  counts: Pick<DecisionCounts, 'last24Hours'>;
  pages: PageRenderer;
  kit: WebKit;
  /** Enabled integrations of a tenant, for the form's CRM list. */
  integrations: (tenantId: string) => Promise<IntegrationChoices>;
  /** Called after every write so the call path's rule cache reloads. */
  onRulesChanged: () => Promise<void> | void;
  /** Test rule: the call path without a call. */
  tester: Pick<RuleTester, 'test'>;
}

/** The form's Test rule part after a test: what was typed, and what happened. */
interface TestState {
  values: TestInputValues;
  errors: FieldErrors;
  /** Test rule was pressed (rather than Save or a row button). */
  attempted?: boolean;
  report?: RuleTestReport;
  /** The rule the report is about (the form as it stands). */
  rule?: Rule;
  /** Whether the form as tested is the saved rule, unsaved changes to it, or a rule not saved yet. */
  tested?: 'saved' | 'unsaved' | 'new';
}

interface FormState {
  /** What the form holds, secrets included: sealed into the draft, blanked before rendering. */
  values: RuleFormValues;
  rule?: Rule;
  errors?: FieldErrors;
  warnings?: FieldErrors;
  /** The warnings are the ones the rule was saved with (the edit page), not this post's. */
  savedWarnings?: boolean;
  /** A draft was posted but had expired: secrets typed earlier must be typed again. */
  draftExpired?: boolean;
  test?: TestState;
}

export function routingRoutes(deps: RoutingRoutesDeps): Router {
  const router = Router();
  const { kit } = deps;
  const tenantOf = (req: Request) => deps.host.auth.currentUser(req).tenantId;
  const usage = new RuleUsage(deps.host);

  router.get('/', async (req, res) => {
    const { search, page } = listQuery(req.query);
    const tenantId = tenantOf(req);
    const { rules, total } = await deps.rules.list(tenantId, { search, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
    const ids = rules.map((r) => r.id);
    const [uses, counts] = await Promise.all([usage.ofEach(tenantId, ids), deps.counts.last24Hours(tenantId, ids)]);
    await deps.pages.render(req, res, 'routing/list', 'CRM Routing', {
      rules, total, counts, share, search, page, pageSize: PAGE_SIZE, notice: kit.flash.take(req, res), uses, usageKnown: usage.known,
      deleteQuestion, listSuffix: listSuffix({ search, page }),
    });
  });

  router.get('/new', async (req, res) => {
    await renderForm(req, res, { values: emptyRuleForm() });
  });

  router.post('/new', async (req, res) => {
    await post(req, res, undefined);
  });

  router.get('/:id/edit', async (req, res) => {
    const rule = await findRule(req, res);
    if (!rule) return;
    const warnings = await deps.rules.warnings(rule.tenantId, rule.id);
    await renderForm(req, res, { values: ruleToForm(rule), rule, warnings, savedWarnings: true });
  });

  router.post('/:id/edit', async (req, res) => {
    const rule = await findRule(req, res);
    if (rule) await post(req, res, rule);
  });

  // Without JavaScript the Delete buttons land here without `confirmed`: ask first.
  router.post('/:id/delete', async (req, res) => {
    const rule = await findRule(req, res);
    if (!rule) return;
    const back = listQuery(req.query);
    const uses = await usage.of(rule.tenantId, rule.id);
    if (formText(formFields(req), 'confirmed') !== 'yes') {
      await deps.pages.render(req, res, 'routing/confirm-delete', 'Remove rule', { rule, uses, question: deleteQuestion(rule.name, undefined), listSuffix: listSuffix(back) });
      return;
    }
    await deps.rules.delete(rule.tenantId, rule.id);
    await deps.onRulesChanged();
    kit.flash.set(req, res, removedNotice(rule.name, uses));
    res.redirect(303, `${req.baseUrl}${listSuffix(back)}`);
  });

  async function findRule(req: Request, res: Response): Promise<Rule | undefined> {
    const id = Number(req.params.id);
    const rule = Number.isSafeInteger(id) && id > 0 ? await deps.rules.get(tenantOf(req), id) : undefined;
    // Another tenant's rule is answered exactly like a rule that does not exist.
    if (!rule) await deps.pages.render(req, res, 'error', 'Rule not found', { message: 'This rule does not exist (it may have been removed).' }, 404);
    return rule;
  }

  function formIdOf(existing: Rule | undefined): string {
    return existing ? `rule:${existing.id}` : 'rule:new';
  }

  async function post(req: Request, res: Response, existing: Rule | undefined): Promise<void> {
    const body = formFields(req);
    const posted = readRuleForm(body);
    const kept = kit.drafts.open(kit.ownerOf(req), formIdOf(existing), posted.secretDraft);
    const values = withKeptSecrets(posted, kept.secrets);
    const action = formText(body, 'action');
    const edit = readFormEdit(action);
    const base = { values, rule: existing, draftExpired: kept.expired };
    const testValues = readTestValues(body);
    if (edit) return renderForm(req, res, { ...base, values: applyFormEdit(values, edit), test: { values: testValues, errors: {} } });
    if (action === 'test') return testForm(req, res, base, testValues);
    return save(req, res, base, testValues);
  }

  async function save(req: Request, res: Response, state: FormState, testValues: TestInputValues): Promise<void> {
    const { values, rule: existing } = state;
    const tenantId = tenantOf(req);
    const context = await formContext(tenantId, existing);
    const { draft, errors, warnings } = validateRuleForm(values, context);
    if (draft && (await deps.rules.nameTaken(tenantId, draft.name, existing?.id))) {
      errors.name = `A rule named '${draft.name}' already exists; choose another name.`;
    }
    const test = { values: testValues, errors: {} };
    if (!draft || Object.keys(errors).length > 0) return renderForm(req, res, { ...state, errors, warnings, test }, 422);
    try {
      const saved = existing
        ? await deps.rules.update(tenantId, existing.id, draft, Number(values.version) || undefined, warnings)
        : await deps.rules.create(tenantId, draft, warnings);
      if (!saved) return void (await findRule(req, res));
      await deps.onRulesChanged();
      const count = Object.keys(warnings).length;
      const warned = count > 0 ? ` with ${count === 1 ? '1 warning' : `${count} warnings`}: open it to review` : '';
      kit.flash.set(req, res, `Rule '${saved.name}' was ${existing ? 'saved' : 'created'}${warned}.`);
      res.redirect(303, req.baseUrl);
    } catch (err) {
      if (err instanceof DuplicateRuleNameError) {
        return renderForm(req, res, { ...state, errors: { name: `A rule named '${values.name.trim()}' already exists; choose another name.` }, warnings, test }, 422);
      }
      if (err instanceof StaleRuleError) {
        return renderForm(req, res, { ...state, errors: { form: 'Someone else saved this rule after you opened it. Your changes are still in the form: reload the page to see theirs, or save again to overwrite them.' }, warnings, test }, 409);
      }
      throw err;
    }
  }

  /** Test rule on the form as it stands: validated like Save, then run through the call path without a call. */
  async function testForm(req: Request, res: Response, state: FormState, testValues: TestInputValues): Promise<void> {
    const { values, rule: existing } = state;
    const tenantId = tenantOf(req);
    const { draft, errors, warnings } = validateRuleForm(values, await formContext(tenantId, existing));
    const checked = checkTestValues(testValues);
    const testErrors = 'errors' in checked ? checked.errors : {};
    if (!draft || Object.keys(errors).length > 0 || 'errors' in checked) {
      return renderForm(req, res, { ...state, errors: { ...errors, ...testErrors }, warnings, test: { values: testValues, errors: testErrors, attempted: true } }, 422);
    }
    const rule = ruleUnderTest(draft, tenantId, existing);
    const report = await deps.tester.test(rule, checked.input);
    const tested = !existing ? 'new' : sameAsSaved(rule, existing) ? 'saved' : 'unsaved';
    await renderForm(req, res, { ...state, warnings, test: { values: testValues, errors: {}, attempted: true, report, rule, tested } });
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

  async function renderForm(req: Request, res: Response, state: FormState, status = 200): Promise<void> {
    const tenantId = tenantOf(req);
    const catalog: CatalogEntry[] = deps.host.destinations.list(tenantId);
    const integrations = await deps.integrations(tenantId);
    const context = await formContext(tenantId, state.rule);
    const title = state.rule ? `Edit rule: ${state.rule.name}` : 'Add rule';
    const secretDraft = kit.drafts.seal(kit.ownerOf(req), formIdOf(state.rule), typedRuleSecrets(state.values));
    const uses = state.rule ? await usage.of(tenantId, state.rule.id) : undefined;
    // A form that came back from a post holds edits the database does not have yet.
    const unsaved = req.method === 'POST' && state.test?.tested !== 'saved';
    await deps.pages.render(req, res, 'routing/form', title, {
      values: { ...withoutSecrets(state.values), secretDraft },
      kept: keptSecretsOf(state.values),
      draftExpired: state.draftExpired === true,
      draftTtlMinutes: kit.drafts.ttlMs / 60_000,
      rule: state.rule,
      errors: state.errors ?? {},
      warnings: state.warnings ?? {},
      savedWarnings: state.savedWarnings === true,
      stored: context.stored,
      options: formOptions(catalog, integrations),
      action: state.rule ? `${req.baseUrl}/${state.rule.id}/edit` : `${req.baseUrl}/new`,
      test: state.test ?? { values: { callerId: '', dtmf: '', did: '' }, errors: {} },
      uses,
      usageKnown: usage.known,
      deleteQuestion: state.rule ? deleteQuestion(state.rule.name, uses) : '',
      unsaved,
      label: (dest: Parameters<typeof destinationLabel>[0]) => destinationLabel(dest, catalog),
      branchLabels: BRANCH_LABELS,
    }, status);
  }

  return router;
}

/** "42%" of `part` in `whole`; a dash when there were no calls. */
export function share(part: number, whole: number): string {
  if (whole === 0) return '\u2013';
  const percent = (100 * part) / whole;
  return `${percent > 0 && percent < 1 ? '<1' : Math.round(percent)}%`;
}

/** The list's search and page from a query string: bounded, and only these two. */
function listQuery(query: Record<string, unknown>): { search: string; page: number } {
  const search = typeof query.q === 'string' ? query.q.slice(0, 100) : '';
  const page = Math.max(1, Math.min(100_000, Number.parseInt(String(query.page ?? '1'), 10) || 1));
  return { search, page };
}

/** "?q=gold&page=2" for links and redirects back to the same list view; '' for the first page unsearched. */
function listSuffix({ search, page }: { search: string; page: number }): string {
  const params = new URLSearchParams();
  if (search !== '') params.set('q', search);
  if (page > 1) params.set('page', String(page));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function branchChoice(destination: Rule['branches']['notFound']): string {
  return destination === null ? '' : catalogChoice(destination);
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
    notFoundDestination: branchChoice(rule.branches.notFound),
    crmErrorDestination: branchChoice(rule.branches.crmError),
    invalidDigitsDestination: branchChoice(rule.branches.invalidDigits),
    rows: rule.rows.map((r) => ({ operator: r.operator, value: r.value, destType: r.destination.type, destTarget: r.destination.target })),
    version: String(rule.version),
  };
}
