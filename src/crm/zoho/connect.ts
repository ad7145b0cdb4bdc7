/**
 * "Connect" for Zoho CRM: Zoho's authorization code flow for a Server-based Application client.
 *
 * - Consent: `GET {accounts of the chosen data centre}/oauth/v2/auth` with scope (every scope of
 *   scopes.ts, comma-separated), client_id, response_type=code, redirect_uri, access_type=offline
 *   (a refresh token comes back) and prompt=consent (a new refresh token on every Connect, even
 *   when the user consented before), plus state. Zoho documents no PKCE for server-based
 *   clients, so none is sent.
 * - Callback: `code`, `location` and `accounts-server`. The account's data centre is the one
 *   they name (checked against data-centres.ts: a code is never sent to an unknown host), and it
 *   becomes the integration's data centre.
 * - Exchange: `POST {accounts-server}/oauth/v2/token` (form body) grant_type=authorization_code,
 *   client_id, client_secret, redirect_uri, code. The answer's refresh token is stored sealed;
 *   its api_domain is checked to be a Zoho API host (lookups then take it from every refresh).
 * Browser and server URLs go through `services.resolveOrigin` like every Zoho host.
 */
import type { OAuthConnect } from '../integration';
import { codeGrantForm, consentUrl } from '../shared/authorization-code';
import { CrmError } from '../shared/crm-error';
import { zohoTokenRequest } from './accounts';
import { dataCentreOfCallback, ZOHO_DATA_CENTRES } from './data-centres';
import type { ZohoSettings } from './settings';
import { ZOHO_SCOPE_LIST } from './scopes';

export const zohoConnect: OAuthConnect<ZohoSettings> = {
  pkce: false,

  requires(settings) {
    if (!settings.dataCentre || !(settings.dataCentre in ZOHO_DATA_CENTRES)) return 'Choose the data centre of your Zoho account first.';
    if (!settings.clientId?.trim() || !settings.clientSecret?.trim()) return 'Enter the Client ID and Client Secret of a Server-based Application (Zoho API console) first.';
    return undefined;
  },

  authorizeUrl(settings, params, services) {
    const accounts = ZOHO_DATA_CENTRES[settings.dataCentre].accounts;
    return consentUrl(new URL('/oauth/v2/auth', services.resolveOrigin ? services.resolveOrigin(accounts) : accounts), {
      scope: ZOHO_SCOPE_LIST,
      client_id: settings.clientId,
      response_type: 'code',
      access_type: 'offline',
      prompt: 'consent',
      redirect_uri: params.redirectUri,
      state: params.state,
    });
  },

  async exchangeCode(settings, params, services, signal) {
    const dc = dataCentreOfCallback(params.callback, settings.dataCentre);
    const answer = await zohoTokenRequest(services, dc, codeGrantForm(settings, params), signal);
    if (!answer.refreshToken) {
      throw new CrmError('AUTH', 'Zoho Accounts issued no refresh token (it sends one only with access_type=offline and a fresh consent): press Connect again.');
    }
    return { secrets: { refreshToken: answer.refreshToken }, settings: { dataCentre: dc }, account: `Zoho CRM, ${ZOHO_DATA_CENTRES[dc].label}` };
  },
};
