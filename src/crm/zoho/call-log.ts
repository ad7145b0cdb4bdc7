/**
 * Zoho CRM's call log: one Calls record per call, `POST {api_domain}/crm/v8/Calls` with
 * `{"data":[{...}]}` (v8 "Insert Records"; Calls fields as in Zoho's v8 SDK):
 * - Subject, Call_Type (Inbound / Outbound; Missed for an inbound call nobody answered),
 *   Call_Start_Time (ISO 8601 with an explicit offset, UTC here), Call_Duration as "mm:ss" (Zoho
 *   refuses a zero duration on an Inbound or Outbound call: an answered call counts at least one
 *   second), Description (notes, numbers, recording link, the external id), Caller_ID (inbound)
 *   or Dialled_Number (outbound);
 * - the caller: Who_Id {id} for a Contact (Who_Id takes Contacts only), else What_Id {id} with
 *   "$se_module": "Leads", found with the lookup's own phone search (Contacts, then Leads);
 * - Owner {id}: the active Zoho user whose e-mail is the agent's (`GET /crm/v8/users?type=
 *   ActiveUsers`, the whole list cached: the v8 API has no user search by e-mail).
 * An unknown caller is skipped, or created first as a Contact or a Lead (Last_Name, Phone).
 *
 * Zoho has no idempotency key for inserts. The external id is written into Description and
 * `findLoggedCall` looks for it with the Calls word search (`GET /crm/v8/Calls/search?word=`),
 * re-checking the Description of each hit. The outbox's own key table stays the first guard.
 * Scopes: scopes.ts (ZOHO_CALL_LOG_SCOPES) besides the lookup's.
 */
import { z } from 'zod';
import type { CallActivity, CallLogResult, CallLogWriter } from '../call-log-writer';
import type { Credentials } from '../integration';
import { CALL_LOG_TIMEOUT_MS, callLogResult, externalIdLine, unknownCallerName } from '../shared/call-log-result';
import { CrmError } from '../shared/crm-error';
import { OWNER_CACHE_TTL_MS } from '../owner-lookup';
import { MetadataCache } from '../shared/metadata-cache';
import { phoneVariants } from '../../domain/phone';
import { API, type ZohoConnector, type ZohoToken } from './index';
import { ZOHO_CALL_LOG_SCOPES, ZOHO_SCOPES } from './scopes';
import type { ZohoSettings } from './settings';

const WHAT = 'Zoho CRM';
const LIMITS = { timeoutMs: CALL_LOG_TIMEOUT_MS, maxBodyBytes: 1024 * 1024 };
const USERS_TTL_MS = OWNER_CACHE_TTL_MS;
const USERS_PAGE = 200;
const USERS_MAX_PAGES = 10;

const insertAnswer = z.looseObject({
  data: z.array(z.looseObject({ code: z.string().optional(), status: z.string().optional(), message: z.string().optional(), details: z.looseObject({ id: z.string().optional() }).optional() })).min(1),
});
const usersAnswer = z.looseObject({
  users: z.array(z.looseObject({ id: z.string(), email: z.string().nullable().optional(), status: z.string().optional() })).default([]),
  info: z.looseObject({ more_records: z.boolean().optional() }).optional(),
});
const callSearch = z.looseObject({ data: z.array(z.looseObject({ id: z.string(), Description: z.string().nullable().optional() })) });

