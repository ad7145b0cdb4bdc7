/**
 * HubSpot's call log: one call engagement per call, `POST {base}/crm/objects/{version}/calls`
 * with `{properties, associations}` (developers.hubspot.com, "Calls" guide):
 * - hs_timestamp (start, Unix ms), hs_call_title (subject), hs_call_body (notes), hs_call_direction
 *   (INBOUND / OUTBOUND, from the HubSpot user's side; the body is HTML: notes escaped), hs_call_status and hs_call_disposition
 *   (HubSpot's default outcome GUIDs, below), hs_call_duration in MILLISECONDS,
 *   hs_call_from_number / hs_call_to_number, hs_call_recording_url (https only), hubspot_owner_id
 *   (an owner's `id`, never its userId), hs_call_external_id (the call's external id).
 * - associations: the caller's contact, HUBSPOT_DEFINED type 194 (call to contact): a call
 *   without one is stored but shows on no timeline.
 * The caller's contact is found with the lookup's own search (HubSpotConnector.findByPhone). An
 * unknown caller is skipped or created first as a contact (`unknownCaller: 'lead'` creates it
 * with lifecyclestage "lead": HubSpot's leads are contacts at that stage). The owner id comes from
 * the connector's owners API read by e-mail (HubSpotConnector.ownerIdByEmail, owners.ts), cached
 * like the owner routing's reads by id.
 *
 * HubSpot has no idempotency key. The external id goes into hs_call_external_id (the property
 * HubSpot's calling apps use for their own call ids) and `findLoggedCall` searches calls on it
 * (EQ). HubSpot's search lags writes by a few seconds, so the outbox's own key table stays the
 * first guard; this is the second, after a timeout.
 */
import { z } from 'zod';
import type { CallActivity, CallLogResult, CallLogWriter } from '../call-log-writer';
import type { Credentials } from '../integration';
import { CALL_LOG_TIMEOUT_MS, callLogResult, externalIdLine, unknownCallerName } from '../shared/call-log-result';
import { CrmError } from '../shared/crm-error';
import { phoneVariants } from '../../domain/phone';
import { HUBSPOT_API_VERSION } from './api-version';
import type { Auth, HubSpotConnector, HubSpotToken } from './index';
import type { HubSpotSettings } from './settings';

const WHAT = 'HubSpot';
const LIMITS = { timeoutMs: CALL_LOG_TIMEOUT_MS };

export const hubspotCallPaths = {
  calls: `/crm/objects/${HUBSPOT_API_VERSION}/calls`,
  contacts: `/crm/objects/${HUBSPOT_API_VERSION}/contacts`,
} as const;

/** HUBSPOT_DEFINED association type: call to contact. */
export const CALL_TO_CONTACT = 194;

/** HubSpot's default call outcomes (hs_call_disposition GUIDs of every account). */
export const HUBSPOT_OUTCOMES = {
  busy: '9d9162e7-6cf3-4944-bf63-4dff82258764',
  connected: 'f240bbac-87c9-4f6e-bf70-924b57d47db7',
  noAnswer: '73a0d17f-1163-4015-bdd5-ec830791da20',
} as const;

/** Each disposition as hs_call_status and outcome (failed calls carry no outcome: none fits). */
export const HUBSPOT_STATUS: Record<CallActivity['disposition'], { status: string; outcome?: string }> = {
  answered: { status: 'COMPLETED', outcome: HUBSPOT_OUTCOMES.connected },
  missed: { status: 'NO_ANSWER', outcome: HUBSPOT_OUTCOMES.noAnswer },
  abandoned: { status: 'CANCELED', outcome: HUBSPOT_OUTCOMES.noAnswer },
  busy: { status: 'BUSY', outcome: HUBSPOT_OUTCOMES.busy },
  failed: { status: 'FAILED' },
};

const created = z.looseObject({ id: z.string().min(1) });
const callSearch = z.looseObject({ results: z.array(z.looseObject({ id: z.string(), properties: z.record(z.string(), z.unknown()).default({}) })) });

export class HubSpotCallLog implements CallLogWriter {
  constructor(private readonly connector: HubSpotConnector, private readonly settings: HubSpotSettings) {}

  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult> {
    // deadlineAt now: a 429 is handed to the outbox with its Retry-After, never waited out here.
    return callLogResult(WHAT, signal, () => this.connector.session(credentials, signal, Date.now(), (token, auth) => this.write(activity, token, auth, signal)));
  }

