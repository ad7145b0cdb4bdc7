import type { SetupGuide } from './guide';

export const zendeskGuide: SetupGuide = {
  slug: 'zendesk',
  title: 'Zendesk',
  summary: 'The plugin signs in with OAuth (client credentials, or Connect with a refresh token) and finds the caller with the user search (phone:*digits), then reads the rule\'s user or organisation field.',
  appType: 'A Zendesk OAuth client of kind "Confidential" (Admin Center > Apps and integrations > APIs > OAuth clients). API tokens are legacy.',
  permissions: ['Scope read (users and organizations are read only).', 'The client acts as the admin who created it (client credentials) or the agent who clicks Connect: that person must see the users the rules look up.'],
  steps: [
    'Sign in to Zendesk as an administrator and open Admin Center > Apps and integrations > APIs > OAuth clients.',
    'Click Add OAuth client. Name it (e.g. "PBX CRM Routing"), enter a unique Identifier, and choose Client kind: Confidential.',
    'For Connect: paste the redirect URL shown in the Zendesk section of CRM > Integration into Redirect URLs. For client credentials alone no redirect URL is needed.',
    'Save, and copy the Secret at once: Zendesk shows it only this one time.',
    'On CRM > Integration, open Zendesk, enter your subdomain (the part before .zendesk.com), the Identifier as OAuth client ID and the Secret, keep Sign-in "OAuth client credentials" and Save; or Save, click Connect and approve the consent page to sign in as that agent instead.',
    'Click Test connection, then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'Subdomain', where: 'Your Zendesk address: acme for https://acme.zendesk.com.' },
    { field: 'OAuth client ID', where: 'The Identifier you gave the OAuth client.' },
    { field: 'OAuth client secret', where: 'The Secret shown once when the client was saved (Regenerate it there if lost).' },
    { field: 'API token (legacy)', where: 'Admin Center > Apps and integrations > APIs > API tokens; no new tokens since 2026-10-27.' },
  ],
  testChecks: 'Gets an access token (or refreshes the stored one), runs a user search for a made-up number and reports the exact failure: unknown subdomain, refused client or secret, missing scope, rate limit with the time to wait.',
  notes: [
    'Access tokens of OAuth clients created after 2026-04-30 expire after 30 minutes; the plugin refreshes them before expiry and once on a 401.',
    'API tokens (email/token) are a legacy choice: Zendesk issues no new ones since 2026-10-27 and every API token stops working on 2027-04-30.',
  ],
  docs: [
    { label: 'Zendesk: Managing OAuth token access to the API', url: 'https://support.zendesk.com/hc/en-us/articles/8889508417946-Managing-OAuth-token-access-to-the-API' },
    { label: 'Zendesk developers: Creating and using OAuth tokens with the API', url: 'https://developer.zendesk.com/documentation/authentication/creating-and-using-oauth-tokens-with-the-api' },
  ],
};
