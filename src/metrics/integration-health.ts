/**
 * The last success and the last error of each integration (tenant + CRM) and of each tenant's
 * Custom CRM rules, as the CRM answered live calls' lookups. One record per integration, made
 * when its connector is built and kept across rebuilds; a lookup only writes two fields of it.
 * A lookup the caller or the plugin cut short (ABORTED) says nothing about the CRM and is not kept.
 */
import type { LookupResult } from '../crm/connector';
import type { CrmLabel } from './plugin-metrics';

export interface IntegrationState {
  tenantId: string;
  crm: CrmLabel;
  /** Epoch ms of the last lookup the CRM answered (found or not found). */
  lastSuccessAt?: number;
  lastErrorAt?: number;
  lastErrorCode?: string;
}

export class IntegrationHealth {
  private readonly states = new Map<string, IntegrationState>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The record of one integration (made once, then the same object). */
  of(tenantId: string, crm: CrmLabel): IntegrationState {
    const key = `${tenantId}\u0000${crm}`;
    let state = this.states.get(key);
    if (!state) this.states.set(key, (state = { tenantId, crm }));
    return state;
  }

  record(state: IntegrationState, result: LookupResult): void {
    if (result.kind !== 'error') {
      state.lastSuccessAt = this.now();
    } else if (result.code !== 'ABORTED') {
      state.lastErrorAt = this.now();
      state.lastErrorCode = result.code;
    }
  }

  all(): IntegrationState[] {
    return [...this.states.values()];
  }
}

/** Failing: the last answer was an error. */
export function isFailing(state: Pick<IntegrationState, 'lastSuccessAt' | 'lastErrorAt'>): boolean {
  return state.lastErrorAt !== undefined && (state.lastSuccessAt === undefined || state.lastErrorAt >= state.lastSuccessAt);
}
