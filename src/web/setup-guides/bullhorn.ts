import type { SetupGuide } from './guide';

export const bullhornGuide: SetupGuide = {
  slug: 'bullhorn',
  title: 'Bullhorn',
  summary: 'The plugin signs in with Bullhorn\'s OAuth (an API user and the client id and secret Bullhorn issues, or Connect) and finds the caller with FastFind, which searches the phone fields of Candidate, ClientContact, ClientCorporation and Lead.',
  appType: 'A REST API OAuth client (client id and secret) issued by Bullhorn Support for your corporation, and an API user.',
  permissions: ['The API user needs the Bullhorn entitlements to view the entities the rules search (Candidate, ClientContact, ClientCorporation, Lead).', 'Ask Bullhorn Support to enable refresh tokens on the key and to whitelist the redirect URL shown in the Bullhorn section of CRM > Integration if you use Connect.'],
  steps: [
    'Open a case with Bullhorn Support asking for REST API credentials (client id and client secret) and, for Connect, give them the redirect URL shown on CRM > Integration.',
    'Create or choose an API user in Bullhorn; sign in once as that user in a browser and accept the terms of service.',
    'On CRM > Integration, open Bullhorn, enter the client id and secret and the API user\'s username and password; keep the Login URL unless Bullhorn says otherwise. With Connect, enter the username only (it names the data centre), Save, click Connect and sign in as the API user: no password is stored.',
    'Click Test connection, then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'Client ID / secret', where: 'From Bullhorn Support (they cannot be created in the product).' },
    { field: 'API username / password', where: 'The API user\'s Bullhorn login.' },
    { field: 'Login URL', where: 'https://rest.bullhornstaffing.com (loginInfo names your data centre).' },
  ],
  testChecks: 'Runs the whole sign-in (loginInfo, authorize, token, REST login), a FastFind for a made-up number, and reports an unknown client id, a refused user or password, or unaccepted terms precisely.',
  docs: [
    { label: 'Bullhorn: Getting started with REST', url: 'https://bullhorn.github.io/Getting-Started-with-REST/' },
    { label: 'Bullhorn REST API reference', url: 'https://bullhorn.github.io/rest-api-docs/' },
  ],
};
