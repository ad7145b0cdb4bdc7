/**
 * What a CRM connector implements to write a finished call into its CRM (the integration's
 * "log options"): one call activity, linked to the caller's record, written once.
 */
import type { CallDirection, CallDisposition } from '../calllog/completed-call';
import type { Credentials } from './integration';
import type { CrmErrorCode } from './shared/crm-error';

/** The call activity to write, already filtered and formatted by the integration's log options. */
export interface CallActivity {
  /**
   * Unique per call and integration, stable across retries and processes ([A-Za-z0-9_-], at
   * most 64 characters): the CRM's idempotency key where it has one, else stored in the
   * activity so `findLoggedCall` can tell after a timeout whether the write happened.
   */
  externalId: string;
  direction: CallDirection;
  disposition: CallDisposition;
  /** The outside party's number as Asterisk gave it: finds the caller's record. */
  externalNumber: string;
  /** The PBX side: the DID of an inbound call, the agent's extension of an outbound one. */
  pbxNumber?: string;
  startedAt: Date;
  /** Talk time in seconds; each CRM converts to its own unit (HubSpot milliseconds, Zoho mm:ss...). */
  durationSeconds: number;
  subject: string;
  /** Plain text: the call's details and, for a routed call, the routing decision. */
  notes: string;
  /** The answering agent's e-mail: the CRM user owning the activity; else the integration's user. */
  ownerEmail?: string;
  /** A caller with no record: log nothing, or create a Contact or a Lead (where the CRM has Leads) first. */
  unknownCaller: 'skip' | 'contact' | 'lead';
  /** An https link to the call's recording, when the host offers one. */
  recordingUrl?: string;
}

export type CallLogResult =
  /** Written (or found already written); `recordUrl` opens the activity or the caller's record in the CRM. */
  | { kind: 'written'; activityId: string; recordUrl?: string }
  /** Deliberately not written, e.g. an unknown caller with unknownCaller 'skip'; `reason` says why. */
  | { kind: 'skipped'; reason: string }
  /** `retryable` false for errors a retry cannot fix (bad settings, refused permissions, invalid data). */
  | { kind: 'error'; code: CrmErrorCode; message: string; retryable: boolean; retryAfterMs?: number };

export interface CallLogWriter {
  /** Writes the activity. Never throws for the CRM's failure; aborting `signal` ends every request. */
  logCall(activity: CallActivity, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult>;
  /**
   * For CRMs without their own idempotency: the activity already written with this external id,
   * if any. Asked before writing again after a timeout (a timeout does not mean "not created").
   */
  findLoggedCall?(externalId: string, credentials: Credentials, signal: AbortSignal): Promise<CallLogResult | undefined>;
}
