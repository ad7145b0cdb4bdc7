/**
 * "Connect" for Salesforce: the OAuth 2.0 web server flow with PKCE, which Salesforce recommends
 * in place of the username-password and user-agent flows (Help, "OAuth 2.0 Web Server Flow for
 * Web App Integration").
 *
 * - Consent: `GET {My Domain}/services/oauth2/authorize` with response_type=code, client_id,
 *   redirect_uri, scope "api refresh_token", state, code_challenge and code_challenge_method=S256.
 * - Exchange: `POST {My Domain}/services/oauth2/token` (form body) grant_type=authorization_code,
 *   code, client_id, client_secret, redirect_uri, code_verifier. The refresh token is stored
 *   sealed and the integration switches to the refresh token flow; lookups take `instance_url`
 *   from every refresh answer.
 */
import type { OAuthConnect } from '../integration';
import { codeGrantForm, consentUrl } from '../shared/authorization-code';
import { CrmError } from '../shared/crm-error';
import type { SalesforceSettings } from './settings';
import { salesforceTokenRequest } from './sign-in';

const SCOPES = 'api refresh_token';

export const salesforceConnect: OAuthConnect<SalesforceSettings> = {
  pkce: true,

  requires(settings) {
    if (!settings.clientId?.trim() || !settings.clientSecret?.trim()) return 'Enter the Consumer Key and Consumer Secret of your External Client App first.';
    const url = settings.loginUrl?.trim() ?? '';
    if (!/^https:\/\/[^/?#\s]+\/?$/.test(url) || /^https:\/\/(login|test)\.salesforce\.com\/?$/i.test(url)) return 'Enter your My Domain URL (e.g. https://acme.my.salesforce.com) first: Connect signs in there.';
    return undefined;
  },

  authorizeUrl(settings, params) {
    return consentUrl(`${settings.loginUrl}/services/oauth2/authorize`, {
      response_type: 'code',
      client_id: settings.clientId,
      redirect_uri: params.redirectUri,
      scope: SCOPES,
      state: params.state,
      code_challenge: params.codeChallenge,
      code_challenge_method: params.codeChallenge ? 'S256' : undefined,
    });
  },

  async exchangeCode(settings, params, services, signal) {
    const answer = await salesforceTokenRequest(services, settings.loginUrl, codeGrantForm(settings, params), signal);
    if (!answer.refreshToken) {
      throw new CrmError('CONFIG', 'Salesforce issued no refresh token: add "Perform requests at any time (refresh_token, offline_access)" to the app\'s OAuth scopes, then press Connect again.');
    }
    return { secrets: { refreshToken: answer.refreshToken }, settings: { authFlow: 'refresh_token' }, account: new URL(answer.instanceUrl).host };
  },
};
