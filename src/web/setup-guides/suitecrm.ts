import type { SetupGuide } from './guide';

export const suitecrmGuide: SetupGuide = {
  slug: 'suitecrm',
  title: 'SuiteCRM',
  summary: 'The plugin signs in to the V8 JSON:API with an OAuth2 password client (or to the legacy v4_1 API with the user\'s password) and searches the phone fields of Contacts, Leads, Accounts or Prospects: one request per lookup on SuiteCRM 7.12.5 and later.',
  appType: 'A SuiteCRM OAuth2 "Password Client" (Admin > OAuth2 Clients and Tokens > New Password Client) and a SuiteCRM user.',
  permissions: ['The user\'s role must allow list and view on Contacts, Leads, Accounts and Prospects.', 'The V8 API needs its OAuth2 keys on the server (Api/V8/OAuth2/private.key and public.key, readable by PHP) and oauth2_encryption_key in config.php.'],
  steps: [
    'On the SuiteCRM server, generate the OAuth2 key pair in Api/V8/OAuth2 (openssl genrsa -out private.key 2048; openssl rsa -in private.key -pubout -out public.key; chmod 600; owned by the web server user).',
    'In SuiteCRM open Admin > OAuth2 Clients and Tokens > New Password Client; name it, set a secret and save; copy the client ID it shows.',
    'Create or choose the user the lookups sign in as.',
    'On CRM > Integration, open SuiteCRM, enter the address you log in at, API V8, location Auto, the client ID and secret, the user and password.',
    'Click Test connection: it says how lookups run on your version. Then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'SuiteCRM address', where: 'The address you log in at (SuiteCRM 8: the same; the plugin finds legacy/Api).' },
    { field: 'OAuth2 client id / secret', where: 'Admin > OAuth2 Clients and Tokens: the client\'s ID, and the secret you typed.' },
    { field: 'User name / password', where: 'The SuiteCRM login of the lookup user.' },
  ],
  testChecks: 'Signs in (SuiteCRM 7 answers a wrong user, password or client id with HTTP 500; the plugin names it a sign-in error and never shows its text), finds out once whether the server accepts one or + like request, searches Contacts for a made-up number and says how lookups run.',
  docs: [
    { label: 'SuiteCRM: Configure authentication (V8 API)', url: 'https://docs.suitecrm.com/developer/api/developer-setup-guide/configure-authentication/' },
    { label: 'SuiteCRM: JSON API', url: 'https://docs.suitecrm.com/developer/api/developer-setup-guide/json-api/' },
  ],
};
