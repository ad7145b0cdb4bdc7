/**
 * The call log request of the Proprietary CRM connectors: a declarative template like their
 * lookup (the same authentication, URL / header / JSON body templates and escaping), filled with
 * the finished call's values. Pure: the request is built here, sent in call-log.ts.
 *
 * Placeholders:
 *   {external_id} stable per call and integration (also sent as Idempotency-Key)
 *   {direction} inbound | outbound      {disposition} answered | missed | abandoned | busy | failed
 *   {e164} {national} {international} {digits}  the outside party's number, as for lookups
 *   {pbx_number} the DID (inbound) or the agent's extension (outbound)
 *   {started_at} ISO 8601 UTC           {duration} talk time in seconds   {duration_minutes} rounded up
 *   {subject} {notes} {owner_email} {unknown_caller} skip | contact | lead   {recording_url}
 * Every value is text: in the JSON body placeholders sit inside strings ("{duration}").
 */
import type { CallActivity } from '../call-log-writer';
import { phoneVariants, type CountryCode } from '../../domain/phone';

export const LOG_PLACEHOLDERS = [
  'external_id', 'direction', 'disposition', 'e164', 'national', 'international', 'digits', 'pbx_number',
  'started_at', 'duration', 'duration_minutes', 'subject', 'notes', 'owner_email', 'unknown_caller', 'recording_url',
] as const;

export const DEFAULT_LOG_BODY = '{"external_id": "{external_id}", "direction": "{direction}", "disposition": "{disposition}", "phone": "{e164}", "pbx_number": "{pbx_number}", "started_at": "{started_at}", "duration": "{duration}", "subject": "{subject}", "notes": "{notes}", "owner_email": "{owner_email}", "unknown_caller": "{unknown_caller}", "recording_url": "{recording_url}"}';

export function logPlaceholderValues(activity: CallActivity, region: CountryCode): Record<(typeof LOG_PLACEHOLDERS)[number], string> {
  const phone = phoneVariants(activity.externalNumber, region);
  return {
    external_id: activity.externalId,
    direction: activity.direction,
    disposition: activity.disposition,
    e164: phone.e164,
    national: phone.national,
    international: phone.international,
    digits: phone.rawDigits,
    pbx_number: activity.pbxNumber ?? '',
    started_at: activity.startedAt.toISOString(),
    duration: String(activity.durationSeconds),
    duration_minutes: String(Math.ceil(activity.durationSeconds / 60)),
    subject: activity.subject,
    notes: activity.notes,
    owner_email: activity.ownerEmail ?? '',
    unknown_caller: activity.unknownCaller,
    recording_url: activity.recordingUrl ?? '',
  };
}
