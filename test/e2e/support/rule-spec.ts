/**
 * A routing rule as an end-to-end test describes it, and the Routing form fields that save it:
 * rules reach the host through its pages, as an administrator's would.
 */
import type { Operator } from '../../../src/domain/operators';
import type { DefaultVoicemail } from '../../../src/domain/destination';

export interface RuleSpec {
  /** Unique per host; the rig makes one up when absent. */
  name?: string;
  /** Default Account_Tier. */
  fieldName?: string;
  /** Default did; a greeting makes it ivr. */
  location?: 'did' | 'ivr';
  greeting?: { recording: string; maxDigits: number; timeoutSeconds: number; retries: number; pattern: string };
  /** The Custom CRM URL. */
  url: string;
  post?: boolean;
  headers?: Array<{ name: string; value: string; secret?: boolean }>;
  /** Default 1 s, so failure tests stay fast. */
  deadlineSeconds?: number;
  /** A catalog choice "kind:id". Default extension:100. */
  defaultDestination?: string;
  defaultVoicemail?: DefaultVoicemail;
  /** "When the lookup fails", as catalog choices; absent: the default destination. */
  branches?: { notFound?: string; crmError?: string; invalidDigits?: string };
  /** Destinations as catalog choices, e.g. "queue:103". */
  rows: Array<{ operator: Operator; value?: string; destination: string }>;
}

export function ruleFormFields(spec: RuleSpec & { name: string }, version?: number): Record<string, string | string[]> {
  const greeting = spec.greeting;
  const headers = spec.headers ?? [];
  return {
    name: spec.name,
    fieldName: spec.fieldName ?? 'Account_Tier',
    location: greeting ? 'ivr' : (spec.location ?? 'did'),
    greetingRecording: greeting?.recording ?? '',
    dtmfMaxDigits: String(greeting?.maxDigits ?? 4),
    dtmfTimeout: String(greeting?.timeoutSeconds ?? 5),
    dtmfRetries: String(greeting?.retries ?? 0),
    dtmfPattern: greeting?.pattern ?? '',
    source: 'custom',
    customUrl: spec.url,
    customPost: spec.post ? 'yes' : 'no',
    header_name: headers.map((h) => h.name),
    header_value: headers.map((h) => h.value),
    header_secret: headers.map((h) => (h.secret ? 'yes' : 'no')),
    deadlineSeconds: String(spec.deadlineSeconds ?? 1),
    defaultDestination: spec.defaultDestination ?? 'extension:100',
    defaultVoicemail: spec.defaultVoicemail ?? 'unset',
    notFoundDestination: spec.branches?.notFound ?? '',
    crmErrorDestination: spec.branches?.crmError ?? '',
    invalidDigitsDestination: spec.branches?.invalidDigits ?? '',
    row_operator: spec.rows.map((r) => r.operator),
    row_value: spec.rows.map((r) => r.value ?? ''),
    row_dest_type: spec.rows.map((r) => r.destination.split(':')[0]!),
    row_dest_target: spec.rows.map((r) => r.destination.split(':').slice(1).join(':')),
    ...(version === undefined ? {} : { version: String(version) }),
    action: 'save',
  };
}
