/**
 * The URL of a vendor's consent page for the "Connect" button: the endpoint with its parameters
 * percent-encoded the strict way (a space as %20, not +), as the vendors' own SDKs build it, so
 * a scope list such as "api refresh_token" reaches every consent page as written.
 */
import { encodeStrict } from './request-template';

export function consentUrl(endpoint: string | URL, params: Record<string, string | undefined>): string {
  const url = new URL(endpoint);
  url.search = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${encodeStrict(name)}=${encodeStrict(value)}`)
    .join('&');
  return url.toString();
}
