/**
 * Pipedrive's call log: one call log per call, `POST /api/v1/callLogs` (v1 only; pipedrive/
 * client-nodejs v1 AddCallLogRequest, CallLogsApi):
 * - outcome (connected, no_answer, busy...; below), start_time and end_time as UTC
 *   "YYYY-MM-DD HH:MM:SS", duration in SECONDS (a string), from_phone_number and
 *   to_phone_number (which one is the caller's gives the direction: a call log has no direction
 *   field), subject, note (HTML: notes, the direction, the recording link, the external id);
 * - person_id and org_id: the caller's person, found with the lookup's own search (persons);
 * - user_id: the Pipedrive user whose e-mail is the agent's (`GET /api/v1/users/find?term=
 *   &search_by_email=1`, cached); else the API user (logging for another user needs the
 *   API user's right to act for others).
 * An unknown caller is skipped, or created first as a person (`POST /api/v2/persons`, name and
 * phone); `unknownCaller: 'lead'` also adds a lead for that person (`POST /api/v1/leads`) and
 * links the call log to it (lead_id). A recording is an uploaded file in Pipedrive, not a link,
 * so its URL goes into the note. OAuth apps need the phone-integration and contacts:full scopes.
 *
 * Pipedrive has no idempotency key. The external id goes into the note, and `findLoggedCall`
 * reads the API user's latest call logs (`GET /api/v1/callLogs?start=0&limit=50`) for it; that
 * list holds only the API user's call logs, so a call logged for another owner is then looked
 * for among the activities updated in the last 26 hours (`GET /api/v2/activities`, 50 pages
 * of 100 at most): Pipedrive keeps call logs as activities too. The outbox's own key table stays
 * the first guard.
 */
import { z } from 'zod';
import { phoneVariants } from '../../domain/phone';
import type { CallActivity, CallLogResult, CallLogWriter } from '../call-log-writer';
import type { Credentials } from '../integration';
import { CALL_LOG_TIMEOUT_MS, callLogResult, externalIdLine, unknownCallerName } from '../shared/call-log-result';
import { CrmError } from '../shared/crm-error';
import { OWNER_CACHE_ENTRIES, OWNER_CACHE_TTL_MS } from '../owner-lookup';
import { PIPEDRIVE_USERS_FIND_PATH } from './owners';
import { MetadataCache } from '../shared/metadata-cache';
import type { PipedriveConnector, PipedriveSettings, PipedriveToken } from './index';

const WHAT = 'Pipedrive';
const LIMITS = { timeoutMs: CALL_LOG_TIMEOUT_MS, maxBodyBytes: 512 * 1024 };
/** Call logs read back by findLoggedCall (Pipedrive's page limit). */
const RECENT_CALL_LOGS = '50';
/**
 * Activities read back by findLoggedCall: updated within the outbox's 24 hours of retries (and a
 * bit), up to 50 pages of 100. Only asked after a write whose answer never came; 3 pages missed the
 * call log when more than 300 activities changed in between (bench:calllog --crm pipedrive --faults:
 * 10 duplicates in 1,000 calls), so it reads on until Pipedrive has no more.
 */
const ACTIVITY_WINDOW_MS = 26 * 3600_000;
const ACTIVITY_PAGES = 50;

export const PIPEDRIVE_PATHS = {
  callLogs: '/api/v1/callLogs',
  usersFind: PIPEDRIVE_USERS_FIND_PATH,
  persons: '/api/v2/persons',
  leads: '/api/v1/leads',
  activities: '/api/v2/activities',
} as const;

/** `outcome` per disposition (Pipedrive: connected, no_answer, left_message, left_voicemail, wrong_number, busy). */
export const PIPEDRIVE_OUTCOMES: Record<CallActivity['disposition'], string> = {
  answered: 'connected',
  missed: 'no_answer',
  abandoned: 'no_answer',
  busy: 'busy',
  failed: 'no_answer',
};

