/**
 * The call log on Dynamics 365 / Dataverse (crm-call-logging.md §3): one phonecall activity per
 * call, written once by Dataverse itself.
 *
 * The activity's id is ours (a v5 UUID of the call's external id), created with
 * `PATCH /phonecalls({id})` and `If-None-Match: *`: 204 is created, 412 means an earlier attempt
 * (one that timed out, say) already created it. Body: subject, description (2,000 characters at
 * most), phonenumber, directioncode (true = outgoing), actualdurationminutes (whole minutes,
 * rounded up), actualstart/actualend (UTC), category (the disposition), leftvoicemail false,
 * `regardingobjectid_{entity}_phonecall@odata.bind`, the from/to parties (1 = Sender,
 * 2 = ToRecipient: the caller's record and the owner) and `ownerid@odata.bind`. statecode is not
 * valid on create, so a second PATCH completes it: statuscode 2 Made (outgoing) or 4 Received.
 * After a 412 the state is read and only set when the activity is still open.
 *
 * The caller: contact, then lead, then account, each with the lookup's phone search. An unknown
 * caller is skipped or becomes a contact (lastname, telephone1) or a lead (lastname, subject,
 * telephone1), created the same idempotent way with an id derived from the call.
 * The owner: `systemusers?$filter=internalemailaddress eq '{email}'`, cached per e-mail.
 */
import type { CallActivity, CallLogResult } from '../call-log-writer';
import type { Credentials } from '../integration';
import { logCallWithId, callLogResult, callUuid, durationMinutes, endedAt, notesWithRecording, unknownCallerName, WRITE_BUDGET_MS, WRITE_TIMEOUT_MS } from '../shared/call-log-support';
import { OWNER_READ, type OwnerEmailCache } from '../owner-lookup';
import { CrmError } from '../shared/crm-error';
import type { Dynamics365Api } from './dynamics-365';
import { odataQuery, odataString } from './odata';

const WHAT = 'Dynamics 365';
/** Where the caller is looked for, in this order. */
const CALLER_ENTITIES = ['contact', 'lead', 'account'] as const;
const DESCRIPTION_MAX = 2000;
const SUBJECT_MAX = 200;
const CREATE_ONLY = { 'If-None-Match': '*' };

interface Party {
  entity: string;
  set: string;
  id: string;
}

export class Dynamics365CallLog {