  async findLoggedCall(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined> {
    return callLogResult(WHAT, signal, () => this.connector.session(credentials, signal, Date.now(), async (token, auth) => {
      const body = {
        filterGroups: [{ filters: [{ propertyName: 'hs_call_external_id', operator: 'EQ', value: externalId }] }],
        sorts: [{ propertyName: 'hs_timestamp', direction: 'ASCENDING' }],
        properties: ['hs_call_external_id'],
        limit: 1,
      };
      const answer = await this.connector.send(token, auth, 'POST', `${hubspotCallPaths.calls}/search`, body, signal, callSearch, LIMITS);
      const hit = answer?.results.find((r) => r.properties.hs_call_external_id === externalId);
      return hit ? { kind: 'written' as const, activityId: hit.id } : undefined;
    }));
  }

  private async write(activity: CallActivity, token: HubSpotToken, auth: Auth, signal: AbortSignal): Promise<CallLogResult> {
    const phone = phoneVariants(activity.externalNumber, this.settings.region);
    let contactId = phone.national === '' ? undefined : (await this.connector.findByPhone(token, auth, 'contacts', phone, [], signal, LIMITS))?.record.id;
    if (contactId === undefined && activity.unknownCaller === 'skip') return { kind: 'skipped', reason: `No HubSpot contact has the number ${activity.externalNumber || '(none)'}; unknown callers are not logged.` };
    const ownerId = activity.ownerEmail ? await this.connector.ownerIdByEmail(activity.ownerEmail, token, auth, signal, LIMITS) : undefined;
    if (contactId === undefined) {
      contactId = await this.createContact(activity, phone.e164 || activity.externalNumber, ownerId, token, auth, signal);
    }
    const answer = await this.connector.send(token, auth, 'POST', hubspotCallPaths.calls, callBody(activity, contactId, ownerId), signal, created, LIMITS);
    if (!answer) throw new CrmError('BAD_RESPONSE', 'HubSpot created the call but did not say its id.');
    return { kind: 'written', activityId: answer.id };
  }

  private async createContact(activity: CallActivity, phone: string, ownerId: string | undefined, token: HubSpotToken, auth: Auth, signal: AbortSignal): Promise<string> {
    const properties: Record<string, string> = { phone, lastname: unknownCallerName(activity.externalNumber) };
    if (activity.unknownCaller === 'lead') properties.lifecyclestage = 'lead';
    if (ownerId) properties.hubspot_owner_id = ownerId;
    const answer = await this.connector.send(token, auth, 'POST', hubspotCallPaths.contacts, { properties }, signal, created, LIMITS);
    if (!answer) throw new CrmError('BAD_RESPONSE', 'HubSpot created the contact but did not say its id.');
    return answer.id;
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The create request's body. */
export function callBody(activity: CallActivity, contactId: string, ownerId: string | undefined): Record<string, unknown> {
  const { status, outcome } = HUBSPOT_STATUS[activity.disposition];
  const inbound = activity.direction === 'inbound';
  const properties: Record<string, string> = {
    hs_timestamp: String(activity.startedAt.getTime()),
    hs_call_title: activity.subject,
    // HubSpot renders the body as HTML: the plain-text notes are escaped, their lines kept.
    hs_call_body: [...activity.notes.split('\n'), externalIdLine(activity.externalId)].filter(Boolean).map(escapeHtml).join('<br>'),
    hs_call_direction: inbound ? 'INBOUND' : 'OUTBOUND',
    hs_call_status: status,
    hs_call_duration: String(Math.max(0, Math.round(activity.durationSeconds * 1000))),
    hs_call_external_id: activity.externalId,
  };
  const from = inbound ? activity.externalNumber : activity.pbxNumber;
  const to = inbound ? activity.pbxNumber : activity.externalNumber;
  if (from) properties.hs_call_from_number = from;
  if (to) properties.hs_call_to_number = to;
  if (outcome) properties.hs_call_disposition = outcome;
  if (ownerId) properties.hubspot_owner_id = ownerId;
  if (activity.recordingUrl?.startsWith('https://')) properties.hs_call_recording_url = activity.recordingUrl;
  return {
    properties,
    associations: [{ to: { id: contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: CALL_TO_CONTACT }] }],
  };
}
