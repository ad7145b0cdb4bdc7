import type { SetupGuide } from './guide';

export const pipedriveGuide: SetupGuide = {
  slug: 'pipedrive',
  title: 'Pipedrive',
  summary: 'The plugin signs in with a personal API token (or an OAuth app through Connect) and finds the caller with the v2 person or organisation search, reads the newest matching record and its field (field names from the v2 field endpoints).',
  appType: 'A personal API token of a Pipedrive user, or a private app in Pipedrive\'s Developer Hub for Connect.',
  permissions: ['API token: whatever the user may see; use a user who sees every person and organisation the rules look up.', 'OAuth app: scopes contacts:read (persons, organisations and their fields).'],
  steps: [
    'Sign in to Pipedrive as the user the lookups run as.',
    'API token: open Personal preferences > API (or Settings > Personal preferences > API) and copy "Your personal API token".',
    'OAuth instead: in the Developer Hub register a private app, give it the contacts:read scope, and enter the redirect URL shown in the Pipedrive section of CRM > Integration as its callback URL; copy the client ID and secret.',
    'On CRM > Integration, open Pipedrive, enter the company domain and the API token; or choose Sign-in "OAuth app (Connect)", enter the client ID and secret, Save and click Connect (the company domain is filled in from Pipedrive\'s answer).',
    'Click Test connection, then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'Company domain', where: 'Your Pipedrive address: acme for https://acme.pipedrive.com.' },
    { field: 'API token', where: 'Personal preferences > API. Regenerating it there stops the old one at once.' },
    { field: 'OAuth client ID / secret', where: 'Developer Hub > your app > OAuth & access scopes.' },
  ],
  testChecks: 'Reads the person fields (GET /api/v2/personFields), searches persons for a made-up number and reports a rejected token or a wrong company domain precisely.',
  docs: [
    { label: 'Pipedrive: How to find the API token', url: 'https://pipedrive.readme.io/docs/how-to-find-the-api-token' },
    { label: 'Pipedrive: Authentication', url: 'https://pipedrive.readme.io/docs/core-api-concepts-authentication' },
  ],
};
