import { ZOHO_SCOPE_LIST } from '../../crm/zoho/scopes';
import type { SetupGuide } from './guide';

/** Every scope the lookup and the field picker use (the connector's own list): the search API needs ZohoSearch.securesearch.READ. */
export const ZOHO_SCOPES = ZOHO_SCOPE_LIST;

export const zohoGuide: SetupGuide = {
  slug: 'zoho',
  title: 'Zoho CRM',
  summary: 'The plugin signs in with a refresh token of your data centre (a Self Client, or Connect) and finds the caller with the module\'s search API (phone=), then reads the rule\'s field.',
  appType: 'A Zoho API Console client: "Self Client" (grant code pasted by hand) or "Server-based Applications" (Connect button), in the data centre of your Zoho account.',
  permissions: [`Scopes, exactly: ${ZOHO_SCOPES}.`, 'Without ZohoSearch.securesearch.READ every lookup fails with OAUTH_SCOPE_MISMATCH.', 'The Zoho user who generates the code must see the modules the rules search.'],
  steps: [
    'Open the API Console of your data centre (api-console.zoho.com, .eu, .in, .com.au, .jp, zohocloud.ca, .sa) and sign in as a CRM user.',
    'Connect: add a client of type Server-based Applications and enter the redirect URL shown in the Zoho section of CRM > Integration as Authorized Redirect URI. Self Client: choose Self Client > Create Now.',
    'Copy the Client ID and Client Secret (Client Secret tab).',
    `Self Client only: in Generate Code enter the scopes ${ZOHO_SCOPES}, pick a duration, choose the CRM portal and copy the code; exchange it within its lifetime for a refresh token (POST {accounts server}/oauth/v2/token with grant_type=authorization_code).`,
    'On CRM > Integration, open Zoho CRM, choose the data centre, enter the client ID and secret, then click Connect (or paste the refresh token).',
    'Click Test connection, then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'Data centre', where: 'The domain you sign in at: zoho.com (US), zoho.eu, zoho.in, zoho.com.au, zoho.jp, zohocloud.ca, zoho.sa.' },
    { field: 'Client ID / secret', where: 'API Console > your client > Client Secret.' },
    { field: 'Refresh token', where: 'Returned by the code exchange (Self Client) or stored by Connect; it lasts until revoked.' },
  ],
  testChecks: 'Refreshes an access token, searches Contacts for a made-up number, reads the Contacts fields and the module list (one request per scope) and names a missing scope (OAUTH_SCOPE_MISMATCH) or a wrong data centre precisely.',
  docs: [
    { label: 'Zoho Accounts: Self Client', url: 'https://zoho.com/accounts/protocol/oauth/self-client/overview.html' },
    { label: 'Zoho Accounts: Self Client authorization code flow', url: 'https://zoho.com/accounts/protocol/oauth/self-client/authorization-code-flow.html' },
    { label: 'Zoho CRM API v8: Search records', url: 'https://www.zoho.com/crm/developer/docs/api/v8/search-records.html' },
  ],
};
