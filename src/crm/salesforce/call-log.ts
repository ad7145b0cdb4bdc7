/**
 * Salesforce's call log: one logged call per call, a Task with TaskSubtype = Call
 * (`POST {instance}/services/data/v60.0/sobjects/Task`; Task object reference):
 * - WhoId: the caller's Contact (else Lead), found with the lookup's own SOSL phone search;
 * - Subject (255), Description (notes, start time, numbers, recording link; 32,000), Status
 *   Completed (a closed status: a logged call is done), Priority Normal, ActivityDate (a Task has
 *   a date only, UTC; the exact start is in Description);
 * - CallType Inbound / Outbound, CallDisposition (the call's result as text: Connected, Missed,
 *   Abandoned, Busy, Failed), CallDurationInSeconds (seconds), CallObject = the external id;
 * - OwnerId: the active User whose Email is the agent's (SOQL, cached); else the API user.
 * An unknown caller is skipped, or created first as a Contact (LastName, Phone) or a Lead
 * (LastName, Company "[not provided]", Phone: Company is required on Leads).
 *
 * Salesforce's REST sObject create has no idempotency key, and SOQL reads its own writes: each
 * write first asks `SELECT Id FROM Task WHERE CallObject = '{external id}'` and answers the Task
 * found instead of writing a second; `findLoggedCall` asks the same.
 */
import { z } from 'zod';
import type { CallActivity, CallLogResult, CallLogWriter } from '../call-log-writer';
import type { Credentials } from '../integration';
import { CALL_LOG_TIMEOUT_MS, callLogResult, externalIdLine, minutesSeconds, unknownCallerName } from '../shared/call-log-result';
import { CrmError } from '../shared/crm-error';
import { OWNER_CACHE_ENTRIES, OWNER_CACHE_TTL_MS } from '../owner-lookup';
import { MetadataCache } from '../shared/metadata-cache';
import { phoneVariants } from '../../domain/phone';
import { API, type SalesforceConnector, type SalesforceSession } from './index';
import type { SalesforceSettings } from './settings';

const WHAT = 'Salesforce';
const LIMITS = { timeoutMs: CALL_LOG_TIMEOUT_MS };

/** CallDisposition ("Call Result", free text) per disposition. */
export const SALESFORCE_RESULTS: Record<CallActivity['disposition'], string> = {
  answered: 'Connected',
  missed: 'Missed',
  abandoned: 'Abandoned',
  busy: 'Busy',
  failed: 'Failed',
};

const queryAnswer = z.looseObject({ totalSize: z.number().optional(), records: z.array(z.looseObject({ Id: z.string() })) });
const created = z.looseObject({ id: z.string().min(1), success: z.boolean().optional() });

