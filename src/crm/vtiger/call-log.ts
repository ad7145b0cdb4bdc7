/**
 * The call log on Vtiger (webservice.php, crm-call-logging.md §8 option A): one Calendar event
 * per call, `operation=create&elementType=Events` with subject, assigned_user_id (the owner, else
 * the signed-in user), date_start/time_start and due_date/time_end (UTC as sent: whether the
 * webservice converts from the user's time zone is not verified [U]), duration_hours +
 * duration_minutes (talk time rounded up to whole minutes), eventstatus Held (answered) or
 * Not Held, activitytype Call, visibility Public, description, and the caller: contact_id for a
 * Contact, parent_id for a Lead or an Account.
 *
 * Vtiger has no idempotency of its own and no field for the call's key unless an administrator
 * adds one, so the description ends with a line `PBX call id: {externalId}` and findLoggedCall
 * asks `SELECT id FROM Events WHERE description LIKE '%PBX call id: {externalId}%'` [U: LIKE on
 * description through VTQL] before the worker writes again after a timeout.
 *
 * The caller: Contacts, then Leads, then Accounts, with the lookup's query. Unknown: skipped, or
 * a Contact (lastname, phone) or Lead (lastname, company, phone) created first. The owner:
 * `SELECT id FROM Users WHERE email1 = '{email}'` [U: Users through query], cached per e-mail.
 */
import type { CallActivity, CallLogResult } from '../call-log-writer';
import type { Credentials } from '../integration';
import { callLogResult, endedAt, heldStatus, hoursAndMinutes, notesWithRecording, unknownCallerName, UNKNOWN_SKIPPED, WRITE_BUDGET_MS } from '../shared/call-log-support';
import type { OwnerEmailCache } from '../owner-lookup';
import type { VtigerConnector, VtigerSession } from './index';
import { sqlLiteral } from './vtql';

const WHAT = 'Vtiger CRM';
const CALLER_MODULES = ['Contacts', 'Leads', 'Accounts'] as const;
const MARKER = 'PBX call id: ';

export class VtigerCallLog {

  constructor(private readonly vtiger: VtigerConnector, private readonly site: string, private readonly owners: OwnerEmailCache) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    return callLogResult(WHAT, signal, async () => {
      const deadlineAt = Date.now() + WRITE_BUDGET_MS;
      const caller = await this.caller(activity, credentials, signal, deadlineAt);
      if (!caller) return UNKNOWN_SKIPPED;
      return this.vtiger.withSession(credentials, signal, deadlineAt, async (session) => {
        const ownerId = (activity.ownerEmail ? await this.owner(session, activity.ownerEmail, signal) : undefined) ?? session.userId;
        const created = await this.vtiger.create(session, 'Events', eventElement(activity, caller, ownerId), signal);
        return this.written(created.id);
      });
    });
  }

  findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(WHAT, signal, () => this.vtiger.withSession(credentials, signal, Date.now() + WRITE_BUDGET_MS, async (session) => {
      const rows = await this.vtiger.query(session, `SELECT id FROM Events WHERE description LIKE ${sqlLiteral(`%${MARKER}${externalId}%`)} LIMIT 0,1;`, signal);
      const id = rows[0]?.id;
      return typeof id === 'string' ? this.written(id) : undefined;
    }));
  }

  private written(id: string): CallLogResult {
    return { kind: 'written', activityId: id, recordUrl: `${this.site}/index.php?module=Calendar&view=Detail&record=${id.replace(/^\d+x/, '')}` };
  }

  private async caller(activity: CallActivity, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<{ module: string; id: string } | undefined> {
    for (const module of CALLER_MODULES) {
      const found = await this.vtiger.searchPhone(module, activity.externalNumber, 'id', credentials, signal, deadlineAt);
      if (found?.id) return { module, id: found.id };
    }
    if (activity.unknownCaller === 'skip') return undefined;
    const module = activity.unknownCaller === 'lead' ? 'Leads' : 'Contacts';
    return this.vtiger.withSession(credentials, signal, deadlineAt, async (session) => {
      const ownerId = (activity.ownerEmail ? await this.owner(session, activity.ownerEmail, signal) : undefined) ?? session.userId;
      const element: Record<string, unknown> = { lastname: unknownCallerName(activity), phone: activity.externalNumber, assigned_user_id: ownerId };
      if (module === 'Leads') element.company = unknownCallerName(activity);
      const created = await this.vtiger.create(session, module, element, signal);
      return { module, id: created.id };
    });
  }

  private owner(session: VtigerSession, email: string, signal: AbortSignal): Promise<string | undefined> {
    return this.owners.idOf(session.userId, email, async () => {
      const rows = await this.vtiger.query(session, `SELECT id FROM Users WHERE email1 = ${sqlLiteral(email)} LIMIT 0,1;`, signal);
      const id = rows[0]?.id;
      return typeof id === 'string' ? id : undefined;
    });
  }
}

export function eventElement(activity: CallActivity, caller: { module: string; id: string }, ownerId: string): Record<string, unknown> {
  const [dateStart, timeStart] = utcParts(activity.startedAt);
  const [dueDate, timeEnd] = utcParts(endedAt(activity));
  const { hours, minutes } = hoursAndMinutes(activity.durationSeconds);
  return {
    subject: activity.subject,
    assigned_user_id: ownerId,
    date_start: dateStart,
    time_start: timeStart,
    due_date: dueDate,
    time_end: timeEnd,
    duration_hours: hours,
    duration_minutes: minutes,
    eventstatus: heldStatus(activity),
    activitytype: 'Call',
    visibility: 'Public',
    description: `${notesWithRecording(activity)}\n${MARKER}${activity.externalId}`,
    ...(caller.module === 'Contacts' ? { contact_id: caller.id } : { parent_id: caller.id }),
  };
}

function utcParts(date: Date): [string, string] {
  const iso = date.toISOString();
  return [iso.slice(0, 10), iso.slice(11, 19)];
}
