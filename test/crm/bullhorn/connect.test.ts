/**
 * Bullhorn "Connect" against its fake: loginInfo names the data centre, the API user signs in on
 * its oauth/authorize page (redirect_uri and state, no PKCE), the code is exchanged with the same
 * redirect_uri for a refresh token; sessions then start from it (single use: each refresh answers
 * the next one, never presented twice) with no password stored, and a refused one says to press
 * Connect again (or falls back to a stored password).
 */
import assert from 'node:assert/strict';
import { bullhornDefinition, bullhornSchema } from '../../../src/crm/bullhorn';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { closeFake, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { answerConsent } from '../../support/consent-client';
import { BullhornFake } from '../../support/fakes/bullhorn-fake';

const REDIRECT_URI = 'https://pbx.example.com/crm/integration/bullhorn/connect/callback';

describe('Bullhorn Connect', () => {
  let fake: BullhornFake;
  let http: HttpClient;
  const settings = (over: Record<string, unknown> = {}) => bullhornSchema.parse({ clientId: fake.clientId, clientSecret: fake.clientSecret, username: fake.username, loginInfoUrl: fake.url, region: 'US', ...over });
  const request = () => lookupRequest({ callerId: '+1 202 555 0143', fieldName: 'status', module: 'Candidate', credentials: NO_CREDENTIALS });

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await BullhornFake.start();
    fake.registerRedirectUri(REDIRECT_URI);
    fake.records.Candidate = [{ id: 11, firstName: 'Ann', status: 'Active', phone: '(202) 555-0143', dateLastModified: 1_700_000_000_000 }];
  });
  afterEach(() => closeFake(fake, 'Bullhorn'));

  async function connect(): Promise<string> {
    const s = settings();
    const prepared = await bullhornDefinition.connect!.prepare!(s, connectorServices(http), AbortSignal.timeout(5000));
    assert.deepEqual(prepared, { oauthUrl: `${fake.url}/oauth` }, 'loginInfo names the data centre');
    const url = bullhornDefinition.connect!.authorizeUrl(s, { redirectUri: REDIRECT_URI, state: 'state-0123456789abcdef', prepared }, connectorServices(http));
    const back = await answerConsent(url);
    const stored = await bullhornDefinition.connect!.exchangeCode(s, { code: back.searchParams.get('code')!, redirectUri: REDIRECT_URI, callback: {} }, connectorServices(http), AbortSignal.timeout(5000));
    return stored.secrets.refreshToken!;
  }

  it('sends the API user to the data centre\'s sign-in page, then trades the code for a refresh token', async () => {
    assert.equal(bullhornDefinition.connect!.pkce, false);
    const refreshToken = await connect();
    assert.match(refreshToken, /^refresh-\d+$/);
    assert.deepEqual(fake.consent.requests[0]!.query, { client_id: fake.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, state: 'state-0123456789abcdef' });
    const exchange = fake.requests.find((r) => r.path === '/oauth/token')!;
    assert.deepEqual([...exchange.query.keys()].sort(), ['client_id', 'client_secret', 'code', 'grant_type', 'redirect_uri']);
    assert.equal(exchange.query.get('redirect_uri'), REDIRECT_URI, 'the same redirect_uri as the consent request');
    assert.equal(fake.counts.authorize, 0, 'no headless sign-in: no password involved');
  });

  it('starts sessions from the stored refresh token, each refresh spending the last one once', async () => {
    const refreshToken = await connect();
    const connector = bullhornDefinition.create(settings({ refreshToken }), connectorServices(http, new TokenCache()));
    const first = await Promise.all(Array.from({ length: 10 }, () => lookupByDeadline(connector, request())));
    assert.ok(first.every((r) => r.kind === 'value' && r.value === 'Active'));
    for (let round = 0; round < 3; round += 1) {
      fake.expireSessions();
      const results = await Promise.all(Array.from({ length: 10 }, () => lookupByDeadline(connector, request())));
      assert.ok(results.every((r) => r.kind === 'value'));
    }
    assert.equal(fake.counts.refreshGrants, 4, 'one refresh per session, whatever the concurrency');
    assert.equal(fake.counts.refreshReuse, 0);
    assert.equal(fake.counts.authorize, 0);
  });

  it('says to Connect again when the refresh token is refused, or signs in with a stored password', async () => {
    const refused = bullhornDefinition.create(settings({ refreshToken: 'refresh-0' }), connectorServices(http));
    const result = await lookupByDeadline(refused, request());
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.match(result.kind === 'error' ? result.message : '', /refused the refresh token \(Invalid refresh token\)\. Press Connect again under CRM > Integration > Bullhorn\.$/);
    const withPassword = bullhornDefinition.create(settings({ refreshToken: 'refresh-0', password: fake.password }), connectorServices(http));
    assert.equal((await lookupByDeadline(withPassword, request())).kind, 'value');
    assert.equal(fake.counts.authorize, 1, 'the password sign-in took over');
  });

  it('needs the API username to find the data centre before Connect', () => {
    assert.match(bullhornDefinition.connect!.requires({ clientId: 'a', clientSecret: 'b' }) ?? '', /API username first/);
    assert.equal(bullhornDefinition.connect!.requires({ clientId: 'a', clientSecret: 'b', username: 'api.user' }), undefined);
  });
});
