/**
 * CRM > Integration: one section per CRM, rendered from the settings its connector declares;
 * Save (validated with the connector's own zod schema, secrets sealed, an empty secret field
 * keeps the stored one), Test connection (a real sign-in plus a sample lookup, before or after
 * saving), and the rule form's field picker.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { HostContext } from '../host';
import { CRM_KINDS, CRM_LABELS, isCrmKind, type CrmKind } from '../domain/crm-kinds';
import type { CrmField, SettingField, TestReport } from '../crm/integration';
import { CRM_REGISTRY } from '../crm/registry';
import type { RuleConnectors } from '../crm/rule-connectors';
import type { PluginStore } from '../store/plugin-store';
import type { PageRenderer } from './page';
import type { IntegrationChoices } from './rule-form-options';
import { GUIDE_OF_CRM } from './setup-guides';

export interface IntegrationRoutesDeps {
  host: HostContext;
  store: PluginStore;
  pages: PageRenderer;
  connectors: RuleConnectors;
  onChanged: () => Promise<void> | void;
}

/** What the page shows of one CRM's section after a post: typed values, errors, a test report. */
interface SectionState {
  values: Record<string, string>;
  enabled: boolean;
  errors: Record<string, string>;
  report?: TestReport;
  notice?: string;
  /** Secrets typed for a Test connection: never rendered back, so the page asks for them again before Save. */
  typedForTest?: string[];
}

const TEST_TIMEOUT_MS = 15_000;
const FIELD_CACHE_MS = 10 * 60_000;

const fieldRequest = z.object({
  module: z.string().trim().max(64).regex(/^[A-Za-z0-9_]*$/, 'Use the module API name, e.g. Contacts.'),
  username: z.string().max(200).default(''),
  password: z.string().max(1000).default(''),
});

