/**
 * The call log on Dynamics CRM 2015 on-premises (OData v2, crm-call-logging.md §3): one
 * PhoneCall per call, `POST …/OrganizationData.svc/PhoneCallSet` with schema names: Subject,
 * Description, PhoneNumber, DirectionCode (true = outgoing), ActualDurationMinutes (whole
 * minutes, rounded up), ActualStart/ActualEnd (`/Date(ms)/`), Category (the disposition),
 * RegardingObjectId {Id, LogicalName} and OwnerId {Id, LogicalName: systemuser}.
 *
 * Written once: ActivityId is ours (a v5 UUID of the call's external id), so an earlier write is
 * found by key, `GET PhoneCallSet(guid'{id}')` (findLoggedCall, asked after a timeout); and a
 * create that fails is checked the same way, because CRM answers a repeated ActivityId with a
 * duplicate-key error whose shape is not documented [U].
 *
 * Left out on purpose: the activity parties (deep insert on this endpoint is unverified [U]; the
 * regarding link shows the call on the record) and closing the call (SetState needs the SOAP
 * endpoint on-premises; "update statecode" came with CRM Online 2015 Update 1 only): the
 * PhoneCall stays Open, with its outcome in Category.
 *
 * The caller: Contact, then Lead, then Account, with the lookup's phone search. An unknown caller
 * is skipped or becomes a Contact (LastName, Telephone1) or a Lead (LastName, Subject, Telephone1)
 * with an id derived from the call. The owner: `SystemUserSet?$filter=InternalEMailAddress eq
 * '{email}'`, cached per e-mail [U on the filter against a live 2015].
 */
import type { CallActivity, CallLogResult } from '../call-log-writer';
import type { Credentials } from '../integration';
import { logCallWithId, callLogResult, callUuid, durationMinutes, endedAt, notesWithRecording, unknownCallerName, WRITE_BUDGET_MS, WRITE_TIMEOUT_MS } from '../shared/call-log-support';
import { OWNER_READ, type OwnerEmailCache } from '../owner-lookup';
import { CrmError } from '../shared/crm-error';
import type { Dynamics2015Api } from './crm-2015';
import { truncate } from './call-log';
import { odataQuery, odataString } from './odata';

const WHAT = 'Dynamics CRM';
const CALLER_ENTITIES = ['Contact', 'Lead', 'Account'] as const;

interface Regarding {
  entity: string;
  id: string;
}

export class Dynamics2015CallLog {

  constructor(private readonly api: Dynamics2015Api, private readonly orgUrl: string, private readonly owners: OwnerEmailCache) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    return logCallWithId(WHAT, activity, signal, {
      caller: (deadlineAt) => this.caller(activity, credentials, signal, deadlineAt),
      owner: (email, deadlineAt) => this.owner(email, credentials, signal, deadlineAt),
      write: async ({ deadlineAt, caller, ownerId, id }) => {
        try {
          await this.api.send('POST', 'PhoneCallSet', credentials, signal, deadlineAt, { body: phoneCallBody(id, activity, caller, ownerId), timeoutMs: WRITE_TIMEOUT_MS });
        } catch (err) {
          // A repeated ActivityId is refused; the call is then already there.
          if (err instanceof CrmError && err.code === 'HTTP_ERROR' && (await this.exists(id, credentials, signal, deadlineAt))) return this.written(id);
          throw err;
        }
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
    return { kind: 'written', activityId: id, recordUrl: `${this.orgUrl}/main.aspx?etn=phonecall&pagetype=entityrecord&id=%7B${id}%7D` };
  }

  private async exists(id: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<boolean> {
    const res = await this.api.send('GET', `PhoneCallSet(guid'${id}')?${odataQuery([['$select', 'ActivityId']])}`, credentials, signal, deadlineAt, { accept: [404], timeoutMs: WRITE_TIMEOUT_MS });
    return res.status === 200;
  }

  private async caller(activity: CallActivity, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<Regarding | undefined> {
    for (const entity of CALLER_ENTITIES) {
      const found = await this.api.searchPhone(entity, activity.externalNumber, [], credentials, signal, deadlineAt);
      if (found && found.id) return { entity: entity.toLowerCase(), id: found.id };
    }
    if (activity.unknownCaller === 'skip') return undefined;
    const lead = activity.unknownCaller === 'lead';
    const id = callUuid(activity.externalId, activity.unknownCaller);
    const body: Record<string, unknown> = { [lead ? 'LeadId' : 'ContactId']: id, LastName: unknownCallerName(activity), Telephone1: activity.externalNumber };
    if (lead) body.Subject = truncate(activity.subject, 300);
    await this.api.send('POST', lead ? 'LeadSet' : 'ContactSet', credentials, signal, deadlineAt, { body, timeoutMs: WRITE_TIMEOUT_MS });
    return { entity: lead ? 'lead' : 'contact', id };
  }

  private owner(email: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<string | undefined> {
    return this.owners.idOf(credentials.username, email, async () => {
      const query = odataQuery([['$select', 'SystemUserId'], ['$filter', `InternalEMailAddress eq ${odataString(email)} and IsDisabled eq false`], ['$top', '1']]);
      const res = await this.api.send('GET', `SystemUserSet?${query}`, credentials, signal, deadlineAt, { timeoutMs: OWNER_READ.timeoutMs });
      const d = (res.body as { d?: unknown } | null)?.d;
      const results = Array.isArray(d) ? d : (d as { results?: unknown } | undefined)?.results;
      if (!Array.isArray(results)) throw new CrmError('BAD_RESPONSE', 'Dynamics CRM answered the user search in an unexpected shape.');
      const id = (results[0] as { SystemUserId?: unknown } | undefined)?.SystemUserId;
      return typeof id === 'string' ? id : undefined;
    });
  }
}

/** `/Date(ms)/`, OData v2's JSON date. */
function odataV2Date(date: Date): string {
  return `/Date(${date.getTime()})/`;
}

export function phoneCallBody(id: string, activity: CallActivity, caller: Regarding, ownerId: string | undefined): Record<string, unknown> {
  return {
    ActivityId: id,
    Subject: truncate(activity.subject, 200),
    Description: truncate(notesWithRecording(activity), 2000),
    PhoneNumber: truncate(activity.externalNumber, 200),
    DirectionCode: activity.direction === 'outbound',
    ActualDurationMinutes: durationMinutes(activity.durationSeconds),
    ActualStart: odataV2Date(activity.startedAt),
    ActualEnd: odataV2Date(endedAt(activity)),
    Category: activity.disposition,
    RegardingObjectId: { Id: caller.id, LogicalName: caller.entity },
    ...(ownerId ? { OwnerId: { Id: ownerId, LogicalName: 'systemuser' } } : {}),
  };
}
