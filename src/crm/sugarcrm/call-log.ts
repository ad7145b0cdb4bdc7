/**
 * The call log on SugarCRM (REST v11, crm-call-logging.md §6): one Calls record per call.
 *
 * `POST {base}/Calls` with our own `id` (a v5 UUID of the call's external id): name (50
 * characters), date_start/date_end (ISO 8601, +00:00), duration_hours + duration_minutes (the
 * talk time rounded up to whole minutes), status Held (answered) or Not Held, direction
 * Inbound/Outbound, description, parent_type/parent_id (the caller's record) and
 * assigned_user_id (the owner). A caller that is a Contact or Lead is then linked through
 * `POST {base}/Calls/{id}/link/contacts|leads/{recordId}` so the call shows on its subpanel.
 *
 * Sugar has no idempotency key, so the id is the key: `GET {base}/Calls/{id}` (findLoggedCall)
 * tells after a timeout whether the write happened, and a create Sugar refuses is checked the
 * same way before it counts as failed (how Sugar answers a second create with an existing id is
 * not documented [U]).
 *
 * The caller: Contacts, then Leads, then Accounts, with the lookup's phone search. Unknown:
 * skipped, or a Contact / Lead (last_name, phone_work) created first with an id derived from the
 * call. The owner: `POST {base}/Users/filter` on email_address (any of the user's addresses; [L] a public
 * Q&A, not Sugar's own docs), active users only, cached per e-mail.
 */
import { z } from 'zod';
import type { CallActivity, CallLogResult } from '../call-log-writer';
import type { Credentials } from '../integration';
import { logCallWithId, callLogResult, callUuid, sugarFamilyCallFields, unknownCallerName, WRITE_BUDGET_MS, WRITE_TIMEOUT_MS } from '../shared/call-log-support';
import { OWNER_READ, type OwnerEmailCache } from '../owner-lookup';
import { CrmError } from '../shared/crm-error';
import type { SugarCrmConnector } from './index';

const WHAT = 'SugarCRM';
const CALLER_MODULES = ['Contacts', 'Leads', 'Accounts'] as const;
/** The Calls link that puts the call on the caller's subpanel. */
const LINKS: Record<string, string> = { Contacts: 'contacts', Leads: 'leads' };
const usersSchema = z.object({ records: z.array(z.object({ id: z.string() })) });

interface Caller {
  module: string;
  id: string;
}

export class SugarCallLog {

  constructor(private readonly sugar: SugarCrmConnector, private readonly siteUrl: string, private readonly owners: OwnerEmailCache) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    return logCallWithId(WHAT, activity, signal, {
      caller: (deadlineAt) => this.caller(activity, credentials, signal, deadlineAt),
      owner: (email, deadlineAt) => this.owner(email, credentials, signal, deadlineAt),
      write: async ({ deadlineAt, caller, ownerId, id }) => {
        try {
          await this.sugar.send('POST', 'Calls', callBody(id, activity, caller, ownerId), credentials, signal, deadlineAt, undefined, { timeoutMs: WRITE_TIMEOUT_MS });
        } catch (err) {
          if (!(err instanceof CrmError && err.code === 'HTTP_ERROR' && (await this.exists(id, credentials, signal, deadlineAt)))) throw err;
        }
        const link = LINKS[caller.module];
        if (link) await this.sugar.send('POST', `Calls/${id}/link/${link}/${encodeURIComponent(caller.id)}`, {}, credentials, signal, deadlineAt, undefined, { timeoutMs: WRITE_TIMEOUT_MS });
        return this.written(id);
      },
    });
  }

  findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(WHAT, signal, async () => {
      const id = callUuid(externalId);
      return (await this.exists(id, credentials, signal, Date.now() + WRITE_BUDGET_MS)) ? this.written(id) : undefined;
    });
  }

  private written(id: string): CallLogResult {
    return { kind: 'written', activityId: id, recordUrl: `${this.siteUrl}/#Calls/${id}` };
  }

  private async exists(id: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<boolean> {
    const res = await this.sugar.send('GET', `Calls/${id}?fields=id`, undefined, credentials, signal, deadlineAt, undefined, { accept: [404], timeoutMs: WRITE_TIMEOUT_MS });
    return res.status !== 404;
  }

  private async caller(activity: CallActivity, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<Caller | undefined> {
    for (const module of CALLER_MODULES) {
      const found = await this.sugar.searchPhone(module, activity.externalNumber, [], credentials, signal, deadlineAt);
      if (found?.id) return { module, id: found.id };
    }
    if (activity.unknownCaller === 'skip') return undefined;
    const module = activity.unknownCaller === 'lead' ? 'Leads' : 'Contacts';
    const id = callUuid(activity.externalId, activity.unknownCaller);
    await this.sugar.send('POST', module, { id, last_name: unknownCallerName(activity), phone_work: activity.externalNumber }, credentials, signal, deadlineAt, undefined, { timeoutMs: WRITE_TIMEOUT_MS });
    return { module, id };
  }

  private owner(email: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<string | undefined> {
    return this.owners.idOf(credentials.username, email, async () => {
      const body = { filter: [{ email_address: { $equals: email } }, { status: { $equals: 'Active' } }], fields: 'id', max_num: 1 };
      const res = await this.sugar.send('POST', 'Users/filter', body, credentials, signal, deadlineAt, usersSchema, { timeoutMs: OWNER_READ.timeoutMs });
      return res.body?.records[0]?.id;
    });
  }
}

/** Sugar's ISO 8601 with an explicit +00:00, as in every REST sample. */
function sugarDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export function callBody(id: string, activity: CallActivity, caller: Caller, ownerId: string | undefined): Record<string, unknown> {
  return { id, ...sugarFamilyCallFields(activity, caller, ownerId, sugarDate) };
}