export function integrationRoutes(deps: IntegrationRoutesDeps): Router {
  const router = Router();
  const tenantOf = (req: Request) => deps.host.auth.currentUser(req).tenantId;
  const fieldCache = new Map<string, { at: number; fields: CrmField[] }>();

  async function renderPage(req: Request, res: Response, open?: { crm: CrmKind; state: SectionState }, status = 200): Promise<void> {
    const views = await deps.store.integrations.list(tenantOf(req));
    const sections = CRM_KINDS.map((crm) => {
      const entry = CRM_REGISTRY[crm];
      const view = views.find((v) => v.crm === crm);
      const saved = Object.fromEntries(entry.definition.fields.filter((f) => !f.secret).map((f) => [f.name, stringOf(view?.settings[f.name] ?? f.defaultValue)]));
      const state: SectionState = open?.crm === crm ? open.state : { values: saved, enabled: view?.enabled ?? false, errors: {} };
      return {
        crm, label: entry.definition.label, credentialsHelp: entry.definition.credentialsHelp, fields: entry.definition.fields, guide: GUIDE_OF_CRM[crm].slug,
        stored: Object.fromEntries(Object.entries(view?.secrets ?? {}).map(([name, s]) => [name, s.stored])),
        savedEnabled: view?.enabled ?? false, open: open?.crm === crm, ...state,
      };
    });
    await deps.pages.render(req, res, 'integration/index', 'CRM Integration', { sections }, status);
  }

  router.get('/', (req, res) => renderPage(req, res));

  router.post('/:crm', async (req, res) => {
    const crm = String(req.params.crm);
    if (!isCrmKind(crm)) return void res.status(404).type('text').send('No such CRM.');
    const tenantId = tenantOf(req);
    const body = req.body as Record<string, unknown>;
    const fields = CRM_REGISTRY[crm].definition.fields;
    const values = Object.fromEntries(fields.filter((f) => !f.secret).map((f) => [f.name, String(body[f.name] ?? '').slice(0, 2000)]));
    const typedSecrets = Object.fromEntries(fields.filter((f) => f.secret).map((f) => [f.name, String(body[f.name] ?? '').slice(0, 4000)]));
    const enabled = body.enabled === 'yes';
    const stored = await deps.store.integrations.get(tenantId, crm);
    const merged: Record<string, unknown> = { ...values };
    for (const [name, typed] of Object.entries(typedSecrets)) {
      const secret = typed !== '' ? typed : stored?.secrets[name];
      if (secret !== undefined && secret !== '') merged[name] = secret;
    }
    const state: SectionState = { values, enabled, errors: {} };

    if (body.action === 'test') {
      state.typedForTest = Object.keys(typedSecrets).filter((name) => typedSecrets[name] !== '');
      const connector = deps.connectors.probe(crm, merged);
      if ('error' in connector) {
        state.errors[connector.path || 'form'] = connector.error;
        state.report = { ok: false, code: 'CONFIG', message: `Not tested: ${connector.error}` };
      } else {
        state.report = await connector.testConnection({ username: '', password: '' }, AbortSignal.timeout(TEST_TIMEOUT_MS));
      }
      return renderPage(req, res, { crm, state });
    }

    if (enabled) {
      const checked = CRM_REGISTRY[crm].definition.schema.safeParse(merged);
      if (!checked.success) {
        for (const issue of checked.error.issues) state.errors[String(issue.path[0] ?? 'form')] ??= issue.message;
        return renderPage(req, res, { crm, state }, 422);
      }
    }
    await deps.store.integrations.save(tenantId, crm, { enabled, settings: values, secrets: typedSecrets });
    await deps.onChanged();
    fieldCache.clear();
    state.notice = `${CRM_LABELS[crm]} was saved${enabled ? ' and is enabled' : ' (disabled: rules cannot use it)'}.`;
    await renderPage(req, res, { crm, state });
  });

  // The rule form's field picker: modules (without a module) or a module's field API names.
  router.post('/:crm/fields', async (req, res) => {
    const crm = String(req.params.crm);
    const parsed = fieldRequest.safeParse(req.body ?? {});
    if (!isCrmKind(crm) || !parsed.success) return void res.status(422).json({ ok: false, message: parsed.success ? 'No such CRM.' : parsed.error.issues[0]?.message });
    const built = deps.connectors.integration(tenantOf(req), crm);
    if (!('connector' in built)) return void res.json({ ok: false, message: `${CRM_LABELS[crm]} is not enabled or not set up under CRM > Integration.` });
    const { module, username, password } = parsed.data;
    const signal = AbortSignal.timeout(TEST_TIMEOUT_MS);
    try {
      if (module === '') return void res.json({ ok: true, modules: await built.connector.listModules({ username, password }, signal), fields: [] });
      const key = `${tenantOf(req)}\u0000${crm}\u0000${module}\u0000${username}`;
      const cached = fieldCache.get(key);
      const fields = cached && Date.now() - cached.at < FIELD_CACHE_MS ? cached.fields : await built.connector.listFields(module, { username, password }, signal);
      fieldCache.set(key, { at: Date.now(), fields });
      res.json({ ok: true, fields: fields.slice(0, 2000) });
    } catch (err) {
      res.json({ ok: false, message: `Could not list the fields: ${(err as Error).message}` });
    }
  });

  return router;
}

/** The tenant's enabled integrations as the rule form offers them. */
export async function integrationChoices(store: PluginStore, tenantId: string): Promise<IntegrationChoices> {
  const views = await store.integrations.list(tenantId);
  return views.filter((v) => v.enabled).map((v) => {
    const entry = CRM_REGISTRY[v.crm];
    const storedSecrets = new Set(Object.entries(v.secrets).filter(([, s]) => s.stored).map(([name]) => name));
    return {
      crm: v.crm, label: entry.definition.label, modules: entry.definition.modules, credentialsHelp: entry.definition.credentialsHelp,
      hasDefaultCredentials: entry.hasDefaultCredentials(v.settings, storedSecrets), usesUsername: entry.usesUsername,
    };
  });
}

function stringOf(value: unknown): string {
  return value === undefined || value === null ? '' : typeof value === 'string' ? value : String(value);
}

export type { SettingField };
