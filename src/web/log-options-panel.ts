/**
 * The "Log calls" part of each CRM's section on CRM > Integration, and the Custom CRM call log
 * section: the log options form (read and checked with log-options.ts, everything typed kept on
 * errors), disabled with a reason where the CRM's connector cannot write calls, and "Write a test
 * call", which writes one test activity and says where.
 */
import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { CALL_KINDS, CALL_KIND_LABELS, DEFAULT_LOG_OPTIONS, logOptionsValues, readLogOptionsForm, SUBJECT_PLACEHOLDERS, type CallLogOptions } from '../calllog/log-options';
import { planDelivery } from '../calllog/call-activity';
import { CUSTOM_CALL_LOG, type CallLogService } from '../calllog/call-log-service';
import { CRM_LABELS, isCrmKind } from '../domain/crm-kinds';
import type { CallLogWriter } from '../crm/call-log-writer';
import { callLogUrlProblem, CustomCrmCallLogWriter, parseCallLogHeaders } from '../crm/custom-crm/call-log';
import type { RuleConnectors } from '../crm/rule-connectors';
import { SAMPLE_CALLER_ID } from '../crm/shared/connection-test';
import type { HttpClient } from '../crm/shared/http-client';
import type { PluginStore } from '../store/plugin-store';
import { formFields, formText } from './body-types';

/** CRMs with a Lead record besides Contacts (the "create a Lead" choice); the Custom CRM and the templates decide themselves. */
const HAS_LEADS = new Set(['salesforce', 'zoho', 'dynamics', 'sugarcrm', 'suitecrm', 'vtiger', 'pipedrive', 'bullhorn', 'proprietary', 'proprietary_1', CUSTOM_CALL_LOG]);
const TEST_TIMEOUT_MS = 20_000;

export interface LogTestReport {
  ok: boolean;
  message: string;
  link?: string;
}

export interface LogPanel {
  integration: string;
  label: string;
  /** False: the form is shown disabled, `reason` says why. */
  can: boolean;
  reason?: string;
  values: Record<string, string>;
  errors: Record<string, string>;
  notice?: string;
  report?: LogTestReport;
  kinds: Array<{ name: string; label: string }>;
  unknownChoices: Array<{ value: string; label: string }>;
  placeholders: Array<{ name: string; help: string }>;
  /** Custom CRM only. */
  custom: boolean;
  hasHeaders: boolean;
  open: boolean;
}

export interface LogPanelsDeps {
  store: PluginStore;
  connectors: Pick<RuleConnectors, 'integration'>;
  http: HttpClient;
  service: Pick<CallLogService, 'writerFor'>;
}

export class LogPanels {
  constructor(private readonly deps: LogPanelsDeps) {}

  /** Every integration's panel as stored, with the posted one's state over it. */
  async panels(tenantId: string, posted?: LogPanel): Promise<Map<string, LogPanel>> {
    const stored = new Map((await this.deps.store.callLogOptions.list(tenantId)).map((o) => [o.integration, o]));
    const panels = new Map<string, LogPanel>();
    for (const integration of [...Object.keys(CRM_LABELS), CUSTOM_CALL_LOG]) {
      if (posted?.integration === integration) {
        panels.set(integration, posted);
        continue;
      }
      const saved = stored.get(integration);
      const values = logOptionsValues(saved?.options ?? DEFAULT_LOG_OPTIONS);
      if (integration === CUSTOM_CALL_LOG) values.url = saved?.url ?? '';
      panels.set(integration, this.panel(tenantId, integration, { values, errors: {}, hasHeaders: saved?.hasHeaders ?? false }));
    }
    return panels;
  }

  private panel(tenantId: string, integration: string, state: Pick<LogPanel, 'values' | 'errors' | 'hasHeaders'> & Partial<LogPanel>): LogPanel {
    const custom = integration === CUSTOM_CALL_LOG;
    const label = custom ? 'Custom CRM' : CRM_LABELS[integration as keyof typeof CRM_LABELS];
    const reason = custom ? undefined : this.cannotLog(tenantId, integration);
    return {
      integration, label, can: reason === undefined, ...(reason ? { reason } : {}), custom, open: false,
      kinds: CALL_KINDS.map((k) => ({ name: `call_${k}`, label: CALL_KIND_LABELS[k] })),
      unknownChoices: [
        { value: 'skip', label: 'Skip: log nothing for a number the CRM does not know' },
        { value: 'contact', label: 'Create a Contact, then log the call on it' },
        ...(HAS_LEADS.has(integration) ? [{ value: 'lead', label: 'Create a Lead, then log the call on it' }] : []),
      ],
      placeholders: Object.entries(SUBJECT_PLACEHOLDERS).map(([name, help]) => ({ name, help })),
      ...state,
    };
  }

  /** Why this CRM's calls cannot be logged now; undefined when they can. */
  private cannotLog(tenantId: string, crm: string): string | undefined {
    if (!isCrmKind(crm)) return 'Unknown CRM.';
    const built = this.deps.connectors.integration(tenantId, crm);
    if (!('connector' in built)) return `Enable and save ${CRM_LABELS[crm]} above first: calls are written with its settings.`;
    if (typeof built.connector.logCall !== 'function') {
      return crm === 'proprietary' || crm === 'proprietary_1'
        ? `Enter a Call log URL in the ${CRM_LABELS[crm]} settings above and save: calls are sent with that template.`
        : `The ${CRM_LABELS[crm]} connector cannot write calls yet; these options apply once it can.`;
    }
    return undefined;
  }

