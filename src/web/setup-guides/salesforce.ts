import type { SetupGuide } from './guide';

export const salesforceGuide: SetupGuide = {
  slug: 'salesforce',
  title: 'Salesforce',
  summary: 'The plugin signs in with the OAuth client credentials flow at your org\'s My Domain (or Connect) and finds the caller with SOSL (FIND {number} IN PHONE FIELDS), then reads the rule\'s field.',
  appType: 'An External Client App (Setup > External Client App Manager) with OAuth enabled and the client credentials flow turned on, distribution state Local.',
  permissions: ['OAuth scope "Manage user data via APIs (api)"; add "Perform requests at any time (refresh_token, offline_access)" for Connect.', 'A Run As (execution) user with API Enabled and read access to the objects and fields the rules use.'],
  steps: [
    'In Setup, find My Domain and copy your org\'s My Domain URL (https://yourcompany.my.salesforce.com).',
    'Setup > External Client App Manager > New External Client App; fill in the name and contact email, Distribution State: Local.',
    'Under API (Enable OAuth Settings) select Enable OAuth, add the api scope, and as Callback URL the redirect URL shown in the Salesforce section of CRM > Integration (any https URL if you will not use Connect).',
    'Under Flow Enablement select Enable Client Credentials Flow, then Create.',
    'In the app\'s Policies, under OAuth Policies > Client Credentials Flow, set Run As to an integration user with API access.',
    'In the app\'s Settings, open Consumer Key and Secret and copy both.',
    'On CRM > Integration, open Salesforce, choose Client credentials, enter the My Domain URL, the consumer key and secret; click Test connection, then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'My Domain URL', where: 'Setup > My Domain (the client credentials flow does not use login.salesforce.com).' },
    { field: 'Consumer Key / Consumer Secret', where: 'External Client App > Settings > OAuth Settings > Consumer Key and Secret.' },
    { field: 'Refresh token (Connect)', where: 'Stored by Connect (web server flow with PKCE, scopes api and refresh_token); leave refresh token rotation off on the app.' },
    { field: 'Username / password + security token (legacy)', where: 'Only for the legacy password flow; the security token comes by email after Reset My Security Token.' },
  ],
  testChecks: 'Gets a token at the My Domain token endpoint, runs a SOSL phone search for a made-up number and reports a disabled flow, a missing Run As user, a refused secret or a missing permission precisely.',
  notes: ['The username-password flow is legacy: blocked by default in orgs created since Summer \'23, being deprecated, and not offered by External Client Apps. Choose it only explicitly.'],
  docs: [
    { label: 'Salesforce Help: External Client Apps', url: 'https://help.salesforce.com/s/articleView?id=xcloud.shr_external_client_apps.htm&type=5' },
    { label: 'Salesforce: SOSL FIND ... IN PHONE FIELDS', url: 'https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_sosl_find.htm' },
  ],
};
