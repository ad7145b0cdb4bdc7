/**
 * CRM > Integration: one section per CRM, rendered from the settings its connector declares;
 * Save (validated with the connector's own zod schema, secrets sealed, an empty secret field
 * keeps the stored one), Test connection (a real sign-in plus a sample lookup, before or after
 * saving: the secrets typed for it are kept sealed in the page's draft for Save, never in clear),
 * disabling with the rules that use the CRM named first, and the rule form's field picker.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { HostContext } from '../host';
import { CRM_KINDS, CRM_LABELS, isCrmKind, type CrmKind } from '../domain/crm-kinds';
import type { CrmField, SettingField, TestReport } from '../crm/integration';
import { CRM_REGISTRY } from '../crm/registry';
import { EgressPolicy } from '../crm/shared/egress-policy';
import type { RuleConnectors } from '../crm/rule-connectors';
import type { PluginStore } from '../store/plugin-store';
import type { WebKit } from './app';
import type { ConnectPage } from './connect-routes';
import { formFields, formText } from './body-types';
import type { PageRenderer } from './page';
import { RULE_PASSWORD_SECRET } from './rule-form';
import type { IntegrationChoices } from './rule-form-options';
import { GUIDE_OF_CRM } from './setup-guides';
import { CUSTOM_CALL_LOG } from '../calllog/call-log-service';
import type { LogPanel, LogPanels } from './log-options-panel';

export interface IntegrationRoutesDeps {
  host: HostContext;
  store: PluginStore;
  pages: PageRenderer;
  kit: WebKit;
  connectors: RuleConnectors;
  onChanged: () => Promise<void> | void;
  /** The Connect part of sections whose CRM declares `connect` (connect-routes.ts). */
  connect?: ConnectPage;
  /** Whether the call log can read end-of-call events: AMI configured, and connected now. */
  callLogSource?: () => { amiConfigured: boolean; amiConnected: boolean };
  /** The "Log calls" part of each section and the Custom CRM call log (log-options-panel.ts). */
  logPanels?: LogPanels;
}

/** What the page shows of one CRM's section after a post: typed values, errors, a test report. */
interface SectionState {
  values: Record<string, string>;
  enabled: boolean;
  errors: Record<string, string>;
  report?: TestReport;
  notice?: string;
  /** Secrets typed earlier and kept (sealed) in the section's draft for Save: never rendered back. */
  keptSecrets?: string[];
  /** The sealed draft of those secrets, for the form's hidden field. */
  secretDraft?: string;
  /** A draft was posted but had expired: the secrets typed earlier must be typed again. */
  draftExpired?: boolean;
  /** Disabling asked first: these rules use the CRM. */
  disableAsk?: Array<{ id: number; name: string }>;
}

const TEST_TIMEOUT_MS = 15_000;
const FIELD_CACHE_MS = 10 * 60_000;

const fieldRequest = z.object({
  module: z.string().trim().max(64).regex(/^[A-Za-z0-9_]*$/, 'Use the module API name, e.g. Contacts.'),
  username: z.string().max(200).default(''),
  password: z.string().max(1000).default(''),
  /** The rule form's sealed draft and its form id, for a CRM Password typed earlier and kept there. */
  secretDraft: z.string().max(24_000).default(''),
  form: z.string().regex(/^rule:(new|\d{1,12})$/).default('rule:new'),
});

/** The draft name of a CRM's section form. */
const formIdOf = (crm: CrmKind) => `integration:${crm}`;

