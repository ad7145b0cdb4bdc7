/**
 * CRM > Call log: the tenant's recent finished calls with what was written where (the CRM, a
 * link to the record, sent / skipped by which option / failed with the CRM's reason), a filter by
 * status, and Retry for a failed one (a form post with CSRF; the row is due again at once, with
 * another 24 hours of retries).
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { HostContext } from '../host';
import { CRM_LABELS, isCrmKind } from '../domain/crm-kinds';
import { RETRY_WINDOW_MS } from '../calllog/call-log-service';
import { formatDuration } from '../calllog/call-activity';
import { OUTBOX_STATUSES, type OutboxRow } from '../store/call-outbox-store';
import type { PluginStore } from '../store/plugin-store';
import type { WebKit } from './app';
import type { PageRenderer } from './page';

export interface CallLogRoutesDeps {
  host: HostContext;
  store: PluginStore;
  pages: PageRenderer;
  kit: WebKit;
  /** A row was set to retry: wake the worker. */
  onRetry?: () => void;
}

const PAGE_ROWS = 100;
const STATUS_LABELS: Record<(typeof OUTBOX_STATUSES)[number], string> = { pending: 'Pending', sent: 'Sent', skipped: 'Skipped', failed: 'Failed' };
const query = z.object({ status: z.enum(OUTBOX_STATUSES).optional().catch(undefined) });

export function callLogRoutes(deps: CallLogRoutesDeps): Router {
  const router = Router();
  const tenantOf = (req: Request) => deps.host.auth.currentUser(req).tenantId;

  router.get('/', async (req, res) => {
    const { status } = query.parse(req.query);
    const rows = await deps.store.callOutbox.recent(tenantOf(req), { limit: PAGE_ROWS, ...(status ? { status } : {}) });
    await deps.pages.render(req, res, 'calllog/index', 'Call log', {
      rows: rows.map(viewOf), status: status ?? '', statuses: OUTBOX_STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] })),
      notice: deps.kit.flash.take(req, res),
    });
  });

  router.post('/:id/retry', async (req, res) => {
    const id = Number(req.params.id);
    const tenantId = tenantOf(req);
    const row = Number.isSafeInteger(id) && id > 0 ? await deps.store.callOutbox.get(tenantId, id) : undefined;
    if (!row) return void (await deps.pages.render(req, res, 'error', 'Call not found', { message: 'This call is not in your call log (it may have been removed).' }, 404));
    const retried = await deps.store.callOutbox.retry(tenantId, id, RETRY_WINDOW_MS);
    if (retried) deps.onRetry?.();
    deps.kit.flash.set(req, res, retried ? `The call from ${row.call.externalNumber || 'an unknown number'} will be written into ${integrationLabel(row.integration)} again.` : 'Only a failed call can be retried; nothing was changed.');
    res.redirect(303, `${req.baseUrl}/?status=failed`);
  });

  return router;
}

function integrationLabel(integration: string): string {
  return isCrmKind(integration) ? CRM_LABELS[integration] : integration === 'custom' ? 'Custom CRM' : integration;
}

/** What one row of the page shows. */
function viewOf(row: OutboxRow) {
  const agent = row.call.agentName ? `${row.call.agentName} (${row.call.agentExtension ?? ''})` : (row.call.agentExtension ?? '');
  const detail = row.status === 'sent' ? (row.activityId ? `Record ${row.activityId}` : 'Written')
    : row.status === 'skipped' ? (row.skipReason ?? '')
    : row.errorCode ? `${row.errorCode}: ${row.errorMessage ?? ''}` : '';
  return {
    id: row.id,
    endedAt: row.endedAt.toISOString().replace('T', ' ').slice(0, 19),
    endedIso: row.endedAt.toISOString(),
    call: `${row.call.direction === 'inbound' ? 'Inbound' : 'Outbound'}, ${row.call.disposition}`,
    number: row.call.externalNumber || 'unknown',
    did: row.call.did ?? '',
    agent,
    talk: formatDuration(row.call.talkSeconds),
    rule: row.call.ruleName ?? '',
    crm: integrationLabel(row.integration),
    status: row.status,
    statusLabel: row.status === 'pending' && row.attempts > 0 ? `Pending (attempt ${row.attempts} failed; next ${row.nextAttemptAt.toISOString().slice(11, 19)} UTC)` : STATUS_LABELS[row.status],
    detail,
    /** Only https links are shown as links. */
    link: row.recordUrl && /^https:\/\//i.test(row.recordUrl) ? row.recordUrl : '',
    canRetry: row.status === 'failed',
  };
}
