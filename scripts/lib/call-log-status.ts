/**
 * For `npm run call -- --end ...`: where the host's call log put the call, read from the host's
 * own database (the outbox row per integration, keyed by Linkedid), so a newcomer sees the whole
 * call including its CRM entry. Read only; polls until no row of the call is pending.
 */
import type { Knex } from 'knex';
import { storedLogOptions } from '../../src/calllog/log-options';
import { CRM_LABELS } from '../../src/domain/crm-kinds';
import type { PluginTables } from '../../src/store/tables';

export interface LoggedCall {
  tenantId: string;
  integration: string;
  status: string;
  activityId: string | null;
  recordUrl: string | null;
  skipReason: string | null;
  errorMessage: string | null;
  attempts: number;
}

const POLL_MS = 250;

/** The integrations (any tenant) whose call logging is on: "custom" or a CRM kind. */
export async function callLogsConfigured(db: Knex, tables: PluginTables): Promise<string[]> {
  const rows = (await db(tables.callLogOptions).select('integration', 'options')) as Array<{ integration: string; options: string }>;
  return rows.filter((row) => {
    const json = JSON.parse(row.options) as Record<string, unknown>;
    return storedLogOptions(json).enabled && (row.integration !== 'custom' || (typeof json.url === 'string' && json.url !== ''));
  }).map((row) => row.integration);
}

/** The call's outbox rows once none is pending (or what there is after `timeoutMs`). */
export async function waitForLoggedCall(db: Knex, tables: PluginTables, linkedid: string, timeoutMs: number): Promise<{ rows: LoggedCall[]; settled: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = ((await db(tables.callOutbox).where({ linkedid }).orderBy('id')) as Array<Record<string, unknown>>).map(loggedCallOf);
    const settled = rows.length > 0 && rows.every((r) => r.status !== 'pending');
    if (settled || Date.now() >= deadline) return { rows, settled };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** One line per integration: sent (with the CRM record), skipped (why), failed (why) or still pending. */
export function describeLoggedCall(row: LoggedCall): string {
  const where = row.integration === 'custom' ? 'Custom CRM call log URL' : (CRM_LABELS as Record<string, string>)[row.integration] ?? row.integration;
  switch (row.status) {
    case 'sent':
      return `${where}: sent${row.activityId ? `, record ${row.activityId}` : ''}${row.recordUrl ? ` (${row.recordUrl})` : ''}`;
    case 'skipped':
      return `${where}: skipped: ${row.skipReason ?? ''}`;
    case 'failed':
      return `${where}: failed after ${row.attempts} attempt(s): ${row.errorMessage ?? ''} (CRM > Call log has Retry)`;
    default:
      return `${where}: still ${row.status} after ${row.attempts} attempt(s)${row.errorMessage ? `: ${row.errorMessage}` : ''}`;
  }
}

function loggedCallOf(row: Record<string, unknown>): LoggedCall {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    tenantId: String(row.tenant_id), integration: String(row.integration), status: String(row.status), activityId: text(row.activity_id),
    recordUrl: text(row.record_url), skipReason: text(row.skip_reason), errorMessage: text(row.error_message), attempts: Number(row.attempts ?? 0),
  };
}