const created = z.looseObject({ data: z.looseObject({ id: z.union([z.string(), z.number()]) }) });
const users = z.looseObject({ data: z.array(z.looseObject({ id: z.number(), email: z.string().nullable().optional(), active_flag: z.boolean().optional() })).nullable() });
const activities = z.looseObject({
  data: z.array(z.looseObject({ id: z.number(), note: z.string().nullable().optional() })).nullable(),
  additional_data: z.looseObject({ next_cursor: z.string().nullable().optional() }).nullable().optional(),
});
const callLogs = z.looseObject({ data: z.array(z.looseObject({ id: z.union([z.string(), z.number()]), note: z.string().nullable().optional() })).nullable() });

/** "YYYY-MM-DD HH:MM:SS" in UTC, as call logs take their times. */
export function pipedriveTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

export class PipedriveCallLog implements CallLogWriter {
  private readonly owners = new MetadataCache<number | undefined>(OWNER_CACHE_ENTRIES, OWNER_CACHE_TTL_MS);

  constructor(private readonly connector: PipedriveConnector, private readonly settings: PipedriveSettings) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    // deadlineAt now: a 429 goes back to the outbox with its Retry-After, never waited out here.
    return callLogResult(WHAT, signal, () => this.connector.session(credentials, signal, Date.now(), (token) => this.write(activity, token, signal)));
  }

  findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(WHAT, signal, () => this.connector.session(credentials, signal, Date.now(), async (token) => {
      const line = externalIdLine(externalId);
      const answer = await this.connector.get(token, PIPEDRIVE_PATHS.callLogs, { start: '0', limit: RECENT_CALL_LOGS }, signal, callLogs, LIMITS);
      const hit = (answer?.data ?? []).find((c) => hasLine(c.note, line));
      if (hit) return { kind: 'written' as const, activityId: String(hit.id) };
      return this.findActivity(line, token, signal);
    }));
  }

  /**
   * A call log written for another owner is not in the API user's list; Pipedrive keeps every call
   * log as an activity too ("call logs are also considered activities"), so the activities
   * updated since a day and a bit ago are read, newest first, a few pages at most.
   */
  private async findActivity(line: string, token: PipedriveToken, signal: AbortSignal): Promise<CallLogResult | undefined> {
    const since = new Date(Date.now() - ACTIVITY_WINDOW_MS).toISOString().slice(0, 19) + 'Z';
    let cursor: string | undefined;
    for (let page = 0; page < ACTIVITY_PAGES; page += 1) {
      const query: Record<string, string> = { updated_since: since, sort_by: 'update_time', sort_direction: 'desc', limit: '100', ...(cursor ? { cursor } : {}) };
      const answer = await this.connector.get(token, PIPEDRIVE_PATHS.activities, query, signal, activities, LIMITS);
      const hit = (answer?.data ?? []).find((a) => hasLine(a.note, line));
      if (hit) return { kind: 'written', activityId: String(hit.id) };
      cursor = answer?.additional_data?.next_cursor ?? undefined;
      if (!cursor) break;
    }
    return undefined;
  }

  private async write(activity: CallActivity, token: PipedriveToken, signal: AbortSignal): Promise<CallLogResult> {
    const phone = phoneVariants(activity.externalNumber, this.settings.region);
    let person = await this.connector.findPerson(token, phone, signal, LIMITS);
    if (!person && activity.unknownCaller === 'skip') return { kind: 'skipped', reason: `No Pipedrive person has the number ${activity.externalNumber || '(none)'}; unknown callers are not logged.` };
    const userId = activity.ownerEmail ? await this.ownerId(activity.ownerEmail, token, signal) : undefined;
    let leadId: string | undefined;
    if (!person) {
      person = { id: await this.createPerson(activity, phone.e164 || activity.externalNumber, userId, token, signal) };
      if (activity.unknownCaller === 'lead') leadId = await this.createLead(activity, person.id, userId, token, signal);
    }
    const body = callLogBody(activity, person, userId, leadId);
    const answer = await this.connector.send(token, 'POST', PIPEDRIVE_PATHS.callLogs, {}, body, signal, created, LIMITS);
    if (!answer) throw new CrmError('BAD_RESPONSE', 'Pipedrive created the call log but did not say its id.');
    return { kind: 'written', activityId: String(answer.data.id), recordUrl: `${this.connector.baseUrl}/person/${person.id}` };
  }

  private ownerId(email: string, token: PipedriveToken, signal: AbortSignal): Promise<number | undefined> {
    const key = email.trim().toLowerCase();
    return this.owners.get(`${this.connector.baseUrl}|${key}`, async () => {
      const answer = await this.connector.get(token, PIPEDRIVE_PATHS.usersFind, { term: key, search_by_email: '1' }, signal, users, LIMITS);
      return (answer?.data ?? []).find((u) => u.email?.toLowerCase() === key && u.active_flag !== false)?.id;
    });
  }

  private async createPerson(activity: CallActivity, phone: string, userId: number | undefined, token: PipedriveToken, signal: AbortSignal): Promise<number> {
    const body = { name: unknownCallerName(activity.externalNumber), phones: [{ value: phone, primary: true, label: 'work' }], ...(userId !== undefined ? { owner_id: userId } : {}) };
    const answer = await this.connector.send(token, 'POST', PIPEDRIVE_PATHS.persons, {}, body, signal, created, LIMITS);
    const id = Number(answer?.data.id);
    if (!Number.isInteger(id)) throw new CrmError('BAD_RESPONSE', 'Pipedrive created the person but did not say its id.');
    return id;
  }

  private async createLead(activity: CallActivity, personId: number, userId: number | undefined, token: PipedriveToken, signal: AbortSignal): Promise<string> {
    const body = { title: activity.subject.slice(0, 255) || unknownCallerName(activity.externalNumber), person_id: personId, ...(userId !== undefined ? { owner_id: userId } : {}) };
    const answer = await this.connector.send(token, 'POST', PIPEDRIVE_PATHS.leads, {}, body, signal, created, LIMITS);
    if (!answer) throw new CrmError('BAD_RESPONSE', 'Pipedrive created the lead but did not say its id.');
    return String(answer.data.id);
  }
}