  constructor(private readonly api: Dynamics365Api, private readonly orgUrl: string, private readonly owners: OwnerEmailCache) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    return logCallWithId(WHAT, activity, signal, {
      caller: (deadlineAt) => this.caller(activity, credentials, signal, deadlineAt),
      owner: (email, deadlineAt) => this.owner(email, credentials, signal, deadlineAt),
      write: async ({ deadlineAt, caller, ownerId, id }) => {
        const created = await this.api.send('PATCH', `phonecalls(${id})`, credentials, signal, deadlineAt, {
          body: phonecallBody(activity, caller, ownerId), headers: CREATE_ONLY, accept: [204, 412], timeoutMs: WRITE_TIMEOUT_MS,
        });
        if (created.status === 412 && (await this.isClosed(id, credentials, signal, deadlineAt))) return this.written(id);
        const received = activity.direction === 'inbound';
        await this.api.send('PATCH', `phonecalls(${id})`, credentials, signal, deadlineAt, {
          body: { statecode: 1, statuscode: received ? 4 : 2 }, headers: { 'If-Match': '*' }, accept: [204], timeoutMs: WRITE_TIMEOUT_MS,
        });
        return this.written(id);
      },
    });
  }

  /**
   * The worker asks after a timeout. A phonecall still open (the attempt ended between its two
   * PATCHes) counts as not written: logCall again is harmless here and completes it.
   */
  findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(WHAT, signal, async () => {
      const id = callUuid(externalId);
      const res = await this.api.send('GET', `phonecalls(${id})?${odataQuery([['$select', 'statecode']])}`, credentials, signal, Date.now() + WRITE_BUDGET_MS, { accept: [404], timeoutMs: WRITE_TIMEOUT_MS });
      const open = (res.body as { statecode?: unknown } | null)?.statecode === 0;
      return res.status === 404 || open ? undefined : this.written(id);
    });
  }

  private written(id: string): CallLogResult {
    return { kind: 'written', activityId: id, recordUrl: `${this.orgUrl}/main.aspx?pagetype=entityrecord&etn=phonecall&id=${id}` };
  }

  private async isClosed(id: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<boolean> {
    const res = await this.api.send('GET', `phonecalls(${id})?${odataQuery([['$select', 'statecode']])}`, credentials, signal, deadlineAt, { timeoutMs: WRITE_TIMEOUT_MS });
    return (res.body as { statecode?: unknown } | null)?.statecode !== 0;
  }

  /** The caller's record, or the one created for an unknown caller; undefined: skip. */
  private async caller(activity: CallActivity, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<Party | undefined> {
    for (const entity of CALLER_ENTITIES) {
      const found = await this.api.searchPhone(entity, activity.externalNumber, [], credentials, signal, deadlineAt).catch((err: unknown) => {
        // Leads come with Dynamics 365 Sales; a bare Dataverse environment has no leads set.
        if (entity === 'lead' && err instanceof CrmError && err.code === 'NOT_FOUND_URL') return undefined;
        throw err;
      });
      if (found && found.id) return { entity: found.entity, set: found.set, id: found.id };
    }
    if (activity.unknownCaller === 'skip') return undefined;
    const entity = activity.unknownCaller;
    const set = entity === 'lead' ? 'leads' : 'contacts';
    const id = callUuid(activity.externalId, entity);
    const body: Record<string, unknown> = { lastname: unknownCallerName(activity), telephone1: activity.externalNumber };
    if (entity === 'lead') body.subject = truncate(activity.subject, 300);
    await this.api.send('PATCH', `${set}(${id})`, credentials, signal, deadlineAt, { body, headers: CREATE_ONLY, accept: [204, 412], timeoutMs: WRITE_TIMEOUT_MS });
    return { entity, set, id };
  }

  private owner(email: string, credentials: Credentials, signal: AbortSignal, deadlineAt: number): Promise<string | undefined> {
    return this.owners.idOf(credentials.username, email, async () => {
      const query = odataQuery([['$select', 'systemuserid'], ['$filter', `internalemailaddress eq ${odataString(email)} and isdisabled eq false`], ['$top', '1']]);
      const res = await this.api.send('GET', `systemusers?${query}`, credentials, signal, deadlineAt, { timeoutMs: OWNER_READ.timeoutMs });
      const value = (res.body as { value?: Array<{ systemuserid?: unknown }> } | null)?.value;
      if (!Array.isArray(value)) throw new CrmError('BAD_RESPONSE', 'Dynamics 365 answered the user search in an unexpected shape.');
      const id = value[0]?.systemuserid;
      return typeof id === 'string' ? id : undefined;
    });
  }
}

export function phonecallBody(activity: CallActivity, caller: Party, ownerId: string | undefined): Record<string, unknown> {
  const callerParty = { [`partyid_${caller.entity}@odata.bind`]: `/${caller.set}(${caller.id})` };
  const ownerParty = ownerId ? { 'partyid_systemuser@odata.bind': `/systemusers(${ownerId})` } : undefined;
  const [from, to] = activity.direction === 'inbound' ? [callerParty, ownerParty] : [ownerParty, callerParty];
  const parties = [
    ...(from ? [{ participationtypemask: 1, ...from }] : []),
    ...(to ? [{ participationtypemask: 2, ...to }] : []),
  ];
  return {
    subject: truncate(activity.subject, SUBJECT_MAX),
    description: truncate(notesWithRecording(activity), DESCRIPTION_MAX),
    phonenumber: truncate(activity.externalNumber, 200),
    directioncode: activity.direction === 'outbound',
    actualdurationminutes: durationMinutes(activity.durationSeconds),
    actualstart: activity.startedAt.toISOString(),
    actualend: endedAt(activity).toISOString(),
    category: activity.disposition,
    leftvoicemail: false,
    [`regardingobjectid_${caller.entity}_phonecall@odata.bind`]: `/${caller.set}(${caller.id})`,
    ...(ownerId ? { 'ownerid@odata.bind': `/systemusers(${ownerId})` } : {}),
    phonecall_activity_parties: parties,
  };
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
