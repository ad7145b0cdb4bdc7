/**
 * "Connect" for HubSpot: the OAuth authorization code flow of an app.
 *
 * - Consent: `https://app.hubspot.com/oauth/authorize` with client_id, redirect_uri, scope
 *   (crm.objects.contacts.read crm.objects.companies.read crm.objects.owners.read crm.objects.contacts.write,
 *   space-separated: they must be the
 *   app's required scopes) and state. No PKCE: HubSpot supports it only for MCP apps (SDK
 *   hubspot-api-nodejs 13.5.0 changelog).
 * - Exchange: `POST {base}/oauth/{version}/token` (form body) grant_type=authorization_code,
 *   client_id, client_secret, redirect_uri, code. The refresh token is stored sealed and the
 *   integration signs in as the OAuth app from then on.
 * The consent page goes through `services.resolveOrigin` (tests serve it from the fake).
 */
import type { OAuthConnect } from '../integration';
import { codeGrantForm, consentUrl } from '../shared/authorization-code';
import { CrmError } from '../shared/crm-error';
import { HUBSPOT_CONSENT_URL, HUBSPOT_SCOPES } from './api-version';
import { hubspotTokenRequest } from './oauth';
import type { HubSpotSettings } from './settings';

export const hubspotConnect: OAuthConnect<HubSpotSettings> = {
  pkce: false,

  requires(settings) {
    if (!settings.clientId?.trim() || !settings.clientSecret?.trim()) return 'Enter the Client ID and Client secret of your HubSpot app first.';
    return undefined;
  },

  authorizeUrl(settings, params, services) {
    const consent = new URL(HUBSPOT_CONSENT_URL);
    const origin = services.resolveOrigin ? services.resolveOrigin(consent.origin) : consent.origin;
    return consentUrl(new URL(consent.pathname, origin), {
      client_id: settings.clientId,
      redirect_uri: params.redirectUri,
      scope: HUBSPOT_SCOPES.join(' '),
      state: params.state,
    });
  },

  async exchangeCode(settings, params, services, signal) {
    const answer = await hubspotTokenRequest(services, settings.baseUrl, codeGrantForm(settings, params), signal);
    if (!answer.refreshToken) throw new CrmError('BAD_RESPONSE', 'HubSpot answered the code exchange without a refresh token: press Connect again.');
    return {
      secrets: { refreshToken: answer.refreshToken },
      settings: { authMode: 'oauth' },
      ...(answer.hubId !== undefined ? { account: `HubSpot account ${answer.hubId}` } : {}),
    };
  },
};
