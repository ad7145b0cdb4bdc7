import type { SetupGuide } from './guide';

export const vtigerGuide: SetupGuide = {
  slug: 'vtiger',
  title: 'Vtiger CRM',
  summary: 'The plugin signs in to webservice.php with a user name and that user\'s access key (challenge, then login) and finds the caller with one query over the phone columns, newest first.',
  appType: 'A Vtiger user and its webservice Access Key (not the login password).',
  permissions: ['The user\'s profile must allow viewing Contacts, Leads and Accounts and the fields the rules read.'],
  steps: [
    'Sign in to Vtiger as the user the lookups run as (or an administrator editing that user).',
    'Open My Preferences and scroll to User Advanced Options; copy the Access Key.',
    'On CRM > Integration, open Vtiger CRM, enter the address you open Vtiger at, the user name and the access key.',
    'Click Test connection, then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'Vtiger address', where: 'The address you open Vtiger at (webservice.php is added).' },
    { field: 'User name', where: 'The Vtiger login name (an unknown one is reported as a sign-in error).' },
    { field: 'Access key', where: 'My Preferences > User Advanced Options > Access Key.' },
  ],
  testChecks: 'Runs getchallenge and login, queries Contacts for a made-up number and reports an unknown user name, a wrong access key or a missing permission precisely.',
  docs: [
    { label: 'Vtiger: Third party app integration (REST APIs)', url: 'https://community.vtiger.com/help/vtigercrm/developers/third-party-app-integration.html' },
  ],
};
