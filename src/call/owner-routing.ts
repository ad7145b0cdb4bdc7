/**
 * The I/O half of "Owner's extension" rows (the pure half is domain/owner.ts): the CRM value
 * becomes an e-mail (through the CRM for a user id), the e-mail or number becomes one of the
 * host's extensions through its directory, all within what is left of the call's deadline.
 * Anything that goes wrong names the owner unknown: the call takes the default destination
 * with OWNER_UNKNOWN and the reason is recorded.
 */
import type { HostDirectory } from '../host';
import type { RoutingDecision } from '../domain/decide';
import { ownerDecision, ownerKeyOf, ownerValue, type OwnerFound } from '../domain/owner';
import type { Rule } from '../domain/rule';
import type { OwnerEmailResult } from '../crm/owner-lookup';
import type { StopSource } from './stopper';

export interface OwnerEmails {
  /** The e-mail of a CRM user id, from the rule's CRM (cached there). */
  ownerEmail(rule: Rule, ownerId: string, signal: AbortSignal): Promise<OwnerEmailResult>;
}

export interface OwnerResolution {
  decision: RoutingDecision;
  /** Who the value named, as looked for (e-mail or extension); null when not an owner row. */
  owner: string | null;
  /** Why the owner is unknown; undefined when found (or not an owner row). */
  why?: string;
}

/** Least time given to the owner's look-up even when the CRM used most of the deadline. */
const MIN_OWNER_MS = 250;

export class OwnerRouting {
  constructor(private readonly directory: HostDirectory | undefined, private readonly crm: OwnerEmails) {}

  /**
   * Where a decision goes once its owner is known: unchanged when it is not an "Owner's
   * extension" row; otherwise the owner's extension, or the default with OWNER_UNKNOWN.
   */
  async resolve(rule: Rule, decision: RoutingDecision, value: string, remainingMs: number, stop: readonly StopSource[] = []): Promise<OwnerResolution> {
    const key = ownerKeyOf(decision);
    if (!key) return { decision, owner: null };
    const limit = Math.round(Math.max(MIN_OWNER_MS, Number.isFinite(remainingMs) ? remainingMs : 0));
    const signal = AbortSignal.any([AbortSignal.timeout(limit), ...stop.map((s) => (s instanceof AbortSignal ? s : s.signal))]);
    // Whatever a directory or connector throws, the call still goes somewhere: the default.
    const found = await within(Promise.resolve().then(() => this.find(rule, key, value, signal)), signal).catch((err: unknown): OwnerFound => ({
      kind: 'unknown', owner: ownerValue(value) ?? null, why: signal.aborted ? 'The deadline passed before the owner was found.' : `The owner could not be looked up: ${(err as Error)?.message ?? String(err)}`,
    }));
    const resolved = ownerDecision(rule, decision, found);
    return found.kind === 'extension' ? { decision: resolved, owner: found.owner } : { decision: resolved, owner: found.owner, why: found.why };
  }

  private async find(rule: Rule, key: 'email' | 'extension' | 'user_id', value: string, signal: AbortSignal): Promise<OwnerFound> {
    const named = ownerValue(value);
    if (!named) return { kind: 'unknown', owner: null, why: 'The CRM value names no owner (it is empty or too long).' };
    if (!this.directory) return { kind: 'unknown', owner: named, why: 'The PBX offers no directory of extensions and their users.' };
    let email = named;
    if (key === 'extension') return this.found(await this.directory.find(rule.tenantId, { extension: named }), named, 'No extension has this number.');
    if (key === 'user_id') {
      const answer = await this.crm.ownerEmail(rule, named, signal);
      if (answer.kind === 'not_found') return { kind: 'unknown', owner: named, why: `The CRM has no user ${named} with an e-mail address.` };
      if (answer.kind === 'error') return { kind: 'unknown', owner: named, why: `The CRM could not say who user ${named} is (${answer.code}): ${answer.message}` };
      email = answer.email;
    }
    return this.found(await this.directory.find(rule.tenantId, { email }), email, 'No extension belongs to this e-mail address.');
  }

  private found(entry: { extension: string } | undefined, owner: string, why: string): OwnerFound {
    const extension = entry?.extension.trim() ?? '';
    return /^[0-9A-Za-z*#+_-]{1,40}$/.test(extension) ? { kind: 'extension', extension, owner } : { kind: 'unknown', owner, why };
  }
}

/** The answer, or a rejection as soon as `signal` aborts (a directory need not listen to it). */
function within<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
