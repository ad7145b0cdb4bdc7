/**
 * Zendesk's call log: one ticket per call carrying a voice comment, `POST /api/v2/tickets`
 * (developer.zendesk.com "Adding voice comments to tickets": no Talk licence needed) with
 * `Idempotency-Key: {external id}` (Support API introduction, "Idempotency": a repeat answers
 * the first ticket, `x-idempotency-lookup: hit`):
 * - requester_id: the caller's end user, found with the lookup's own phone search;
 * - assignee_id and voice_comment.answered_by_id: the agent whose e-mail is the agent's
 *   (`GET /api/v2/users/search?query={e-mail}`, re-checked to an agent or admin, cached);
 * - subject; external_id = the external id (also how `findLoggedCall` finds the ticket once the
 *   idempotency key has lapsed: `GET /api/v2/tickets?external_id=`); tags pbx_call, the
 *   direction and the disposition;
 * - voice_comment: from / to (the caller's number first on an inbound call), started_at (ISO
 *   8601), call_duration in SECONDS, recording_url when the host has one (without one Zendesk
 *   shows "Recording not available"), and the notes as its transcription_text: the Tickets API
 *   voice comment has no other text field.
 * An unknown caller is skipped, or created first as an end user (`POST /api/v2/users`, name,
 * phone, role end-user); Zendesk Support has no leads, so 'lead' creates an end user too.
 * Writes need the OAuth scope `write` besides `read` (sign-in.ts).
 */
import { z } from 'zod';
import { isSamePhone, phoneVariants } from '../../domain/phone';
import type { CallActivity, CallLogResult, CallLogWriter } from '../call-log-writer';
import type { ConnectorServices, Credentials } from '../integration';
import { CALL_LOG_TIMEOUT_MS, callLogResult, externalIdLine, unknownCallerName } from '../shared/call-log-result';
import { CrmError } from '../shared/crm-error';
import { OWNER_CACHE_ENTRIES, OWNER_CACHE_TTL_MS } from '../owner-lookup';
import { MetadataCache } from '../shared/metadata-cache';
import { requestJson } from '../shared/vendor-call';
import type { ZendeskConnector } from './index';
import type { ZendeskSettings } from './settings';
import type { ZendeskAuth } from './sign-in';

const WHAT = 'Zendesk';
const LIMITS = { timeoutMs: CALL_LOG_TIMEOUT_MS, maxBodyBytes: 512 * 1024 };

const ticketAnswer = z.looseObject({ ticket: z.looseObject({ id: z.number() }) });
const userAnswer = z.looseObject({ user: z.looseObject({ id: z.number() }) });
const usersAnswer = z.looseObject({ users: z.array(z.looseObject({ id: z.number(), email: z.string().nullable().optional(), role: z.string().optional(), active: z.boolean().optional() })).default([]) });
const ticketsAnswer = z.looseObject({ tickets: z.array(z.looseObject({ id: z.number(), external_id: z.string().nullable().optional() })).default([]) });

export class ZendeskCallLog implements CallLogWriter {
  private readonly agents = new MetadataCache<number | undefined>(OWNER_CACHE_ENTRIES, OWNER_CACHE_TTL_MS);

