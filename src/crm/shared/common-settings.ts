/**
 * Settings every CRM section of the Integration page carries, declared once.
 */
import { getCountries } from 'libphonenumber-js';
import { z } from 'zod';
import type { CountryCode } from '../../domain/phone';
import type { SettingField } from '../integration';

const COUNTRIES = getCountries();
const REGION_NAMES = new Intl.DisplayNames(['en'], { type: 'region' });

/** "Germany (DE)", in name order: what an administrator looks for in the list. */
function countryOptions(): Array<{ value: string; label: string }> {
  return COUNTRIES.map((code) => ({ value: code, label: `${REGION_NAMES.of(code) ?? code} (${code})` })).sort((a, b) => a.label.localeCompare(b.label, 'en'));
}

/** The tenant's default phone region: how a caller ID without a country code is read. */
export const regionField: SettingField = {
  name: 'region',
  label: 'Default phone region',
  help: 'Country used to read caller numbers that arrive without a country code (e.g. United States (US), United Kingdom (GB), Germany (DE)).',
  type: 'select',
  secret: false,
  required: true,
  defaultValue: 'US',
  options: countryOptions(),
};

export const regionSchema = z
  .string()
  .trim()
  .toUpperCase()
  .refine((code): code is CountryCode => (COUNTRIES as string[]).includes(code), { message: 'Choose a country code such as US, GB or DE.' })
  .transform((code) => code as CountryCode);

/** A bare https:// address, as a setting takes it: no user, password or query string in it. */
export function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.username === '' && url.password === '' && url.search === '';
  } catch {
    return false;
  }
}
