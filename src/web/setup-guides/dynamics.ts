import type { SetupGuide } from './guide';

export const dynamicsGuide: SetupGuide = {
  slug: 'dynamics',
  title: 'Microsoft Dynamics (CRM 2015 on-premises and Dynamics 365)',
  summary: 'CRM 2015 on-premises: the OData v2 Organization Data Service with a Windows (NTLM) login. Dynamics 365 / Dataverse: the Web API v9.2 with an Entra ID application (client credentials, or Connect). Both search the phone columns of Contact, Account or Lead and read the newest match.',
  appType: 'On-premises: a Windows domain account that is an enabled CRM user. Dynamics 365: a single-tenant app registration in Microsoft Entra ID with a client secret, plus an application user for it in the Dataverse environment.',
  permissions: ['A security role that reads Contacts, Accounts and Leads (and the fields the rules use), given to the CRM user (2015) or to the application user (365).', 'Dynamics 365 through Connect: the delegated permission Dynamics CRM user_impersonation.'],
  steps: [
    'CRM 2015 on-premises: create (or choose) a domain account, add it as a user in CRM with a read role, and make sure the CRM web site offers Windows authentication with NTLM.',
    'CRM 2015: on CRM > Integration choose Deployment "CRM 2015 on-premises", enter the organization URL (https://crm.contoso.local/Contoso) and DOMAIN\\user with its password.',
    'Dynamics 365: in the Azure portal open Microsoft Entra ID > App registrations > New registration, single tenant; for Connect add the redirect URL shown in the Dynamics section of CRM > Integration as a Web redirect URI.',
    'Copy the Application (client) ID and the Directory (tenant) ID; under Certificates & secrets add a client secret and copy its Value.',
    'In the Power Platform admin center open the environment > Settings > Users + permissions > Application users > New app user, pick the app registration and give it a security role that reads contacts, accounts and leads.',
    'Dynamics 365: on CRM > Integration choose Deployment "Dynamics 365", enter the environment URL (https://contoso.crm4.dynamics.com), tenant ID, client ID and secret, and Save. To look up as a user instead of the application user, click Connect and sign in as that user.',
    'Click Test connection, then Save with Enabled: Yes.',
  ],
  values: [
    { field: 'Organization URL', where: 'On-premises: the address users open, with the organization name. 365: Power Platform admin center > environment > Environment URL.' },
    { field: 'Tenant ID', where: 'Entra ID > Overview > Tenant ID (or your domain, e.g. contoso.onmicrosoft.com).' },
    { field: 'Client ID / secret', where: 'App registration > Overview > Application (client) ID; Certificates & secrets > the secret\'s Value (not its ID).' },
    { field: 'Phone columns', where: 'Only for custom entities or columns: Settings > Customizations (2015, schema names) or Power Apps > Tables > Columns (365, logical names).' },
  ],
  testChecks: 'Signs in (NTLM handshake, or an Entra ID token for the environment), searches contacts for a made-up number and reports wrong credentials, an unknown tenant or resource, a missing application user or role precisely.',
  docs: [
    { label: 'Microsoft Learn: Use single-tenant server-to-server authentication (Dataverse)', url: 'https://learn.microsoft.com/power-apps/developer/data-platform/use-single-tenant-server-server-authentication' },
    { label: 'Microsoft Learn: Query data using the Web API', url: 'https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-data-web-api' },
    { label: 'Microsoft Learn (CRM 2015): Use the OData endpoint', url: 'https://learn.microsoft.com/previous-versions/dynamicscrm-2015/developers-guide/gg334767(v=crm.7)' },
  ],
};
