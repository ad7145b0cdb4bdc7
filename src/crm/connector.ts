/**
 * The one interface every CRM implements on the call path: given the caller, fetch one field.
 * Connectors never throw for a CRM's failure; they answer with a result the call flow records.
 */
import type { CrmErrorCode } from './shared/crm-error';

export interface LookupRequest {
  tenantId: string;
  ruleId: number;
  /** Caller ID as Asterisk gave it (agi_callerid); empty when Asterisk said "unknown". */
  callerId: string;
  /** The dialled number (agi_dnid, or agi_extension when dnid is unknown); may be empty. */
  did: string;
  /** Digits collected by the greeting; empty without one. */
  dtmf: string;
  /** The CRM field's API name, e.g. Account_Name. */
  fieldName: string;
  /** CRM module / entity, e.g. Contacts (empty for the Custom CRM). */
  module: string;
  /** The rule's CRM Username / CRM Password, over the integration's defaults when set. */
  credentials: { username: string; password: string };
  /** Epoch ms when the call's deadline passes; a wait (429 Retry-After) never goes past it. */
  deadlineAt: number;
}

export type LookupResult =
  /** The caller was found; `value` is the field as text ('' when the field is blank). */
  | { kind: 'value'; value: string; matches?: number }
  /** No record for this caller: not an error. */
  | { kind: 'not_found' }
  | { kind: 'error'; code: CrmErrorCode; message: string; retryAfterMs?: number };

export interface CrmConnector {
  /** Aborting `signal` (deadline or hang-up) must end every request of this lookup at once. */
  lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult>;
}
