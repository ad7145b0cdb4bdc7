/**
 * A short-lived cache in front of any CrmConnector. A caller who rings twice in a minute, or a
 * burst of calls from one number, costs the CRM one request: CRM API budgets are small (HubSpot
 * search allows a few requests per second) and every request adds latency on a live call.
 *
 * - Key: tenant, integration, module, field, a SHA-256 of the rule's credentials (two CRM users
 *   may see different records), the caller as E.164 (raw digits when it does not parse), plus
 *   the DTMF and DID (the Custom CRM receives both and may answer on them).
 * - A value lives `ttlMs` (60 s), a not_found `notFoundTtlMs` (15 s: a record created while the
 *   caller waits shows up soon). Errors are never kept. `ttlMs: 0` turns the cache off entirely:
 *   every lookup goes to the connector, nothing is shared.
 * - Identical lookups in flight share ONE connector request. Each caller's own signal still ends
 *   its own wait at once; the shared request is cancelled only when every caller has left.
 * - At most `maxEntries` results are kept, least recently used dropped first.
 */
import { createHash } from 'node:crypto';
import type { CrmConnector, LookupRequest, LookupResult } from '../connector';
import { abortedError } from './crm-error';
import { phoneVariants, type CountryCode } from '../../domain/phone';

export interface CachedLookupOptions {
  /** Identifies the integration (or Custom CRM rule) in the key, e.g. "zoho:7". */
  integrationId: string;
  /** The tenant's default region, to read caller IDs as E.164. */
  region: CountryCode;
  /** How long a found value is reused. Default 60 s; 0 turns the cache off. */
  ttlMs?: number;
  /** How long "not found" is reused. Default 15 s; 0 keeps no negative answers. */
  notFoundTtlMs?: number;
  /** Most results kept. Default 10,000. */
  maxEntries?: number;
  /** Names the CRM in the error of a caller who left while waiting. */
  what?: string;
  now?: () => number;
  /**
   * Counts of the lookups answered here (a kept result, or an identical lookup already in flight)
   * and of those sent on to the connector (all of them when the cache is off). Plain numbers: a
   * call adds one, nothing more.
   */
  counts?: { hit: { value: number }; miss: { value: number } };
}

interface Stored {
  result: LookupResult;
  expiresAt: number;
}

interface InFlight {
  promise: Promise<LookupResult>;
  waiters: number;
  controller: AbortController;
}

export class CachedLookup implements CrmConnector {
  private readonly results = new Map<string, Stored>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly ttlMs: number;
  private readonly notFoundTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly connector: CrmConnector, private readonly options: CachedLookupOptions) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.notFoundTtlMs = options.notFoundTtlMs ?? 15_000;
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  async lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const counts = this.options.counts;
    if (this.ttlMs <= 0) {
      if (counts) counts.miss.value += 1;
      return this.connector.lookup(request, signal);
    }
    if (signal.aborted) return this.left(signal);
    const key = this.keyOf(request);
    const stored = this.fresh(key);
    if (stored) {
      if (counts) counts.hit.value += 1;
      return { ...stored.result };
    }
    let flight = this.inFlight.get(key);
    if (counts) counts[flight ? 'hit' : 'miss'].value += 1;
    if (!flight) flight = this.start(key, request);
    return this.wait(key, flight, signal);
  }

  /** Forgets every result (settings changed, or an administrator asked). */
  clear(): void {
    this.results.clear();
  }

  get size(): number {
    return this.results.size;
  }

  keyOf(request: LookupRequest): string {
    const phone = phoneVariants(request.callerId, this.options.region);
    const caller = phone.e164 || phone.rawDigits;
    const credentials = createHash('sha256').update(`${request.credentials.username}\0${request.credentials.password}`).digest('hex');
    return JSON.stringify([request.tenantId, this.options.integrationId, request.module, request.fieldName, credentials, caller, request.dtmf, request.did]);
  }

  private fresh(key: string): Stored | undefined {
    const stored = this.results.get(key);
    if (!stored) return undefined;
    this.results.delete(key);
    if (stored.expiresAt <= this.now()) return undefined;
    this.results.set(key, stored); // most recently used goes last
    return stored;
  }

  private start(key: string, request: LookupRequest): InFlight {
    const controller = new AbortController();
    const promise = Promise.resolve()
      .then(() => this.connector.lookup(request, controller.signal))
      // Connectors do not throw; if one does anyway, its waiters still get an answer.
      .catch((err: unknown): LookupResult => ({ kind: 'error', code: 'BAD_RESPONSE', message: `${this.options.what ?? 'The CRM'} lookup failed: ${(err as Error)?.message ?? String(err)}` }))
      .then((result) => {
        // Runs after `flight` exists: the lookup above starts on a later tick.
        if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
        this.keep(key, result);
        return result;
      });
    const flight: InFlight = { controller, waiters: 0, promise };
    this.inFlight.set(key, flight);
    return flight;
  }

  private keep(key: string, result: LookupResult): void {
    const ttl = result.kind === 'value' ? this.ttlMs : result.kind === 'not_found' ? this.notFoundTtlMs : 0;
    if (ttl <= 0) return;
    this.results.delete(key);
    this.results.set(key, { result, expiresAt: this.now() + ttl });
    while (this.results.size > this.maxEntries) {
      const oldest = this.results.keys().next().value as string;
      this.results.delete(oldest);
    }
  }

  private wait(key: string, flight: InFlight, signal: AbortSignal): Promise<LookupResult> {
    flight.waiters += 1;
    return new Promise<LookupResult>((resolve) => {
      let done = false;
      const finish = (result: LookupResult) => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        flight.waiters -= 1;
        resolve({ ...result });
      };
      const onAbort = () => {
        finish(this.left(signal));
        if (flight.waiters === 0) {
          // Nobody waits any more: stop the CRM request, and let the next caller start afresh.
          if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
          flight.controller.abort(signal.reason);
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void flight.promise.then(finish);
    });
  }

  private left(signal: AbortSignal): LookupResult {
    const error = abortedError(this.options.what ?? 'the CRM', signal);
    return { kind: 'error', code: error.code, message: error.message };
  }
}
