import assert from 'node:assert/strict';
import { codeGrantForm, consentUrl } from '../../../src/crm/shared/authorization-code';

describe('authorization code grant requests', () => {
  it('builds a consent URL with strict percent-encoding, leaving out parameters without a value', () => {
    const url = consentUrl('https://vendor.example/oauth/authorize?old=1', { scope: 'api refresh_token', redirect_uri: 'https://pbx.example/cb?x=1&y=2', state: "a'b", code_challenge: undefined });
    assert.equal(url, 'https://vendor.example/oauth/authorize?scope=api%20refresh_token&redirect_uri=https%3A%2F%2Fpbx.example%2Fcb%3Fx%3D1%26y%3D2&state=a%27b');
    assert.deepEqual(Object.fromEntries(new URL(url).searchParams), { scope: 'api refresh_token', redirect_uri: 'https://pbx.example/cb?x=1&y=2', state: "a'b" });
  });

  it('builds the code exchange form, with the PKCE verifier only when there is one', () => {
    const client = { clientId: 'id', clientSecret: 'secret' };
    assert.deepEqual(codeGrantForm(client, { code: 'c', redirectUri: 'https://pbx.example/cb' }), { grant_type: 'authorization_code', code: 'c', client_id: 'id', client_secret: 'secret', redirect_uri: 'https://pbx.example/cb' });
    assert.equal(codeGrantForm(client, { code: 'c', redirectUri: 'r', codeVerifier: 'v' }).code_verifier, 'v');
  });
});