export function integrationRoutes(deps: IntegrationRoutesDeps): Router {
  const router = Router();
  const tenantOf = (req: Request) => deps.host.auth.currentUser(req).tenantId;
  const fieldCache = new Map<string, { at: number; fields: CrmField[] }>();
  const egress = new EgressPolicy(deps.host.crmEgress).describe();

  async function renderPage(req: Request, res: Response, open?: { crm: CrmKind; state: SectionState }, status = 200, posted?: LogPanel): Promise<void> {
    const views = await deps.store.integrations.list(tenantOf(req));
    const logPanels = await deps.logPanels?.panels(tenantOf(req), posted);
    const notice = deps.connect?.takeNotice(req, res);
    const sections = CRM_KINDS.map((crm) => {
      const entry = CRM_REGISTRY[crm];
      const view = views.find((v) => v.crm === crm);
      const saved = Object.fromEntries(entry.definition.fields.filter((f) => !f.secret).map((f) => [f.name, stringOf(view?.settings[f.name] ?? f.defaultValue)]));
      const state: SectionState = open?.crm === crm ? open.state : { values: saved, enabled: view?.enabled ?? false, errors: {} };
      return {
        crm, label: entry.definition.label, credentialsHelp: entry.definition.credentialsHelp, fields: entry.definition.fields, guide: GUIDE_OF_CRM[crm].slug,
        stored: Object.fromEntries(Object.entries(view?.secrets ?? {}).map(([name, s]) => [name, s.stored])),
        savedEnabled: view?.enabled ?? false, open: open?.crm === crm || notice?.crm === crm || posted?.integration === crm, ...state,
        connect: deps.connect?.panel(req, crm, view, notice),
        callLog: logPanels?.get(crm),
      };
    });
    const callLogSource = deps.callLogSource?.() ?? { amiConfigured: deps.host.ami !== undefined, amiConnected: false };
    const customCallLog = logPanels?.get(CUSTOM_CALL_LOG);
    await deps.pages.render(req, res, 'integration/index', 'CRM Integration', { sections, customCallLog, egress, callLogSource, draftTtlMinutes: deps.kit.drafts.ttlMs / 60_000 }, status);
  }

  router.get('/', (req, res) => renderPage(req, res));

  // A section's log options: Save, or Write a test call.
  router.post('/:integration/call-log', async (req, res) => {
    const integration = String(req.params.integration);
    if (!deps.logPanels || (!isCrmKind(integration) && integration !== CUSTOM_CALL_LOG)) return void res.status(404).type('text').send('No such CRM.');
    const { panel, status } = await deps.logPanels.post(req, tenantOf(req), integration);
    await renderPage(req, res, undefined, status, panel);
  });

  router.post('/:crm', async (req, res) => {
    const crm = String(req.params.crm);
    if (!isCrmKind(crm)) return void res.status(404).type('text').send('No such CRM.');
    const tenantId = tenantOf(req);
    const body = formFields(req);
    const fields = CRM_REGISTRY[crm].definition.fields;
    const values = Object.fromEntries(fields.filter((f) => !f.secret).map((f) => [f.name, formText(body, f.name, 2000)]));
    const owner = deps.kit.ownerOf(req);
    const kept = deps.kit.drafts.open(owner, formIdOf(crm), formText(body, 'secretDraft'));
    // What was typed now wins over what was typed earlier (kept in the draft), which wins over what is stored.
    const typedSecrets = Object.fromEntries(fields.filter((f) => f.secret).map((f) => {
      const typed = formText(body, f.name, 4000);
      return [f.name, typed !== '' ? typed : (kept.secrets[f.name] ?? '')];
    }));
    const enabled = formText(body, 'enabled') === 'yes';
    const stored = await deps.store.integrations.get(tenantId, crm);
    const merged: Record<string, unknown> = { ...values };
    for (const [name, typed] of Object.entries(typedSecrets)) {
      const secret = typed !== '' ? typed : stored?.secrets[name];
      if (secret !== undefined && secret !== '') merged[name] = secret;
    }
    const state: SectionState = { values, enabled, errors: {}, draftExpired: kept.expired };
    /** The section rendered back with the typed secrets kept, sealed, for the next post. */
    const keepTyped = () => {
      state.secretDraft = deps.kit.drafts.seal(owner, formIdOf(crm), typedSecrets);
      state.keptSecrets = Object.keys(typedSecrets).filter((name) => typedSecrets[name] !== '');
    };
    const message = (path: string, text: string) => settingMessage(fields, merged, path, text);

    if (formText(body, 'action') === 'test') {
      keepTyped();
      const connector = deps.connectors.probe(tenantId, crm, merged);
      if ('error' in connector) {
        state.errors[connector.path || 'form'] = message(connector.path, connector.error);
        state.report = { ok: false, code: 'CONFIG', message: `Not tested: ${message(connector.path, connector.error)}` };
      } else {
        state.report = await connector.testConnection({ username: '', password: '' }, AbortSignal.timeout(TEST_TIMEOUT_MS));
      }
      return renderPage(req, res, { crm, state });
    }

    if (enabled) {
      const checked = CRM_REGISTRY[crm].definition.schema.safeParse(merged);
      if (!checked.success) {
        for (const issue of checked.error.issues) {
          const path = String(issue.path[0] ?? 'form');
          state.errors[path] ??= message(path, issue.message);
        }
        keepTyped();
        return renderPage(req, res, { crm, state }, 422);
      }
    }
    const using = enabled ? [] : await deps.store.rules.usingIntegration(tenantId, crm);
    if (!enabled && stored?.enabled && using.length > 0 && formText(body, 'confirmDisable') !== 'yes') {
      keepTyped();
      state.disableAsk = using;
      return renderPage(req, res, { crm, state });
    }
    await deps.store.integrations.save(tenantId, crm, { enabled, settings: { ...values, ...deps.connect?.keptOnSave(stored?.settings, typedSecrets) }, secrets: typedSecrets });
    await deps.onChanged();
    fieldCache.clear();
    const label = CRM_LABELS[crm];
    state.notice = enabled ? `${label} was saved and is enabled.`
      : using.length === 0 ? `${label} was saved (disabled: rules cannot use it).`
      : `${label} was saved (disabled). ${usingText(using)}: their calls go to their default destination until it is enabled again.`;
    await renderPage(req, res, { crm, state });
  });

  // The rule form's field picker: modules (without a module) or a module's field API names.
  router.post('/:crm/fields', async (req, res) => {
    const crm = String(req.params.crm);
    const parsed = fieldRequest.safeParse(req.body ?? {});
    if (!isCrmKind(crm) || !parsed.success) return void res.status(422).json({ ok: false, message: parsed.success ? 'No such CRM.' : parsed.error.issues[0]?.message });
    const built = deps.connectors.integration(tenantOf(req), crm);
    if (!('connector' in built)) return void res.json({ ok: false, message: `${CRM_LABELS[crm]} is not enabled or not set up under CRM > Integration.` });
    const { module, username } = parsed.data;
    const password = parsed.data.password !== '' ? parsed.data.password : (deps.kit.drafts.open(deps.kit.ownerOf(req), parsed.data.form, parsed.data.secretDraft).secrets[RULE_PASSWORD_SECRET] ?? '');
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

/** A setting that is simply missing gets "Enter the <label>." instead of the schema library's wording. */
function settingMessage(fields: SettingField[], merged: Record<string, unknown>, path: string, message: string): string {
  const field = fields.find((f) => f.name === path);
  const missing = merged[path] === undefined || merged[path] === '';
  return field && missing && /^Invalid input/i.test(message) ? `Enter the ${field.label.replace(/ \(optional\)$/, '')}.` : message;
}

/** "Rule 'Gold' uses it" or "Rules 'Gold', 'Silver' and 3 more use it". */
function usingText(rules: Array<{ name: string }>): string {
  const named = rules.slice(0, 10).map((r) => `'${r.name}'`).join(', ');
  const more = rules.length > 10 ? ` and ${rules.length - 10} more` : '';
  return rules.length === 1 ? `Rule ${named} uses it` : `Rules ${named}${more} use it`;
}

function stringOf(value: unknown): string {
  return value === undefined || value === null ? '' : typeof value === 'string' ? value : String(value);
}

export type { SettingField };
