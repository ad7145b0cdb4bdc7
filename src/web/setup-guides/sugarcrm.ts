import type { SetupGuide } from './guide';
import { NEWEST_SUGAR_API } from '../../crm/sugarcrm/api-version';

export const sugarcrmGuide: SetupGuide = {
  slug: 'sugarcrm',
  title: 'SugarCRM',
  summary: `The plugin signs in with Sugar's OAuth2 password grant on a registered API platform, finds the caller with {Module}/filter ($contains on the phone fields) and reads the newest match. It starts at REST ${NEWEST_SUGAR_API} and steps down to the newest version your Sugar accepts.`,
  appType: 'A Sugar user for the lookups, and a custom API platform registered in Sugar (Admin > Configure API Platforms); optionally an OAuth key (Admin > OAuth Keys) instead of the built-in "sugar" client.',
  permissions: ['The Sugar user\'s role must allow list and view on Contacts, Leads and Accounts (and the fields the rules read).'],
  steps: [
    'In Sugar, open Admin > Configure API Platforms (Developer Tools), add the platform name pbx_crm_routing and save: Sugar refuses unknown platforms, and "base" would log the user out of the web UI.',
    'Create or choose a user for the lookups with a role that reads the modules the rules search.',
    'On CRM > Integration, open SugarCRM, enter the Sugar URL, keep REST API version on auto, keep the platform pbx_crm_routing, and enter the user and password (client ID sugar with an empty secret unless you made an OAuth key).',
    'Click Test connection: it names the REST version your Sugar accepts. Then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'Sugar URL', where: 'The address you log in at, without /rest/...' },
    { field: 'REST API version', where: `auto (from ${NEWEST_SUGAR_API} down to what the server accepts), or a version to start from.` },
    { field: 'API platform', where: 'The name registered under Configure API Platforms.' },
    { field: 'OAuth client ID / secret', where: 'sugar and empty, or Admin > OAuth Keys.' },
  ],
  testChecks: 'Finds the REST version the server accepts (Sugar answers a newer one with HTTP 301 incorrect_version), signs in, searches Contacts for a made-up number and names an unregistered platform or a wrong password precisely.',
  docs: [
    { label: 'Sugar Developer Guide: REST API', url: 'https://support.sugarai.com/documentation/sugar_developer/sugar_developer_guide_26.1/integration/web_services/rest_api/' },
    { label: 'SugarClub: How Sugar REST API versioning works', url: 'https://sugarclub.sugarcrm.com/dev-club/b/dev-blog/posts/how-sugar-rest-api-versioning-works' },
  ],
};
