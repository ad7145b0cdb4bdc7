/**
 * The call log on SuiteCRM (crm-call-logging.md §7): one Calls record per call, through the
 * integration's protocol.
 * - V8: `POST V8/module` {type: Calls, id: ours, attributes}; SuiteCRM refuses an id that
 *   exists, so a retry cannot duplicate. Then `POST V8/module/Calls/{id}/relationships/contacts`
 *   (or leads).
 * - v4_1: check, then create: `get_entry` Calls {id}, and only when absent `set_entry` with our id
 *   and new_with_id; then `set_relationship` Calls {id} contacts (or leads).
 * The id is a v5 UUID of the call's external id, so findLoggedCall asks for it by id.
 *
 * Fields (Calls vardefs): name, date_start / date_end naive UTC `Y-m-d H:i:s` (stored as sent),
 * duration_hours + duration_minutes (talk time rounded up to whole minutes), status Held
 * (answered) or Not Held, direction Inbound/Outbound, description, parent_type/parent_id (the
 * caller's record), assigned_user_id (the owner).
 *
 * The caller: Contacts, then Leads, then Accounts, with the lookup's phone search. Unknown:
 * skipped, or a Contact / Lead (last_name, phone_work) created first with an id derived from the
 * call. The owner: v4_1 by e-mail; V8 by a user_name equal to the e-mail (see v8.ts), cached.
 */
import type { CallActivity, CallLogResult } from '../call-log-writer';
import type { Credentials } from '../integration';
import { logCallWithId, callLogResult, callUuid, naiveUtc, sugarFamilyCallFields, unknownCallerName, WRITE_BUDGET_MS } from '../shared/call-log-support';
import type { OwnerEmailCache } from '../owner-lookup';
import type { CachedToken } from '../shared/token-cache';
import type { SuiteCrmConnector } from './index';
import { SUITECRM } from './protocol';

const CALLER_MODULES = ['Contacts', 'Leads', 'Accounts'] as const;
const LINKS: Record<string, string> = { Contacts: 'contacts', Leads: 'leads' };

export class SuiteCrmCallLog<S extends CachedToken> {

  constructor(private readonly suite: SuiteCrmConnector<S>, private readonly site: string, private readonly owners: OwnerEmailCache) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    return logCallWithId(SUITECRM, activity, signal, {
      caller: (deadlineAt) => this.caller(activity, credentials, signal, deadlineAt),
      owner: (email, deadlineAt) => this.owner(email, credentials, signal, deadlineAt),
      write: async ({ deadlineAt, caller, ownerId, id }) => {
        const { protocol } = this.suite;
        await this.suite.withSession(credentials, signal, deadlineAt, async (session) => {
          await protocol.create(session, 'Calls', id, callFields(activity, caller, ownerId), signal);
          const link = LINKS[caller.module];
          if (link) await protocol.link(session, 'Calls', id, link, caller, signal);
        });
        return this.written(id);
      },
    });
  }

  findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(SUITECRM, signal, async () => {
      const id = callUuid(externalId);
      const found = await this.suite.withSession(credentials, signal, Date.now() + WRITE_BUDGET_MS, (session) => this.suite.protocol.exists(session, 'Calls', id, signal));
      return found ? this.written(id) : undefined;
    });
  }

  private written(id: string): CallLogResult {
    return { kind: 'written', activityId: id, recordUrl: `${this.site}/index.php?module=Calls&action=DetailView&record=${id}` };
  }

  private async caller(activity: CallActivity, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<{ module: string; id: string } | undefined> {
    for (const module of CALLER_MODULES) {
      const found = await this.suite.searchPhone(module, activity.externalNumber, 'id', credentials, signal, deadlineAt);
      if (found?.id) return { module, id: found.id };
    }
    if (activity.unknownCaller === 'skip') return undefined;
    const module = activity.unknownCaller === 'lead' ? 'Leads' : 'Contacts';
    const id = callUuid(activity.externalId, activity.unknownCaller);
    await this.suite.withSession(credentials, signal, deadlineAt, (session) =>
      this.suite.protocol.create(session, module, id, { last_name: unknownCallerName(activity), phone_work: activity.externalNumber }, signal));
    return { module, id };
  }

  private owner(email: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<string | undefined> {
    return this.owners.idOf(credentials.username, email, () =>
      this.suite.withSession(credentials, signal, deadlineAt, (session) => this.suite.protocol.findUser(session, email, signal)));
  }
}

export function callFields(activity: CallActivity, caller: { module: string; id: string }, ownerId: string | undefined): Record<string, string | number> {
  return sugarFamilyCallFields(activity, caller, ownerId, naiveUtc);
}