  constructor(private readonly connector: ZendeskConnector, private readonly settings: ZendeskSettings, private readonly services: ConnectorServices) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    // deadlineAt now: a 429 goes back to the outbox with its Retry-After, never waited out here.
    return callLogResult(WHAT, signal, () => this.connector.withAuth(credentials, signal, Date.now(), (auth) => this.write(activity, auth, signal)));
  }

  findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(WHAT, signal, () => this.connector.withAuth(credentials, signal, Date.now(), async (auth) => {
      const query = new URLSearchParams({ external_id: externalId });
      const res = await this.request(auth, 'GET', `/api/v2/tickets?${query}`, undefined, signal, ticketsAnswer);
      const hit = res.body?.tickets.find((t) => t.external_id === externalId);
      return hit ? this.written(hit.id) : undefined;
    }));
  }

  private async write(activity: CallActivity, auth: ZendeskAuth, signal: AbortSignal): Promise<CallLogResult> {
    const phone = phoneVariants(activity.externalNumber, this.settings.region);
    let requesterId = phone.national.length >= 5 ? (await this.connector.findUser(auth, phone.national, (stored) => isSamePhone(stored, phone), signal, LIMITS))?.record.id : undefined;
    if (requesterId === undefined && activity.unknownCaller === 'skip') return { kind: 'skipped', reason: `No Zendesk user has the number ${activity.externalNumber || '(none)'}; unknown callers are not logged.` };
    const agentId = activity.ownerEmail ? await this.agentId(activity.ownerEmail, auth, signal) : undefined;
    if (requesterId === undefined) {
      const user = { name: unknownCallerName(activity.externalNumber), phone: phone.e164 || activity.externalNumber, role: 'end-user' };
      const created = await this.request(auth, 'POST', '/api/v2/users', { user }, signal, userAnswer);
      requesterId = created.body?.user.id;
      if (requesterId === undefined) throw new CrmError('BAD_RESPONSE', 'Zendesk created the user but did not say its id.');
    }
    const res = await this.request(auth, 'POST', '/api/v2/tickets', { ticket: ticketBody(activity, requesterId, agentId) }, signal, ticketAnswer, { 'idempotency-key': activity.externalId });
    if (!res.body) throw new CrmError('BAD_RESPONSE', 'Zendesk created the ticket but did not say its id.');
    return this.written(res.body.ticket.id);
  }

  private written(ticketId: number): CallLogResult {
    return { kind: 'written', activityId: String(ticketId), recordUrl: `${this.connector.baseUrl}/agent/tickets/${ticketId}` };
  }

  private agentId(email: string, auth: ZendeskAuth, signal: AbortSignal): Promise<number | undefined> {
    const key = email.trim().toLowerCase();
    return this.agents.get(`${this.connector.baseUrl}|${key}`, async () => {
      const res = await this.request(auth, 'GET', `/api/v2/users/search?${new URLSearchParams({ query: key })}`, undefined, signal, usersAnswer);
      return res.body?.users.find((u) => u.email?.toLowerCase() === key && (u.role === 'agent' || u.role === 'admin') && u.active !== false)?.id;
    });
  }

  private request<T>(auth: ZendeskAuth, method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal, schema: z.ZodType<T>, headers: Record<string, string> = {}) {
    return requestJson(this.services.http, {
      method, url: `${this.connector.baseUrl}${path}`, signal, what: WHAT, ...LIMITS,
      headers: { authorization: auth.authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }, { schema });
  }
}

/** The ticket with its voice comment. */
export function ticketBody(activity: CallActivity, requesterId: number, agentId: number | undefined): Record<string, unknown> {
  const inbound = activity.direction === 'inbound';
  const answered = activity.disposition === 'answered';
  const from = inbound ? activity.externalNumber : activity.pbxNumber;
  const to = inbound ? activity.pbxNumber : activity.externalNumber;
  const transcription = [
    activity.notes,
    `${inbound ? 'Inbound' : 'Outbound'} call, ${activity.disposition}.`,
    externalIdLine(activity.externalId),
  ].filter(Boolean).join('\n');
  return {
    subject: activity.subject.slice(0, 255),
    requester_id: requesterId,
    ...(agentId !== undefined ? { assignee_id: agentId } : {}),
    external_id: activity.externalId,
    tags: ['pbx_call', `pbx_${activity.direction}`, `pbx_${activity.disposition}`],
    voice_comment: {
      from: from || 'unknown',
      to: to || 'unknown',
      ...(activity.recordingUrl ? { recording_url: activity.recordingUrl } : {}),
      started_at: activity.startedAt.toISOString(),
      call_duration: Math.max(0, Math.round(activity.durationSeconds)),
      ...(answered && agentId !== undefined ? { answered_by_id: agentId } : {}),
      transcription_text: transcription,
    },
  };
}
