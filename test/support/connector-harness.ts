/**
 * What every connector test sets up around its vendor's fake, written once: the services a host
 * hands a connector (an HttpClient that trusts the test CA, a TokenCache, a logger that says
 * nothing), lookup requests as the call flow builds them, a lookup bounded by its deadline, a
 * server whose certificate no one trusts, and the checks every connector must pass alike.
 */
import assert from 'node:assert/strict';
import type { CrmConnector, LookupRequest, LookupResult } from '../../src/crm/connector';
import { HttpClient } from '../../src/crm/shared/http-client';
import type { ConnectorServices, Credentials } from '../../src/crm/integration';
import { TokenCache } from '../../src/crm/shared/token-cache';
import type { CrmEgressPolicy, HostLogger } from '../../src/host';
import { FakeHttpsServer } from './fake-https';
import { testCa } from './test-ca';

export const quietLogger: HostLogger = { debug() {}, info() {}, warn() {}, error() {} };
export const NO_CREDENTIALS: Credentials = { username: '', password: '' };

/**
 * The egress policy of a host whose CRMs run on the PBX itself: the test fakes listen on
 * 127.0.0.1, which the default policy refuses. Every test that talks to a fake opts in with it.
 */
export const LOCAL_FAKES: CrmEgressPolicy = { allowLoopback: true };

/** An HttpClient that trusts the test CA, as a host with a private CA configures one, and may reach the local fakes. */
export function testHttpClient(): HttpClient {
  return new HttpClient({ ca: testCa().caPem, egress: LOCAL_FAKES });
}

/** The services a host hands a connector: `http`, a fresh TokenCache unless one is given, a quiet logger. */
export function connectorServices(http: HttpClient, tokens = new TokenCache()): ConnectorServices {
  return { http, tokens, logger: quietLogger };
}

/** A lookup request as the call flow builds one, due in 3 s: the test's defaults, then `over`. */
export function lookupRequest(defaults: Partial<LookupRequest>, over: Partial<LookupRequest> = {}): LookupRequest {
  return { tenantId: 't1', ruleId: 1, callerId: '', did: '', dtmf: '', fieldName: '', module: '', credentials: NO_CREDENTIALS, deadlineAt: Date.now() + 3000, ...defaults, ...over };
}

/** A lookup aborted when its request's deadline passes, as the call flow runs it. */
export function lookupByDeadline(connector: CrmConnector, request: LookupRequest): Promise<LookupResult> {
  return connector.lookup(request, AbortSignal.timeout(Math.max(1, request.deadlineAt - Date.now())));
}

/** Runs `use` with the URL of an HTTPS server whose certificate no one trusts, then closes the server. */
export async function withUntrustedServer<T>(use: (url: string) => Promise<T>): Promise<T> {
  const untrusted = await FakeHttpsServer.start(() => ({ body: {} }), testCa().selfSigned(['localhost']));
  try {
    return await use(untrusted.url);
  } finally {
    await untrusted.close();
  }
}

/** Closes a vendor's fake, then fails the test if the fake saw a request `vendor` would refuse. */
export async function closeFake(fake: { close(): Promise<void>; violations: readonly string[] }, vendor: string): Promise<void> {
  await fake.close();
  assert.deepEqual(fake.violations, [], `the fake saw requests ${vendor} would refuse`);
}

/** Caller IDs that name no one (none given, Asterisk's 'unknown') are not_found without a request to the CRM. */
export async function assertNoRequestForUnknownCallers(
  lookup: (over: Partial<LookupRequest>) => Promise<LookupResult>,
  requestCount: () => number,
  callerIds = ['', 'unknown'],
): Promise<void> {
  const before = requestCount();
  for (const callerId of callerIds) assert.deepEqual(await lookup({ callerId }), { kind: 'not_found' }, `caller ID ${JSON.stringify(callerId)}`);
  assert.equal(requestCount(), before, 'no request for a caller ID that names no one');
}
