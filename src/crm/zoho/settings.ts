/**
 * Zoho CRM's section of CRM > Integration: its settings, what each one is, and their checks. The
 * help names the exact scopes (scopes.ts), the search scope included.
 */
import { z } from 'zod';
import { regionField, regionSchema } from '../shared/common-settings';
import type { SettingField } from '../integration';
import { ZOHO_DATA_CENTRE_IDS, ZOHO_DATA_CENTRES } from './data-centres';
import { ZOHO_SCOPE_LIST } from './scopes';

export const zohoSettingsSchema = z.object({
  region: regionSchema,
  dataCentre: z.enum(ZOHO_DATA_CENTRE_IDS, { message: 'Choose the data centre of your Zoho account: the domain you sign in at (zoho.com, zoho.eu, zoho.in...).' }),
  clientId: z.string().trim().min(1, 'Enter the Client ID of your Zoho API client (API console of your data centre).'),
  clientSecret: z.string().trim().min(1, 'Enter the Client Secret of your Zoho API client.'),
  refreshToken: z.string().trim().default(''),
});
export type ZohoSettings = z.infer<typeof zohoSettingsSchema>;

export const zohoFields: SettingField[] = [
  regionField,
  {
    name: 'dataCentre', label: 'Data centre', type: 'select', secret: false, required: true, defaultValue: 'com',
    help: 'Where your Zoho account lives: the domain you sign in at (zoho.com, zoho.eu, zoho.in...). Connect sets it from Zoho\'s answer.',
    options: ZOHO_DATA_CENTRE_IDS.map((id) => ({ value: id, label: ZOHO_DATA_CENTRES[id].label })),
  },
  {
    name: 'clientId', label: 'Client ID', type: 'text', secret: false, required: true,
    help: 'From the Zoho API console of your data centre (api-console.zoho.com, .eu, .in...): a Server-based Application for Connect (its redirect URL is shown on this page), or a Self Client to paste a refresh token.',
  },
  { name: 'clientSecret', label: 'Client Secret', type: 'secret', secret: true, required: true, help: 'Client Secret of the same client.' },
  {
    name: 'refreshToken', label: 'Refresh token', type: 'secret', secret: true, required: false,
    help: `Filled by Connect. Without Connect: generate it from the Self Client with exactly these scopes: ${ZOHO_SCOPE_LIST} (the search API refuses a token without ZohoSearch.securesearch.READ). Leave empty if every rule enters its own in CRM Password.`,
  },
];

export const zohoCredentialsHelp = `Username: not used. Password: a Zoho refresh token (client of the same data centre, scopes ${ZOHO_SCOPE_LIST}), used instead of the integration's.`;
