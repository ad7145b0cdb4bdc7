/**
 * Settings every CRM section of the Integration page carries, declared once.
 */
import { getCountries } from 'libphonenumber-js';
import { z } from 'zod';
import type { CountryCode } from '../../domain/phone';
import type { SettingField } from '../integration';

const COUNTRIES = getCountries();

/** The tenant's default phone region: how a caller ID without a country code is read. */
export const regionField: SettingField = {
  name: 'region',
  label: 'Default phone region',
  help: 'Country used to read caller numbers that arrive without a country code (ISO code, e.g. US, GB, DE).',
  type: 'select',
  secret: false,
  required: true,
  defaultValue: 'US',
  options: COUNTRIES.map((code) => ({ value: code, label: code })),
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
