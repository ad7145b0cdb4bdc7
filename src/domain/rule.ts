/**
 * A routing rule as the call path and the pages see it. Secrets are plain text in memory only:
 * the store seals them on write and opens them on read; the pages never render them.
 */
import type { CrmKind } from './crm-kinds';
import type { DefaultVoicemail, DestinationRef } from './destination';
import type { Operator } from './operators';

export type Location = 'did' | 'ivr';

/** "Greeting Instructions" of an IVR rule: a prompt, then digits collected with GET DATA. */
export interface Greeting {
  /** Recording name from the host's catalog. */
  recording: string;
  maxDigits: number;
  /** Seconds to wait for the caller to type, after the prompt. */
  timeoutSeconds: number;
  /** Extra attempts after no or invalid input. */
  retries: number;
  /** Regular expression the digits must match in full; empty accepts any digits. */
  pattern: string;
}

export interface RuleRow {
  operator: Operator;
  /** Compared against the CRM value; ignored by "is empty". */
  value: string;
  destination: DestinationRef;
}

export interface CustomHeader {
  name: string;
  value: string;
  /** Sealed in storage and never shown again (API keys, tokens). */
  secret: boolean;
}

/**
 * "When the lookup fails": where calls go on each failure instead of the Default Destination.
 * Each is optional; null sends that outcome to the Default Destination (with its voicemail choice).
 */
export interface OutcomeBranches {
  /** "Caller not found in the CRM": no record for the caller (or no caller ID), no row matched. */
  notFound: DestinationRef | null;
  /** "CRM error or deadline passed". */
  crmError: DestinationRef | null;
  /** "No or invalid digits": IVR rules with a greeting only. */
  invalidDigits: DestinationRef | null;
}

export const NO_BRANCHES: Readonly<OutcomeBranches> = Object.freeze({ notFound: null, crmError: null, invalidDigits: null });

export type CrmSource =
  | { kind: 'integration'; crm: CrmKind; module: string; username: string; password: string }
  | { kind: 'custom'; url: string; post: boolean; headers: CustomHeader[] };

export interface Rule {
  id: number;
  tenantId: string;
  name: string;
  /** CRM field API name, e.g. Account_Name. */
  fieldName: string;
  location: Location;
  /** Only for location IVR; optional there. */
  greeting: Greeting | null;
  source: CrmSource;
  /** Hard limit for the lookup and the move, in seconds (1..10). */
  deadlineSeconds: number;
  defaultDestination: DestinationRef;
  defaultVoicemail: DefaultVoicemail;
  /** Destinations per failure outcome; each null one falls back to the default destination. */
  branches: OutcomeBranches;
  /** Evaluation order: the first matching row wins. */
  rows: RuleRow[];
  /** Bumped on every save; lets caches and forms detect stale copies. */
  version: number;
}

export const DEADLINE_DEFAULT_SECONDS = 3;
export const DEADLINE_MAX_SECONDS = 10;

/**
 * A rule as a form submits it: no id, tenant or version yet, and secrets that may be `null`,
 * meaning "keep the stored one" (a form never receives a secret back).
 */
export type RuleDraft = Omit<Rule, 'id' | 'tenantId' | 'version' | 'source'> & {
  source:
    | { kind: 'integration'; crm: CrmKind; module: string; username: string; password: string | null }
    | { kind: 'custom'; url: string; post: boolean; headers: Array<Omit<CustomHeader, 'value'> & { value: string | null }> };
};
