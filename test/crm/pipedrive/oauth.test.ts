/**
 * Pipedrive with an OAuth app ("Connect", no PKCE: Pipedrive documents none) against its fake:
 * the consent request, the code exchanged with HTTP Basic client authentication, the company's
 * api_domain learned, lookups with a Bearer token refreshed when Pipedrive answers 401, and the
 * messages when the app is not connected or the refresh token is refused.
 */
import assert from 'node:assert/strict';
import type { ConnectorServices } from '../../../src/crm/integration';
import { pipedriveDefinition } from '../../../src/crm/pipedrive';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { closeFake, lookupByDeadline, lookupRequest, quietLogger, testHttpClient } from '../../support/connector-harness';
import { answerConsent } from '../../support/consent-client';
import { PipedriveFake, TIER_KEY } from '../../support/fakes/pipedrive-fake';

const REDIRECT_URI = 'https://pbx.example.com/crm/integration/pipedrive/connect/callback';

describe('Pipedrive OAuth', () => {
  let fake: PipedriveFake;
  let http: HttpClient;
  const services = (tokens = new TokenCache()): ConnectorServices => ({ http, tokens, logger: quietLogger, resolveOrigin: fake.resolveOrigin });
  const settings = (over: Record<string, unknown> = {}) => pipedriveDefinition.schema.parse({ region: 'US', authMode: 'oauth', clientId: fake.clientId, clientSecret: fake.clientSecret, ...over });
  const request = () => lookupRequest({ callerId: '+1 202 555 0101', fieldName: TIER_KEY, module: 'Persons' });

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await PipedriveFake.start();
    fake.registerRedirectUri(REDIRECT_URI);
    fake.persons.push({ id: 11, name: 'Ada', org_id: null, update_time: '2024-05-01T10:00:00Z', phones: [{ value: '+1 (202) 555-0101', primary: true, label: 'work' }], custom_fields: { [TIER_KEY]: 31 } });
  });
  afterEach(() => closeFake(fake, 'Pipedrive'));

  async function connect() {
    const s = settings();
    const url = pipedriveDefinition.connect!.authorizeUrl(s, { redirectUri: REDIRECT_URI, state: 'state-0123456789abcdef' }, services());
    const back = await answerConsent(url);
    return pipedriveDefinition.connect!.exchangeCode(s, { code: back.searchParams.get('code')!, redirectUri: REDIRECT_URI, callback: {} }, services(), AbortSignal.timeout(5000));
  }

  it('Connect: consent without PKCE, the code exchanged with HTTP Basic, the company domain learned', async () => {
    assert.equal(pipedriveDefinition.connect!.pkce, false);
    const stored = await connect();
    assert.deepEqual(fake.consent.requests[0]!.query, { client_id: fake.clientId, redirect_uri: REDIRECT_URI, state: 'state-0123456789abcdef' });
    const exchange = fake.requests.find((r) => r.path === '/oauth/token')!;
    assert.equal(exchange.headers.authorization, `Basic ${Buffer.from(`${fake.clientId}:${fake.clientSecret}`).toString('base64')}`);
    const form = Object.fromEntries(new URLSearchParams(exchange.body));
    assert.deepEqual({ ...form, code: '-' }, { grant_type: 'authorization_code', code: '-', redirect_uri: REDIRECT_URI });
    assert.deepEqual(stored.settings, { authMode: 'oauth', companyDomain: fake.url });
    assert.deepEqual(Object.keys(stored.secrets), ['refreshToken']);
    assert.equal(stored.account, 'pat@acme.test');
  });

  it('looks up with a Bearer token; a 401 gets one refresh, shared by concurrent lookups', async () => {
    const stored = await connect();
    const connector = pipedriveDefinition.create(settings({ ...stored.settings, ...stored.secrets }), services());
    assert.deepEqual(await lookupByDeadline(connector, request()), { kind: 'value', value: 'Gold', matches: 1 });
    const search = fake.requests.find((r) => r.path === '/api/v2/persons/search')!;
    assert.match(String(search.headers.authorization), /^Bearer [0-9a-f]{32}$/);
    assert.equal(search.headers['x-api-token'], undefined);
    fake.expireAccessTokens();
    const results = await Promise.all(Array.from({ length: 10 }, () => lookupByDeadline(connector, request())));
    assert.ok(results.every((r) => r.kind === 'value'));
    assert.equal(fake.counts.refreshGrants, 2, 'the first sign-in, then one refresh after the 401s');
  });

  it('says when the app is not connected or its refresh token is refused; a rule\'s API token still works', async () => {
    const none = pipedriveDefinition.create(settings(), services());
    const missing = await lookupByDeadline(none, request());
    assert.deepEqual(missing.kind === 'error' && missing.code, 'CONFIG');
    assert.match(missing.kind === 'error' ? missing.message : '', /Pipedrive is not connected: press Connect/);
    const refused = pipedriveDefinition.create(settings({ companyDomain: fake.url, refreshToken: 'revoked' }), services());
    const result = await lookupByDeadline(refused, request());
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.match(result.kind === 'error' ? result.message : '', /refused the stored refresh token \(press Connect again .*invalid_grant/);
    const byRule = await lookupByDeadline(refused, lookupRequest({ callerId: '+1 202 555 0101', fieldName: TIER_KEY, module: 'Persons', credentials: { username: '', password: 'pd-token-good' } }));
    assert.equal(byRule.kind, 'value');
  });

  it('needs the company domain for an API token, and the app credentials for OAuth', () => {
    assert.deepEqual(pipedriveDefinition.schema.safeParse({ region: 'US', apiToken: 't' }).error!.issues.map((i) => i.path[0]), ['companyDomain']);
    assert.deepEqual(pipedriveDefinition.schema.safeParse({ region: 'US', authMode: 'oauth' }).error!.issues.map((i) => i.path[0]), ['clientId']);
    assert.equal(pipedriveDefinition.schema.safeParse({ region: 'US', authMode: 'oauth', clientId: 'a', clientSecret: 'b' }).success, true, 'Connect fills the company domain');
    assert.equal(pipedriveDefinition.schema.parse({ region: 'US', authMode: '', companyDomain: 'acme', apiToken: 't' }).authMode, 'api_token', 'a form without the choice: the API token, as before');
  });
});
