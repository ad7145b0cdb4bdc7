/**
 * Bullhorn's "Connect" (rest-api-docs, "Getting Started with the Bullhorn REST API"): the API
 * user signs in on the data centre's `oauth/authorize` page (client_id, response_type=code,
 * redirect_uri, state; Bullhorn documents no PKCE), and the code is exchanged at `oauth/token`
 * (parameters in the query string, the redirect URI again) for a refresh token, which then
 * starts every session instead of a stored password. The data centre comes from loginInfo, which
 * needs the API username. Bullhorn Support registers the redirect URL on the API key.
 */
import type { ConnectorServices, OAuthConnect } from '../integration';

/** What Connect asks of the connector (it knows loginInfo, the data centre and the token endpoint). */
export interface BullhornConnectFlow {
  /** The data centre's OAuth address (`oauthUrl` of loginInfo). */
  oauthUrl(signal: AbortSignal): Promise<string>;
  consentUrl(oauthUrl: string, params: { redirectUri: string; state: string }): string;
  exchangeCode(code: string, redirectUri: string, signal: AbortSignal): Promise<string>;
}

export function bullhornConnect<S extends Record<string, unknown>>(flow: (settings: S, services: ConnectorServices) => BullhornConnectFlow): OAuthConnect<S> {
  return {
    pkce: false,
    requires(settings) {
      if (!settings.clientId || !settings.clientSecret || !settings.username) {
        return 'Save the client ID, client secret and API username first (the username tells which Bullhorn data centre signs you in; Bullhorn Support registers the redirect URL shown here on the API key).';
      }
      return undefined;
    },
    prepare: async (settings, services, signal) => ({ oauthUrl: await flow(settings, services).oauthUrl(signal) }),
    authorizeUrl(settings, { redirectUri, state, prepared }, services) {
      if (!prepared?.oauthUrl) throw new Error('Bullhorn\'s data centre is not known yet (prepare was not asked).');
      return flow(settings, services).consentUrl(prepared.oauthUrl, { redirectUri, state });
    },
    async exchangeCode(settings, { code, redirectUri }, services, signal) {
      const refreshToken = await flow(settings, services).exchangeCode(code, redirectUri, signal);
      return { secrets: { refreshToken } };
    },
  };
}