/** A SOQL string literal: quotes and backslashes escaped, line breaks refused. */
export function soqlString(value: string): string {
  if (/[\r\n]/.test(value)) throw new CrmError('CONFIG', 'A value for a Salesforce query holds a line break.');
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

export class SalesforceCallLog implements CallLogWriter {
  private readonly owners = new MetadataCache<string | undefined>(OWNER_CACHE_ENTRIES, OWNER_CACHE_TTL_MS);

  constructor(private readonly connector: SalesforceConnector, private readonly settings: SalesforceSettings) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    // deadlineAt now: a 429 goes back to the outbox with its Retry-After, never waited out here.
    return callLogResult(WHAT, signal, () => this.connector.session(credentials, signal, Date.now(), (session) => this.write(activity, session, signal)));
  }

  findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(WHAT, signal, () => this.connector.session(credentials, signal, Date.now(), (session) => this.findTask(externalId, session, signal)));
  }

  private async findTask(externalId: string, session: SalesforceSession, signal: AbortSignal): Promise<CallLogResult | undefined> {
    const soql = `SELECT Id FROM Task WHERE CallObject = ${soqlString(externalId)} LIMIT 1`;
    const answer = await this.connector.get(session, `${API}/query/?q=${encodeURIComponent(soql)}`, signal, queryAnswer, LIMITS);
    const id = answer?.records[0]?.Id;
    return id ? { kind: 'written', activityId: id, recordUrl: `${session.instanceUrl}/${id}` } : undefined;
  }

  private async write(activity: CallActivity, session: SalesforceSession, signal: AbortSignal): Promise<CallLogResult> {
    const already = await this.findTask(activity.externalId, session, signal);
    if (already) return already;
    const phone = phoneVariants(activity.externalNumber, this.settings.region);
    let whoId: string | undefined;
    if (phone.national.length >= 2) {
      whoId = (await this.connector.findByPhone(session, 'Contact', phone, [], signal, LIMITS))?.id
        ?? (await this.connector.findByPhone(session, 'Lead', phone, [], signal, LIMITS))?.id;
    }
    if (whoId === undefined && activity.unknownCaller === 'skip') return { kind: 'skipped', reason: `No Salesforce Contact or Lead has the number ${activity.externalNumber || '(none)'}; unknown callers are not logged.` };
    const ownerId = activity.ownerEmail ? await this.ownerId(activity.ownerEmail, session, signal) : undefined;
    if (whoId === undefined) {
      whoId = await this.createCaller(activity, phone.e164 || activity.externalNumber, ownerId, session, signal);
    }
    const answer = await this.connector.send(session, 'POST', `${API}/sobjects/Task`, taskBody(activity, whoId, ownerId), signal, created, LIMITS);
    if (!answer) throw new CrmError('BAD_RESPONSE', 'Salesforce created the Task but did not say its Id.');
    return { kind: 'written', activityId: answer.id, recordUrl: `${session.instanceUrl}/${answer.id}` };
  }

  private ownerId(email: string, session: SalesforceSession, signal: AbortSignal): Promise<string | undefined> {
    const key = email.trim().toLowerCase();
    return this.owners.get(`${session.instanceUrl}|${key}`, async () => {
      const soql = `SELECT Id FROM User WHERE Email = ${soqlString(key)} AND IsActive = true LIMIT 2`;
      const answer = await this.connector.get(session, `${API}/query/?q=${encodeURIComponent(soql)}`, signal, queryAnswer, LIMITS);
      // Two active users with one e-mail: no way to tell, so the API user keeps the Task.
      return answer?.records.length === 1 ? answer.records[0]!.Id : undefined;
    });
  }

  private async createCaller(activity: CallActivity, phone: string, ownerId: string | undefined, session: SalesforceSession, signal: AbortSignal): Promise<string> {
    const object = activity.unknownCaller === 'lead' ? 'Lead' : 'Contact';
    const body: Record<string, string> = { LastName: unknownCallerName(activity.externalNumber), Phone: phone };
    if (object === 'Lead') body.Company = '[not provided]';
    if (ownerId) body.OwnerId = ownerId;
    const answer = await this.connector.send(session, 'POST', `${API}/sobjects/${object}`, body, signal, created, LIMITS);
    if (!answer) throw new CrmError('BAD_RESPONSE', `Salesforce created the ${object} but did not say its Id.`);
    return answer.id;
  }
}

/** The Task's fields. */
export function taskBody(activity: CallActivity, whoId: string, ownerId: string | undefined): Record<string, unknown> {
  const inbound = activity.direction === 'inbound';
  const from = inbound ? activity.externalNumber : activity.pbxNumber;
  const to = inbound ? activity.pbxNumber : activity.externalNumber;
  const details = [
    `Started ${activity.startedAt.toISOString()}, talk time ${minutesSeconds(activity.durationSeconds)}.`,
    `From ${from || 'unknown'} to ${to || 'unknown'}.`,
    ...(activity.recordingUrl ? [`Recording: ${activity.recordingUrl}`] : []),
    externalIdLine(activity.externalId),
  ].join('\n');
  return {
    Subject: activity.subject.slice(0, 255),
    TaskSubtype: 'Call',
    Status: 'Completed',
    Priority: 'Normal',
    ActivityDate: activity.startedAt.toISOString().slice(0, 10),
    CallType: inbound ? 'Inbound' : 'Outbound',
    CallDisposition: SALESFORCE_RESULTS[activity.disposition],
    CallDurationInSeconds: Math.max(0, Math.round(activity.durationSeconds)),
    CallObject: activity.externalId,
    // The details (and the external id) always fit: the notes give way.
    Description: `${activity.notes ? `${activity.notes.slice(0, 32_000 - details.length - 2)}\n\n` : ''}${details}`,
    WhoId: whoId,
    ...(ownerId ? { OwnerId: ownerId } : {}),
  };
}