/** Call_Duration: minutes and seconds ("01:35"; "75:00" for an hour and a quarter). */
export function zohoDuration(seconds: number, answered: boolean): string {
  const s = Math.max(answered ? 1 : 0, Math.round(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** Call_Start_Time: ISO 8601 with an explicit offset and no milliseconds, as Zoho wants it. */
export function zohoDateTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

export class ZohoCallLog implements CallLogWriter {
  private readonly users = new MetadataCache<Map<string, string>>(20, USERS_TTL_MS);

  constructor(private readonly connector: ZohoConnector, private readonly settings: ZohoSettings) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    // deadlineAt now: a 429 goes back to the outbox with its Retry-After, never waited out here.
    return callLogResult(WHAT, signal, () => this.connector.session(credentials, signal, Date.now(), (token) => this.write(activity, token, signal)));
  }

  findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(WHAT, signal, () => this.connector.session(credentials, signal, Date.now(), async (token) => {
      const query = { word: externalId, fields: 'id,Description', per_page: '10', page: '1' };
      const answer = await this.connector.get(token, `${API}/Calls/search`, query, signal, callSearch, [ZOHO_SCOPES.records, ZOHO_SCOPES.search], LIMITS);
      const line = externalIdLine(externalId);
      const hit = answer?.data.find((c) => (c.Description ?? '').split('\n').includes(line));
      return hit ? { kind: 'written' as const, activityId: hit.id } : undefined;
    }));
  }

  private async write(activity: CallActivity, token: ZohoToken, signal: AbortSignal): Promise<CallLogResult> {
    const phone = phoneVariants(activity.externalNumber, this.settings.region);
    let caller: { module: 'Contacts' | 'Leads'; id: string } | undefined;
    if (phone.national !== '') {
      const contact = await this.connector.findByPhone(token, 'Contacts', phone, [], signal, LIMITS);
      const lead = contact ? undefined : await this.connector.findByPhone(token, 'Leads', phone, [], signal, LIMITS);
      caller = contact ? { module: 'Contacts', id: contact.id } : lead ? { module: 'Leads', id: lead.id } : undefined;
    }
    if (!caller && activity.unknownCaller === 'skip') return { kind: 'skipped', reason: `No Zoho CRM Contact or Lead has the number ${activity.externalNumber || '(none)'}; unknown callers are not logged.` };
    const ownerId = activity.ownerEmail ? (await this.userIds(token, signal)).get(activity.ownerEmail.trim().toLowerCase()) : undefined;
    if (!caller) {
      const module = activity.unknownCaller === 'lead' ? 'Leads' : 'Contacts';
      const record: Record<string, unknown> = { Last_Name: unknownCallerName(activity.externalNumber), Phone: phone.e164 || activity.externalNumber };
      if (ownerId) record.Owner = { id: ownerId };
      caller = { module, id: await this.insert(token, module, record, signal) };
    }
    const id = await this.insert(token, 'Calls', callRecord(activity, caller, ownerId), signal);
    return { kind: 'written', activityId: id };
  }

  private async insert(token: ZohoToken, module: 'Calls' | 'Contacts' | 'Leads', record: Record<string, unknown>, signal: AbortSignal): Promise<string> {
    const need = [ZOHO_CALL_LOG_SCOPES[module.toLowerCase() as 'calls' | 'contacts' | 'leads']];
    const answer = await this.connector.send(token, 'POST', `${API}/${module}`, {}, { data: [record] }, signal, insertAnswer, need, LIMITS);
    const first = answer?.data[0];
    const id = first?.details?.id;
    if (first?.status !== 'success' || !id) {
      // A record-level refusal (MANDATORY_NOT_FOUND, INVALID_DATA...): the data, not the moment, is wrong.
      throw new CrmError('HTTP_ERROR', `Zoho CRM did not add the ${module} record: ${first?.code ?? 'no code'}${first?.message ? `: ${first.message.slice(0, 160)}` : ''}.`, { status: 400 });
    }
    return id;
  }

  /** Active users' e-mail (lower case) to id, read a page of 200 at a time and cached. */
  private userIds(token: ZohoToken, signal: AbortSignal): Promise<Map<string, string>> {
    return this.users.get(token.apiOrigin, async () => {
      const ids = new Map<string, string>();
      for (let page = 1; page <= USERS_MAX_PAGES; page += 1) {
        const answer = await this.connector.get(token, `${API}/users`, { type: 'ActiveUsers', per_page: String(USERS_PAGE), page: String(page) }, signal, usersAnswer, [ZOHO_CALL_LOG_SCOPES.users], LIMITS);
        for (const user of answer?.users ?? []) if (user.email) ids.set(user.email.toLowerCase(), user.id);
        if (!answer?.info?.more_records) break;
      }
      return ids;
    });
  }
}

/** The Calls record. */
export function callRecord(activity: CallActivity, caller: { module: 'Contacts' | 'Leads'; id: string }, ownerId: string | undefined): Record<string, unknown> {
  const inbound = activity.direction === 'inbound';
  const answered = activity.disposition === 'answered';
  const from = inbound ? activity.externalNumber : activity.pbxNumber;
  const to = inbound ? activity.pbxNumber : activity.externalNumber;
  const details = [
    `${activity.disposition[0]!.toUpperCase()}${activity.disposition.slice(1)} ${activity.direction} call from ${from || 'unknown'} to ${to || 'unknown'}.`,
    ...(activity.recordingUrl ? [`Recording: ${activity.recordingUrl}`] : []),
    externalIdLine(activity.externalId),
  ].join('\n');
  const record: Record<string, unknown> = {
    Subject: activity.subject.slice(0, 255),
    Call_Type: inbound ? (answered ? 'Inbound' : 'Missed') : 'Outbound',
    Call_Start_Time: zohoDateTime(activity.startedAt),
    Call_Duration: zohoDuration(activity.durationSeconds, answered),
    Description: `${activity.notes ? `${activity.notes.slice(0, 30_000 - details.length)}\n\n` : ''}${details}`,
    ...(inbound ? { Caller_ID: activity.externalNumber } : { Dialled_Number: activity.externalNumber }),
    ...(caller.module === 'Contacts' ? { Who_Id: { id: caller.id } } : { What_Id: { id: caller.id }, $se_module: 'Leads' }),
  };
  if (!inbound) record.Outgoing_Call_Status = 'Completed';
  if (ownerId) record.Owner = { id: ownerId };
  return record;
}
