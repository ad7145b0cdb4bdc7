/**
 * Zendesk's OAuth sign-in against its fake (crm-apis.md §9, §13): the client credentials grant by
 * default; after Connect, 30-minute access tokens refreshed before they expire and once on a 401,
 * with rotating refresh tokens (each refresh spends the old one); "Connect" itself (consent page
 * with PKCE, code exchange); and the legacy API token kept only when chosen or already stored.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { zendeskDefinition, zendeskSchema } from '../../../src/crm/zendesk';
import { closeFake, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { answerConsent } from '../../support/consent-client';
import { ZendeskFake } from '../../support/fakes/zendesk-fake';

const MINUTE = 60_000;
const REDIRECT_URI = 'https://pbx.example.com/crm/integration/zendesk/connect/callback';

describe('Zendesk OAuth', () => {
  let fake: ZendeskFake;
  let http: HttpClient;

  const settings = (over: Record<string, unknown> = {}) => zendeskSchema.parse({ subdomain: fake.url, region: 'US', clientId: fake.clientId, clientSecret: fake.clientSecret, ...over });
  const request = (over: Partial<LookupRequest> = {}) => lookupRequest({ callerId: '+1 513 555 7611', fieldName: 'name', module: 'users', credentials: NO_CREDENTIALS }, over);
  const tokenBodies = () => fake.requests.filter((r) => r.path === '/oauth/tokens').map((r) => JSON.parse(r.body) as Record<string, unknown>);

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await ZendeskFake.start();
    fake.users = [{ id: 101, name: 'Ann Caller', phone: '+1 513.555.7611', role: 'end-user', updated_at: '2024-03-01T10:00:00Z' }];
    fake.registerRedirectUri(REDIRECT_URI);
  });
  afterEach(() => closeFake(fake, 'Zendesk'));

  /** Connect as the page does: consent (Allow), then the code exchange; returns what is stored. */
  async function connect(verifier = 'v'.repeat(43)) {
    const s = settings();
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = zendeskDefinition.connect!.authorizeUrl(s, { redirectUri: REDIRECT_URI, state: 'state-0123456789abcdef', codeChallenge: challenge }, connectorServices(http));
    const back = await answerConsent(url);
    return zendeskDefinition.connect!.exchangeCode(s, { code: back.searchParams.get('code')!, redirectUri: REDIRECT_URI, codeVerifier: verifier, callback: Object.fromEntries(back.searchParams) }, connectorServices(http), AbortSignal.timeout(5000));
  }

  describe('client credentials (the default)', () => {
    it('signs in once for many lookups with a Bearer token, as a JSON token request', async () => {
      assert.equal(settings().authMode, 'client_credentials');
      const connector = zendeskDefinition.create(settings(), connectorServices(http));
      const results = await Promise.all(Array.from({ length: 20 }, () => lookupByDeadline(connector, request())));
      assert.ok(results.every((r) => r.kind === 'value' && r.value === 'Ann Caller'));
      assert.equal(fake.counts.clientCredentialGrants, 1);
      assert.deepEqual(tokenBodies(), [{ grant_type: 'client_credentials', client_id: fake.clientId, client_secret: fake.clientSecret, scope: 'read write' }]);
      assert.match(String(fake.requests.at(-1)!.headers.authorization), /^Bearer [0-9a-f]{32}$/);
    });

    it('asks again when the token expired (a 401 after 30 minutes), and reports a wrong secret as AUTH without echoing it', async () => {
      const connector = zendeskDefinition.create(settings(), connectorServices(http));
      assert.equal((await lookupByDeadline(connector, request())).kind, 'value');
      fake.advanceClock(31 * MINUTE);
      assert.equal((await lookupByDeadline(connector, request())).kind, 'value');
      assert.equal(fake.counts.expiredTokens, 1, 'the first token really expired');
      assert.equal(fake.counts.clientCredentialGrants, 2);
      const wrong = zendeskDefinition.create(settings({ clientSecret: 'wrong-secret-value' }), connectorServices(http));
      const refused = await lookupByDeadline(wrong, request());
      assert.equal(refused.kind === 'error' && refused.code, 'AUTH');
      assert.match(refused.kind === 'error' ? refused.message : '', /refused the client ID or client secret \(invalid_client/);
      assert.ok(!JSON.stringify(refused).includes('wrong-secret-value'));
    });
  });

  describe('signed in as an agent (Connect, rotating refresh tokens)', () => {
    it('Connect: the consent page with PKCE (S256), then the code for a refresh token, and who signed in', async () => {
      const stored = await connect();
      assert.deepEqual(Object.keys(stored.secrets), ['refreshToken']);
      assert.deepEqual(stored.settings, { authMode: 'authorization_code' });
      assert.equal(stored.account, fake.email);
      const consent = fake.consent.requests[0]!;
      assert.deepEqual({ ...consent.query, state: '-', code_challenge: '-' }, {
        response_type: 'code', client_id: fake.clientId, redirect_uri: REDIRECT_URI, scope: 'read write', state: '-', code_challenge: '-', code_challenge_method: 'S256',
      });
      const [exchange] = tokenBodies();
      assert.deepEqual(Object.keys(exchange!).sort(), ['client_id', 'client_secret', 'code', 'code_verifier', 'expires_in', 'grant_type', 'redirect_uri', 'refresh_token_expires_in', 'scope']);
      assert.equal(exchange!.expires_in, 1800, '30 minutes asked for explicitly (older clients get no refresh token otherwise)');
    });

    it('Connect is refused with a wrong PKCE verifier, and a code works once', async () => {
      const s = settings();
      const url = zendeskDefinition.connect!.authorizeUrl(s, { redirectUri: REDIRECT_URI, state: 'state-0123456789abcdef', codeChallenge: createHash('sha256').update('a'.repeat(43)).digest('base64url') }, connectorServices(http));
      const code = (await answerConsent(url)).searchParams.get('code')!;
      const exchange = (verifier: string) => zendeskDefinition.connect!.exchangeCode(s, { code, redirectUri: REDIRECT_URI, codeVerifier: verifier, callback: {} }, connectorServices(http), AbortSignal.timeout(5000));
      await assert.rejects(exchange('b'.repeat(43)), /refused the authorization code \(invalid_grant: code_verifier does not match/);
      await assert.rejects(exchange('a'.repeat(43)), /invalid_grant: unknown or already used code/);
    });

    it('refreshes with the stored token, keeps each new refresh token, and never presents one twice', async () => {
      const { secrets } = await connect();
      const tokens = new TokenCache();
      const connector = zendeskDefinition.create(settings({ authMode: 'authorization_code', refreshToken: secrets.refreshToken }), connectorServices(http, tokens));
      for (let round = 0; round < 4; round += 1) {
        const results = await Promise.all(Array.from({ length: 10 }, () => lookupByDeadline(connector, request())));
        assert.ok(results.every((r) => r.kind === 'value'), JSON.stringify(results[0]));
        fake.advanceClock(31 * MINUTE); // every access token expires between rounds
      }
      assert.equal(fake.counts.refreshGrants, 4, 'one refresh per expired token, whatever the concurrency');
      assert.equal(fake.counts.refreshReuse, 0);
      const refreshes = tokenBodies().filter((b) => b.grant_type === 'refresh_token');
      assert.equal(refreshes[0]!.refresh_token, secrets.refreshToken, 'the first refresh spends the token Connect stored');
      assert.equal(new Set(refreshes.map((b) => b.refresh_token)).size, 4, 'each later one the token the previous refresh answered');
      assert.equal(fake.counts.expiredTokens, 30, 'in rounds 2-4 each of the 10 lookups met one 401 (expired), then they shared one refresh');
    });

    it('refreshes before the token expires (no 401), using its own clock', async () => {
      const { secrets } = await connect();
      let ahead = 0;
      const tokens = new TokenCache({ now: () => Date.now() + ahead });
      const connector = zendeskDefinition.create(settings({ authMode: 'authorization_code', refreshToken: secrets.refreshToken }), connectorServices(http, tokens));
      assert.equal((await lookupByDeadline(connector, request())).kind, 'value');
      ahead = 29.5 * MINUTE; // within the minute before expiry
      assert.equal((await lookupByDeadline(connector, request())).kind, 'value');
      assert.equal(fake.counts.refreshGrants, 2);
      assert.equal(fake.counts.unauthenticated, 0, 'no request was made with an expiring token');
    });

    it('says how to fix a revoked or missing refresh token', async () => {
      const revoked = zendeskDefinition.create(settings({ authMode: 'authorization_code', refreshToken: 'revoked-token' }), connectorServices(http));
      const refused = await lookupByDeadline(revoked, request());
      assert.equal(refused.kind === 'error' && refused.code, 'AUTH');
      assert.match(refused.kind === 'error' ? refused.message : '', /refused the stored refresh token \(press Connect again .*\(invalid_grant/);
      const none = zendeskDefinition.create(settings({ authMode: 'authorization_code' }), connectorServices(http));
      const missing = await lookupByDeadline(none, request());
      assert.deepEqual(missing.kind === 'error' && [missing.code, missing.message], ['CONFIG', 'Zendesk is not connected: press Connect under CRM > Integration > Zendesk (or paste a refresh token).']);
    });
  });

  describe('settings', () => {
    it('OAuth needs the client ID and secret; the legacy API token needs neither', () => {
      const issues = zendeskSchema.safeParse({ subdomain: 'acme', region: 'US' }).error!.issues.map((i) => i.path[0]);
      assert.deepEqual(issues, ['clientId', 'clientSecret']);
      assert.equal(zendeskSchema.safeParse({ subdomain: 'acme', region: 'US', authMode: 'api_token' }).success, true);
    });

    it('reads settings saved before the OAuth modes (an API token, no sign-in mode) as the legacy mode', () => {
      assert.equal(zendeskSchema.parse({ subdomain: 'acme', region: 'US', email: 'a@b.c', apiToken: 't' }).authMode, 'api_token');
      assert.equal(zendeskSchema.parse({ subdomain: 'acme', region: 'US', oauthToken: 'o' }).authMode, 'api_token');
      assert.equal(zendeskSchema.parse({ subdomain: 'acme', region: 'US', authMode: '', apiToken: 't' }).authMode, 'api_token', 'a form posting the choice empty');
      assert.equal(zendeskSchema.parse({ subdomain: 'acme', region: 'US', authMode: '', clientId: 'c', clientSecret: 's' }).authMode, 'client_credentials');
    });

    it('marks the API token as legacy, with the date it stops working', () => {
      const mode = zendeskDefinition.fields.find((f) => f.name === 'authMode')!;
      assert.equal(mode.defaultValue, 'client_credentials');
      assert.equal(mode.options!.find((o) => o.value === 'api_token')!.label, 'Legacy: agent email + API token (stops working on 2027-04-30)');
    });
  });
});
