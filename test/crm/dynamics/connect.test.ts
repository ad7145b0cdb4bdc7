/**
 * Dynamics 365 "Connect" against the Entra ID / Dataverse fake: the v2.0 authorize request
 * (response_mode=query, the delegated user_impersonation scope with offline_access, PKCE S256),
 * the code redeemed for a refresh token, who signed in from the ID token, and lookups that then
 * run as that user (refresh_token grant) while a rule with other app credentials still uses
 * client credentials.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dynamicsDefinition, type DynamicsSettings } from '../../../src/crm/dynamics';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { closeFake, connectorServices, lookupByDeadline, lookupRequest, testHttpClient } from '../../support/connector-harness';
import { answerConsent } from '../../support/consent-client';
import { Dynamics365Fake } from '../../support/fakes/dynamics-fake';

const CLIENT = '11111111-2222-3333-4444-555555555555';
const REDIRECT_URI = 'https://pbx.example.com/crm/integration/dynamics/connect/callback';

describe('Dynamics 365 Connect (Entra ID authorization code with PKCE)', () => {
  let fake: Dynamics365Fake;
  let http: HttpClient;
  const settings = (over: Record<string, unknown> = {}) => dynamicsDefinition.schema.parse({
    deployment: 'online365', orgUrl: fake.url, tenantId: 'contoso.onmicrosoft.com', clientId: CLIENT, clientSecret: 'app~secret', loginHost: fake.url, region: 'US', ...over,
  }) as DynamicsSettings;

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await Dynamics365Fake.start();
    fake.registerRedirectUri(REDIRECT_URI);
    fake.records.contacts = [{ contactid: 'c1', fullname: 'Ann Smith', jobtitle: 'Gold', telephone1: '(555) 123-4567', modifiedon: '2024-05-01T10:00:00Z' }];
  });
  afterEach(() => closeFake(fake, 'Dynamics 365'));

  async function connect() {
    const verifier = 'w'.repeat(43);
    const s = settings();
    const url = dynamicsDefinition.connect!.authorizeUrl(s, { redirectUri: REDIRECT_URI, state: 'state-0123456789abcdef', codeChallenge: createHash('sha256').update(verifier).digest('base64url') }, connectorServices(http));
    const back = await answerConsent(url);
    return dynamicsDefinition.connect!.exchangeCode(s, { code: back.searchParams.get('code')!, redirectUri: REDIRECT_URI, codeVerifier: verifier, callback: {} }, connectorServices(http), AbortSignal.timeout(5000));
  }

  it('asks for the delegated Dataverse permission with offline_access, PKCE and response_mode=query', async () => {
    const stored = await connect();
    const consent = fake.consent.requests[0]!;
    assert.equal(consent.query.scope, `${fake.url}/user_impersonation offline_access openid profile`);
    assert.equal(consent.query.response_mode, 'query');
    assert.equal(consent.query.code_challenge_method, 'S256');
    assert.deepEqual(Object.keys(stored.secrets), ['refreshToken']);
    assert.equal(stored.account, fake.user);
  });

  it('then looks up as that user (refresh_token grant); a rule with another app uses client credentials', async () => {
    const { secrets } = await connect();
    const tokens = new TokenCache();
    const connector = dynamicsDefinition.create(settings({ refreshToken: secrets.refreshToken }), connectorServices(http, tokens));
    const request = lookupRequest({ callerId: '+15551234567', fieldName: 'jobtitle', module: 'contact' });
    assert.deepEqual(await lookupByDeadline(connector, request), { kind: 'value', value: 'Gold', matches: 1 });
    const grants = () => fake.tokenRequests.map((r) => new URLSearchParams(r.body).get('grant_type'));
    assert.deepEqual(grants(), ['authorization_code', 'refresh_token']);
    assert.equal(new URLSearchParams(fake.tokenRequests[1]!.body).get('scope'), `${fake.url}/user_impersonation offline_access`);
    fake.revokeTokens(); // the access token expired: one refresh with the token the last refresh answered
    assert.equal((await lookupByDeadline(connector, request)).kind, 'value');
    assert.notEqual(new URLSearchParams(fake.tokenRequests[2]!.body).get('refresh_token'), secrets.refreshToken);
    const otherApp = await lookupByDeadline(connector, { ...request, credentials: { username: 'other-app-id', password: 'other-secret' } });
    assert.equal(otherApp.kind === 'error' && otherApp.code, 'AUTH', 'the other app signs in with client credentials (which the fake refuses)');
    assert.equal(grants().at(-1), 'client_credentials');
  });

  it('needs Dynamics 365 settings before Connect, and reports a refused refresh token', async () => {
    assert.match(dynamicsDefinition.connect!.requires({ deployment: 'onprem2015' }) ?? '', /choose that deployment/);
    assert.match(dynamicsDefinition.connect!.requires({ deployment: 'online365', orgUrl: 'https://x' }) ?? '', /tenant ID, application \(client\) ID and a client secret/);
    const connector = dynamicsDefinition.create(settings({ refreshToken: 'expired-refresh-token' }), connectorServices(http));
    const result = await lookupByDeadline(connector, lookupRequest({ callerId: '+15551234567', fieldName: 'jobtitle', module: 'contact' }));
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.match(result.kind === 'error' ? result.message : '', /refused the stored refresh token \(press Connect again .*\(invalid_grant: AADSTS700082/);
  });
});
