/**
 * Zoho's data centres. Where an account lives decides the Accounts server that signs it in and
 * the API domain its records are served from; tokens of one data centre are refused by the
 * others. Zoho's OAuth callback names the account's data centre twice (`location` and
 * `accounts-server`); both are checked against this table, so a code (and the client secret
 * that goes with it) is only ever sent to a Zoho Accounts server.
 *
 * Add a line for a new data centre. `location` is the code Zoho puts in the callback (us, eu and
 * in are in Zoho's documentation; the others follow the same pattern and are matched only
 * together with an `accounts-server` that is in this table).
 */
import { CrmError } from '../shared/crm-error';

export interface ZohoDataCentre {
  label: string;
  /** Accounts server (OAuth). */
  accounts: string;
  /** Domain the API hosts of this data centre end with. */
  apiDomain: string;
  /** The `location` code of Zoho's OAuth callback. */
  location: string;
}

export const ZOHO_DATA_CENTRES = {
  com: { label: 'United States (zoho.com)', accounts: 'https://accounts.zoho.com', apiDomain: 'zohoapis.com', location: 'us' },
  eu: { label: 'Europe (zoho.eu)', accounts: 'https://accounts.zoho.eu', apiDomain: 'zohoapis.eu', location: 'eu' },
  in: { label: 'India (zoho.in)', accounts: 'https://accounts.zoho.in', apiDomain: 'zohoapis.in', location: 'in' },
  'com.au': { label: 'Australia (zoho.com.au)', accounts: 'https://accounts.zoho.com.au', apiDomain: 'zohoapis.com.au', location: 'au' },
  jp: { label: 'Japan (zoho.jp)', accounts: 'https://accounts.zoho.jp', apiDomain: 'zohoapis.jp', location: 'jp' },
  ca: { label: 'Canada (zohocloud.ca)', accounts: 'https://accounts.zohocloud.ca', apiDomain: 'zohoapis.ca', location: 'ca' },
  sa: { label: 'Saudi Arabia (zoho.sa)', accounts: 'https://accounts.zoho.sa', apiDomain: 'zohoapis.sa', location: 'sa' },
  'com.cn': { label: 'China (zoho.com.cn)', accounts: 'https://accounts.zoho.com.cn', apiDomain: 'zohoapis.com.cn', location: 'cn' },
} as const satisfies Record<string, ZohoDataCentre>;
export type ZohoDataCentreId = keyof typeof ZOHO_DATA_CENTRES;
export const ZOHO_DATA_CENTRE_IDS = Object.keys(ZOHO_DATA_CENTRES) as [ZohoDataCentreId, ...ZohoDataCentreId[]];

/**
 * The data centre Zoho's OAuth callback names, or `configured` when it names none. An
 * `accounts-server` outside the table, or a `location` that disagrees with it, is refused.
 */
export function dataCentreOfCallback(callback: Record<string, string>, configured: ZohoDataCentreId): ZohoDataCentreId {
  const server = callback['accounts-server']?.trim().replace(/\/$/, '');
  const location = callback.location?.trim().toLowerCase();
  const byServer = server ? ZOHO_DATA_CENTRE_IDS.find((id) => ZOHO_DATA_CENTRES[id].accounts === server) : undefined;
  const byLocation = location ? ZOHO_DATA_CENTRE_IDS.find((id) => ZOHO_DATA_CENTRES[id].location === location) : undefined;
  if (server && !byServer) {
    throw new CrmError('CONFIG', `Zoho sent the sign-in back from ${JSON.stringify(server.slice(0, 80))}, which is not a Zoho Accounts server this plugin knows: the code was not exchanged.`);
  }
  if (byServer && location && byLocation !== byServer) {
    throw new CrmError('CONFIG', `Zoho's answer names two data centres (location ${JSON.stringify(location.slice(0, 10))}, accounts server ${server}): the code was not exchanged.`);
  }
  if (!server && location && !byLocation) {
    throw new CrmError('CONFIG', `Zoho sent the sign-in back from data centre ${JSON.stringify(location.slice(0, 10))}, which this plugin does not know: the code was not exchanged.`);
  }
  return byServer ?? byLocation ?? configured;
}

/** Only a zohoapis.* host gets the access token, whatever the token answer says. */
export function checkApiDomain(value: string | undefined): string {
  let url: URL | undefined;
  try { url = new URL(value ?? ''); } catch { url = undefined; }
  const host = url?.hostname ?? '';
  const known = Object.values(ZOHO_DATA_CENTRES).some((dc) => host === dc.apiDomain || host.endsWith(`.${dc.apiDomain}`));
  if (!url || url.protocol !== 'https:' || !known) throw new CrmError('BAD_RESPONSE', `Zoho Accounts answered with an API domain that is not a Zoho API host (${JSON.stringify(String(value ?? '').slice(0, 80))}).`);
  return url.origin;
}