/** Whether an HTML or plain note holds `line` as a line of its own. */
function hasLine(note: string | null | undefined, line: string): boolean {
  return (note ?? '').split(/<br\s*\/?>|\n|<\/?p>/).map((l) => l.trim()).includes(line);
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The call log's fields. */
export function callLogBody(activity: CallActivity, person: { id: number; orgId?: number }, userId: number | undefined, leadId: string | undefined): Record<string, unknown> {
  const inbound = activity.direction === 'inbound';
  const seconds = Math.max(0, Math.round(activity.durationSeconds));
  const end = new Date(activity.startedAt.getTime() + seconds * 1000);
  const lines = [
    ...(activity.notes ? activity.notes.split('\n') : []),
    `${inbound ? 'Inbound' : 'Outbound'} call, ${activity.disposition}.`,
    ...(activity.recordingUrl ? [`Recording: ${activity.recordingUrl}`] : []),
    externalIdLine(activity.externalId),
  ];
  const from = inbound ? activity.externalNumber : activity.pbxNumber;
  const to = inbound ? activity.pbxNumber : activity.externalNumber;
  return {
    subject: activity.subject.slice(0, 255),
    outcome: PIPEDRIVE_OUTCOMES[activity.disposition],
    start_time: pipedriveTime(activity.startedAt),
    end_time: pipedriveTime(end),
    duration: String(seconds),
    // to_phone_number is required: an inbound call without a DID is logged to the PBX itself.
    to_phone_number: to || 'PBX',
    ...(from ? { from_phone_number: from } : {}),
    note: lines.map(escapeHtml).join('<br>'),
    person_id: person.id,
    ...(person.orgId !== undefined ? { org_id: person.orgId } : {}),
    ...(leadId !== undefined ? { lead_id: leadId } : {}),
    ...(userId !== undefined ? { user_id: userId } : {}),
  };
}