  /** Handles a post of one panel: Save or Write a test call. Answers the panel to render and the status. */
  async post(req: Request, tenantId: string, integration: string): Promise<{ panel: LogPanel; status: number }> {
    const body = formFields(req);
    const text = (name: string, max?: number) => formText(body, name, max);
    const form = readLogOptionsForm(text);
    const custom = integration === CUSTOM_CALL_LOG;
    const stored = await this.deps.store.callLogOptions.get(tenantId, integration);
    const values: Record<string, string> = { ...form.values, ...(custom ? { url: text('url', 2000).trim() } : {}) };
    const errors = { ...form.errors };
    const typedHeaders = custom ? text('headers', 8000) : '';
    const removeHeaders = custom && text('removeHeaders') === 'yes';
    let headerLines: ReturnType<typeof parseCallLogHeaders> = [];
    if (custom) {
      if (values.url !== '') {
        const problem = callLogUrlProblem(values.url!);
        if (problem) errors.url = problem;
      } else if (values.enabled === 'yes') {
        errors.url = 'Enter the Call log URL, starting with https://, or switch call logging off.';
      }
      const headerText = typedHeaders.trim() !== '' ? typedHeaders : removeHeaders ? '' : await this.deps.store.callLogOptions.headers(tenantId, integration);
      headerLines = parseCallLogHeaders(headerText);
      if ('error' in headerLines) errors.headers = headerLines.error;
    }
    const panel = this.panel(tenantId, integration, { values, errors, hasHeaders: stored?.hasHeaders ?? false, open: true });
    if (!custom && !panel.can && (text('action') === 'testcall' || values.enabled === 'yes')) {
      panel.errors.form = panel.reason!;
      return { panel, status: 409 };
    }
    if (form.options && values.unknownCaller === 'lead' && !panel.unknownChoices.some((c) => c.value === 'lead')) {
      panel.errors.unknownCaller = `${panel.label} has no Leads: choose Skip or Create a Contact.`;
    }
    if (Object.keys(panel.errors).length > 0 || !form.options) return { panel, status: 422 };

    if (text('action') === 'testcall') {
      const writer = custom ? new CustomCrmCallLogWriter(values.url!, headerLines as Exclude<typeof headerLines, { error: string }>, this.deps.http) : await this.deps.service.writerFor(tenantId, integration);
      panel.report = await testCall(writer, form.options, integration, tenantId, text('testNumber', 40).trim() || SAMPLE_CALLER_ID, panel.label);
      return { panel, status: 200 };
    }
    await this.deps.store.callLogOptions.save(tenantId, integration, {
      options: form.options,
      ...(custom ? { url: values.url, ...(typedHeaders.trim() !== '' ? { headers: typedHeaders.trim() } : removeHeaders ? { headers: '' } : {}) } : {}),
    });
    panel.hasHeaders = custom ? (typedHeaders.trim() !== '' || (!removeHeaders && panel.hasHeaders)) : false;
    panel.notice = form.options.enabled ? `Call logging for ${panel.label} was saved and is on.` : `Call logging for ${panel.label} was saved (off: no calls are written).`;
    return { panel, status: 200 };
  }
}

/** Writes one test call with these options and says where it went. */
async function testCall(writer: CallLogWriter | { code: string; message: string }, options: CallLogOptions, integration: string, tenantId: string, number: string, label: string): Promise<LogTestReport> {
  if (!('logCall' in writer)) return { ok: false, message: `Not tested (${writer.code}): ${writer.message}` };
  const now = new Date();
  const plan = planDelivery({
    linkedId: `test-${randomBytes(6).toString('hex')}`, tenantId, direction: 'inbound', disposition: 'answered', externalNumber: number,
    startedAt: new Date(now.getTime() - 65_000), answeredAt: new Date(now.getTime() - 60_000), endedAt: now, talkSeconds: 60, channelUniqueIds: [],
  }, { integration, options: { ...options, calls: { ...options.calls, inboundAnswered: true }, minSeconds: 0, subject: `Test call from CRM Routing (${options.subject})` }, routing: [] });
  if (plan.kind === 'skip') return { ok: false, message: plan.reason };
  const activity = { ...plan.activity, externalId: `test-${randomBytes(12).toString('base64url')}`, subject: 'Test call from CRM Routing', notes: `A test call written from CRM > Integration at ${now.toISOString()}; you may delete it.` };
  const result = await writer.logCall(activity, { username: '', password: '' }, AbortSignal.timeout(TEST_TIMEOUT_MS));
  if (result.kind === 'written') return { ok: true, message: `Wrote a test call activity into ${label} for ${number}: record ${result.activityId}.`, ...(result.recordUrl ? { link: result.recordUrl } : {}) };
  if (result.kind === 'skipped') return { ok: true, message: `${label} was reached and skipped the test call: ${result.reason}` };
  return { ok: false, message: `Test call failed (${result.code}): ${result.message}` };
}
