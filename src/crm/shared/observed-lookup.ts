/**
 * Sits between the lookup cache and a CRM's connector: each lookup that reaches the CRM is
 * counted and timed for /metrics (by CRM and result) and leaves its last success or error on the
 * integration's health record. Cache hits never reach it.
 */
import type { CrmConnector, LookupRequest, LookupResult } from '../connector';
import type { CrmMeters } from '../../metrics/plugin-metrics';
import type { IntegrationHealth, IntegrationState } from '../../metrics/integration-health';

const THREW: LookupResult = { kind: 'error', code: 'BAD_RESPONSE', message: 'The connector failed.' };

export class ObservedLookup implements CrmConnector {
  constructor(
    private readonly connector: CrmConnector,
    private readonly meters: CrmMeters,
    private readonly health: IntegrationHealth,
    private readonly state: IntegrationState,
  ) {}

  async lookup(request: LookupRequest, signal: AbortSignal): Promise<LookupResult> {
    const started = performance.now();
    let result: LookupResult = THREW;
    try {
      result = await this.connector.lookup(request, signal);
      return result;
    } finally {
      // Connectors answer rather than throw; one that throws anyway is counted as a bad answer.
      this.meters.lookup(result, (performance.now() - started) / 1000);
      this.health.record(this.state, result);
    }
  }
}
