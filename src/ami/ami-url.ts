/**
 * AMI settings from one URL, `ami://user:secret@host:5038`, as the reference host reads them
 * from AMI_URL. The same zod schema validates settings a host passes in directly.
 */
import { z } from 'zod';
import type { AmiSettings } from '../host';

export const DEFAULT_AMI_PORT = 5038;
const URL_SHAPE = 'ami://user:secret@host:5038';

const noControlCharacters = (text: string) => !/[\u0000-\u001f\u007f]/.test(text);

export const amiSettingsSchema = z.object({
  host: z
    .string()
    .min(1, 'the host is missing')
    .max(253, 'the host is longer than 253 characters')
    .refine(noControlCharacters, 'the host contains control characters'),
  port: z
    .number()
    .int('the port must be a whole number')
    .min(1, 'the port must be between 1 and 65535')
    .max(65535, 'the port must be between 1 and 65535'),
  username: z
    .string()
    .min(1, 'the user name is missing')
    .max(128, 'the user name is longer than 128 characters')
    .refine(noControlCharacters, 'the user name contains a line break or another control character'),
  secret: z
    .string()
    .min(1, 'the secret is missing')
    .max(256, 'the secret is longer than 256 characters')
    .refine(noControlCharacters, 'the secret contains a line break or another control character'),
});

export class AmiSettingsError extends Error {
  override readonly name = 'AmiSettingsError';
}

/** Validates AMI settings; throws AmiSettingsError saying what is wrong (never echoing the secret). */
export function validateAmiSettings(settings: AmiSettings): AmiSettings {
  const problems = settingsProblems(settings);
  if (problems) throw new AmiSettingsError(`The AMI settings are not valid: ${problems}.`);
  return settings;
}

/** The schema's complaints joined into one sentence (they name fields, never values), or undefined. */
function settingsProblems(settings: AmiSettings): string | undefined {
  const parsed = amiSettingsSchema.safeParse(settings);
  if (parsed.success) return undefined;
  return [...new Set(parsed.error.issues.map((issue) => issue.message))].join('; ');
}

/** Parses `ami://user:secret@host[:port]` (user and secret percent-encoded). */
export function parseAmiUrl(text: string): AmiSettings {
  const fail = (why: string): never => {
    throw new AmiSettingsError(`AMI_URL is not valid: ${why} (expected ${URL_SHAPE}).`);
  };
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return fail('it is not a URL');
  }
  if (url.protocol !== 'ami:') fail(`it starts with ${url.protocol}// instead of ami://`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    fail('it has a path, query or fragment after the port');
  }
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      return fail(`the ${what} has a broken %-escape`);
    }
  };
  const port = url.port === '' ? DEFAULT_AMI_PORT : Number(url.port);
  // WHATWG URL keeps the brackets of an IPv6 literal; net.connect wants the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const settings = { host, port, username: decode(url.username, 'user name'), secret: decode(url.password, 'secret') };
  const problems = settingsProblems(settings);
  if (problems) fail(problems);
  return settings;
}
