/**
 * HubSpot's date-based API version, in one place: every path the connector calls carries it.
 *
 * HubSpot versions its REST APIs by date since 2026-03 (/crm/objects/2026-03/...). A version is
 * "Current" for 6 months, "Supported" until 18 months after its release, then unsupported; the
 * numeric paths (/crm/v3, /oauth/v1) become unsupported in September 2027 and POST
 * /oauth/v1/token is retired on 2027-02-16. HubSpot's advice is to build on the latest version:
 * 2026-09 (released 2026-09-08; its breaking change, validation rules on CRM writes, does not
 * touch reads). 2026-03 would stop being supported in September 2027 as well. Move this constant
 * forward every year or so; the fake vendor server checks the paths.
 */
export const HUBSPOT_API_VERSION = '2026-09';

export const hubspotPaths = {
  search: (objectType: string) => `/crm/objects/${HUBSPOT_API_VERSION}/${objectType}/search`,
  properties: (objectType: string) => `/crm/properties/${HUBSPOT_API_VERSION}/${objectType}`,
  token: `/oauth/${HUBSPOT_API_VERSION}/token`,
} as const;

/** The consent page of an OAuth app (not versioned). */
export const HUBSPOT_CONSENT_URL = 'https://app.hubspot.com/oauth/authorize';

/**
 * What the connector reads: records and properties of contacts and companies, and the owners
 * a record's hubspot_owner_id names ("Owner's extension" rows) or a call log's agent e-mail
 * names; and what the call log writes: calls, and contacts for unknown callers (HubSpot's calls
 * API takes crm.objects.contacts.write).
 */
export const HUBSPOT_SCOPES = ['crm.objects.contacts.read', 'crm.objects.companies.read', 'crm.objects.owners.read', 'crm.objects.contacts.write'] as const;
