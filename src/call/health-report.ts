/**
 * Puts PluginHealth together from its parts, and says in words which parts are not well. The
 * database is asked (bounded); everything else is read from memory.
 */
import type { IntegrationHealthReport, PluginHealth } from '../host';
import { isFailing, type IntegrationState } from '../metrics/integration-health';

export interface HealthParts {
  agi: PluginHealth['agi'];
  ami: PluginHealth['ami'];
  database: () => Promise<PluginHealth['database']>;
  decisionLog: PluginHealth['decisionLog'];
  /** Enabled integrations (tenant + CRM). */
  enabled: ReadonlyArray<{ tenantId: string; crm: string }>;
  /** What live lookups found, per integration and per tenant's Custom CRM. */
  observed: readonly IntegrationState[];
}

export async function healthReport(parts: HealthParts): Promise<PluginHealth> {
  const database = await parts.database();
  const integrations = integrationReports(parts.enabled, parts.observed);
  const problems: string[] = [];
  if (!parts.agi.listening) problems.push('FastAGI is not listening');
  if (parts.ami.configured && !parts.ami.connected) problems.push('AMI is not connected (calls move with AGI)');
  if (!database.reachable) problems.push(`The database is not reachable (${database.code ?? 'ERROR'})`);
  if (parts.decisionLog.failing) problems.push(`The decision log cannot write (${parts.decisionLog.lastWriteError?.code ?? 'ERROR'}); ${parts.decisionLog.buffered} record(s) wait`);
  for (const report of integrations) {
    if (report.state === 'failing') problems.push(integrationProblem(report));
  }
  return { healthy: problems.length === 0, problems, agi: parts.agi, ami: parts.ami, database, decisionLog: parts.decisionLog, integrations };
}

/** How a failing integration is listed in `problems` (a host showing one tenant its own leaves the others' out). */
export function integrationProblem(report: IntegrationHealthReport): string {
  return `${report.crm} of tenant ${report.tenantId} is failing (${report.lastError?.code ?? 'ERROR'})`;
}

function integrationReports(enabled: HealthParts['enabled'], observed: readonly IntegrationState[]): IntegrationHealthReport[] {
  const key = (tenantId: string, crm: string) => `${tenantId}\u0000${crm}`;
  const states = new Map(observed.map((state) => [key(state.tenantId, state.crm), state]));
  const shown = [...enabled.map(({ tenantId, crm }) => ({ tenantId, crm })), ...observed.filter((state) => state.crm === 'custom')];
  return shown
    .map(({ tenantId, crm }) => report(tenantId, crm, states.get(key(tenantId, crm))))
    .sort((a, b) => a.tenantId.localeCompare(b.tenantId) || a.crm.localeCompare(b.crm));
}

function report(tenantId: string, crm: string, state: IntegrationState | undefined): IntegrationHealthReport {
  const seen = state !== undefined && (state.lastSuccessAt !== undefined || state.lastErrorAt !== undefined);
  const out: IntegrationHealthReport = { tenantId, crm, state: !seen ? 'unused' : isFailing(state) ? 'failing' : 'ok' };
  if (state?.lastSuccessAt !== undefined) out.lastSuccessAt = new Date(state.lastSuccessAt).toISOString();
  if (state?.lastErrorAt !== undefined) out.lastError = { at: new Date(state.lastErrorAt).toISOString(), code: state.lastErrorCode ?? 'ERROR' };
  return out;
}
