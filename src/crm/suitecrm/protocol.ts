/**
 * What SuiteCRM's two protocols (v8.ts, v4.ts) share with the connector (index.ts): the phone
 * columns of each module and the interface each protocol implements.
 */
import type { PhoneVariants } from '../../domain/phone';
import type { CrmField, Credentials } from '../integration';
import type { CachedToken } from '../shared/token-cache';

export const SUITECRM = 'SuiteCRM';
/** Phone columns per module, in both APIs (fax left out). */
export const SUITECRM_PHONE_FIELDS: Record<string, string[]> = {
  Contacts: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other'],
  Leads: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other'],
  Prospects: ['phone_work', 'phone_mobile', 'phone_home', 'phone_other'],
  Accounts: ['phone_office', 'phone_alternate'],
};
export const META_LIMITS = { timeoutMs: 10_000, maxBodyBytes: 2 * 1024 * 1024 };

/** What a protocol needs to search one module for the caller. */
export interface SuiteCrmSearch {
  module: string;
  field: string;
  phoneFields: string[];
  phone: PhoneVariants;
  signal: AbortSignal;
}

/** A protocol speaks its API; the connector re-checks, picks and caches sessions. */
export interface SuiteCrmProtocol<S extends CachedToken> {
  login(credentials: Credentials, signal: AbortSignal): Promise<S>;
  /**
   * Candidate records: id, date_modified, the field and the phone fields, each as returned, plus
   * `rank`, the record's place in an answer sorted newest first by the server (a finer clock).
   */
  search(session: S, search: SuiteCrmSearch): Promise<Array<Record<string, unknown>>>;
  listModules(session: S, signal: AbortSignal): Promise<string[]>;
  listFields(session: S, module: string, signal: AbortSignal): Promise<CrmField[]>;
  /** The e-mail of a user (owners.ts); null for no such user or one without an e-mail. */
  ownerEmail(session: S, userId: string, signal: AbortSignal): Promise<string | null>;
  /** How lookups run, for Test connection ("V8, one request per lookup ..."). */
  describe(): Promise<string>;
}
