/**
 * The call log on Bullhorn (crm-call-logging.md §10): one Note per call, `PUT {restUrl}entity/Note`
 * with action ("Inbound Call" / "Outbound Call": the values of the corporation's
 * commentActionList setting are not checked [U]), comments (subject, notes, outcome), personReference
 * (the caller: a ClientContact, else a Candidate), commentingPerson (the agent's CorporateUser,
 * else the API user by default), minutesSpent (talk time rounded up to whole minutes), dateAdded
 * (the call's start, epoch ms) and externalID (the call's external id). With personReference and
 * commentingPerson set, Bullhorn makes the NoteEntity link itself.
 *
 * Bullhorn has no idempotency key, so the Note is looked up by externalID first,
 * `GET query/Note?where=externalID='{id}'&fields=id&count=1` [U: query on Note], in logCall and
 * in findLoggedCall: a retry after a timeout finds the earlier Note instead of writing a second.
 *
 * The caller: one FastFind for the number (the lookup's search), ClientContact before Candidate.
 * Unknown: skipped; "contact" creates a Candidate (a ClientContact needs a ClientCorporation the
 * plugin cannot choose; status "New Lead" [U on the corporation's status list]); "lead" is skipped
 * with its reason (a Bullhorn Lead needs an e-mail address). The owner: `query/CorporateUser?where=
 * email='{email}'` [U: permission], cached per e-mail.
 */
import { z } from 'zod';
import { phoneVariants, type CountryCode } from '../../domain/phone';
import type { CallActivity, CallLogResult } from '../call-log-writer';
import type { Credentials } from '../integration';
import { callLogResult, durationMinutes, notesWithRecording, unknownCallerName, UNKNOWN_SKIPPED, WRITE_BUDGET_MS } from '../shared/call-log-support';
import type { OwnerEmailCache } from '../owner-lookup';
import type { BullhornConnector, BullhornSession } from './index';

const WHAT = 'Bullhorn';
/** Person entities a Note can reference, in the order the caller is looked for. */
const PEOPLE = ['ClientContact', 'Candidate'] as const;
const idsSchema = z.object({ data: z.array(z.object({ id: z.number() })).default([]) });
const changeSchema = z.object({ changedEntityId: z.number() });

export class BullhornCallLog {

  constructor(private readonly bullhorn: BullhornConnector, private readonly region: CountryCode, private readonly owners: OwnerEmailCache) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    return callLogResult(WHAT, signal, () => this.bullhorn.withSession(credentials, signal, Date.now() + WRITE_BUDGET_MS, async (session) => {
      const earlier = await this.noteId(session, activity.externalId, signal);
      if (earlier !== undefined) return written(earlier);
      const person = await this.caller(session, activity, signal);
      if (typeof person !== 'number') return person;
      const owner = activity.ownerEmail ? await this.owner(session, activity.ownerEmail, signal) : undefined;
      const note = await this.bullhorn.rest(session, 'PUT', 'entity/Note', noteBody(activity, person, owner), changeSchema, signal);
      return written(note.changedEntityId);
    }));
  }

  findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(WHAT, signal, () => this.bullhorn.withSession(credentials, signal, Date.now() + WRITE_BUDGET_MS, async (session) => {
      const id = await this.noteId(session, externalId, signal);
      return id === undefined ? undefined : written(id);
    }));
  }

  private async noteId(session: BullhornSession, externalId: string, signal: AbortSignal): Promise<number | undefined> {
    const query = new URLSearchParams({ where: `externalID=${quote(externalId)}`, fields: 'id', count: '1' });
    return (await this.bullhorn.rest(session, 'GET', `query/Note?${query}`, undefined, idsSchema, signal)).data[0]?.id;
  }

  /** The person's id, or the result to answer instead (skipped). */
  private async caller(session: BullhornSession, activity: CallActivity, signal: AbortSignal): Promise<number | CallLogResult> {
    const phone = phoneVariants(activity.externalNumber, this.region);
    if (phone.e164 !== '') {
      const hits = await this.bullhorn.fastFind(session, phone, signal);
      for (const entity of PEOPLE) {
        const found = await this.bullhorn.bestOf(session, entity, hits, 'id', phone, signal);
        if (found) return found.id;
      }
    }
    if (activity.unknownCaller === 'skip') return UNKNOWN_SKIPPED;
    if (activity.unknownCaller === 'lead') return { kind: 'skipped', reason: 'The caller has no record, and Bullhorn cannot create a Lead without an e-mail address: choose "skip" or "contact" (a Candidate) for unknown callers.' };
    const name = unknownCallerName(activity);
    const candidate = { firstName: 'Caller', lastName: activity.externalNumber, name, status: 'New Lead', phone: activity.externalNumber };
    return (await this.bullhorn.rest(session, 'PUT', 'entity/Candidate', candidate, changeSchema, signal)).changedEntityId;
  }

  private owner(session: BullhornSession, email: string, signal: AbortSignal): Promise<number | undefined> {
    return this.owners.idOf('', email, async () => {
      const query = new URLSearchParams({ where: `email=${quote(email)}`, fields: 'id', count: '1' });
      return (await this.bullhorn.rest(session, 'GET', `query/CorporateUser?${query}`, undefined, idsSchema, signal)).data[0]?.id;
    });
  }
}

function written(id: number): CallLogResult {
  return { kind: 'written', activityId: String(id) };
}

/** A string literal of Bullhorn's where clause (SQL-like): single quotes, a quote inside doubled. */
function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function noteBody(activity: CallActivity, personId: number, ownerId: number | undefined): Record<string, unknown> {
  const outcome = `${activity.direction === 'inbound' ? 'Inbound' : 'Outbound'} call, ${activity.disposition}, ${activity.durationSeconds} s.`;
  return {
    action: activity.direction === 'inbound' ? 'Inbound Call' : 'Outbound Call',
    comments: `${activity.subject}\n${outcome}\n${notesWithRecording(activity)}`,
    personReference: { id: personId },
    ...(ownerId !== undefined ? { commentingPerson: { id: ownerId } } : {}),
    minutesSpent: durationMinutes(activity.durationSeconds),
    dateAdded: activity.startedAt.getTime(),
    externalID: activity.externalId,
  };
}
