import { HUBSPOT_API_VERSION } from '../../crm/hubspot/api-version';
import type { SetupGuide } from './guide';

export const hubspotGuide: SetupGuide = {
  slug: 'hubspot',
  title: 'HubSpot',
  summary: 'The plugin signs in with a service key (or an OAuth app through Connect) and finds the caller with the CRM search API on the date-versioned endpoints, then reads the rule\'s property.',
  appType: 'A HubSpot service key (Development > Keys > Service keys, or Settings > Integrations > Service Keys), or an OAuth app on the developer platform for Connect. Legacy private apps can no longer be created.',
  permissions: [
    'crm.objects.contacts.read and crm.objects.companies.read: the search and the field picker (the properties API accepts these read scopes).',
    'crm.objects.owners.read: "Owner\'s extension" rows, which read the e-mail of the owner a record\'s hubspot_owner_id names (GET /crm/v3/owners/{ownerId}), and the call log, which finds the agent\'s owner by e-mail (GET /crm/v3/owners/?email=).',
    'crm.objects.contacts.write: the call log, which creates a call for each call (and a contact for an unknown caller when the rule says so).',
    'For an OAuth app these four are its required scopes, exactly.',
  ],
  steps: [
    'Sign in to HubSpot as a super admin (or a user allowed to manage keys).',
    'Service key: open Development > Keys > Service keys and create one; name it "PBX CRM Routing".',
    'Add the scopes listed here and create the key; copy it.',
    'OAuth instead: create an app on the developer platform, add the same scopes, and enter the redirect URL shown in the HubSpot section of CRM > Integration as a redirect URL; copy its client ID and secret.',
    'On CRM > Integration, open HubSpot, paste the service key (or enter the OAuth client ID and secret and click Connect).',
    'Click Test connection, then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'Service key', where: 'Shown when the key is created; rotate it from the same page.' },
    { field: 'OAuth client ID / secret', where: 'Your app\'s Auth settings on the developer platform.' },
  ],
  testChecks: 'Signs in (refreshing an OAuth token from its expiry, not on a 401), runs a contact search for a made-up number on the dated endpoint and names a missing scope precisely.',
  notes: [`POST /oauth/v1/token is retired on 2027-02-16 and /crm/v3 becomes unsupported in September 2027: the plugin uses the date-versioned endpoints (version ${HUBSPOT_API_VERSION}).`, 'Existing legacy private app tokens keep working; new ones cannot be created since 2026-10-26.'],
  docs: [
    { label: 'HubSpot: Service keys', url: 'https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/account-service-keys' },
    { label: 'HubSpot changelog: legacy private app creation sunset', url: 'https://developers.hubspot.com/changelog/legacy-private-app-creation-sunset' },
  ],
};
