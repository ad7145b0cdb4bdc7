/**
 * Caller numbers as CRMs store them. A caller ID is parsed once with libphonenumber-js in the
 * tenant's default region; connectors pick the variant their most format-tolerant search wants,
 * and every number a CRM returns is checked again here (substring and full-text searches give
 * false positives). Pure: no I/O.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export type { CountryCode };

export interface PhoneVariants {
  /** As Asterisk gave it, trimmed. */
  raw: string;
  /** Digits only of the raw caller ID. */
  rawDigits: string;
  /** '+15551234567'; empty when the caller ID is not a possible phone number (an extension, say). */
  e164: string;
  /** '1' */
  countryCode: string;
  /** National significant number, digits only: '5551234567' (falls back to rawDigits). */
  national: string;
  /** National form with the trunk prefix where the country has one: '02071234567'; else equals national. */
  nationalWithTrunk: string;
  /** Country code plus national number, digits only: '15551234567'. */
  international: string;
  /** Formats people type, for CRMs that only match exactly ('+1 555 123 4567', '(555) 123-4567', ...). */
  exactForms: string[];
}

export function phoneVariants(callerId: string, region: CountryCode): PhoneVariants {
  const raw = callerId.trim();
  const rawDigits = raw.replace(/\D/g, '');
  const parsed = rawDigits.length >= 5 ? parsePhoneNumberFromString(raw, region) : undefined;
  if (!parsed || !parsed.isPossible()) {
    return { raw, rawDigits, e164: '', countryCode: '', national: rawDigits, nationalWithTrunk: rawDigits, international: rawDigits, exactForms: unique([raw, rawDigits]) };
  }
  const national = parsed.nationalNumber;
  const nationalFormatted = parsed.format('NATIONAL');
  const nationalWithTrunk = nationalFormatted.replace(/\D/g, '');
  const international = `${parsed.countryCallingCode}${national}`;
  const exactForms = unique([
    parsed.number,
    parsed.format('INTERNATIONAL'),
    nationalFormatted,
    international,
    national,
    nationalWithTrunk,
    ...(parsed.countryCallingCode === '1' && national.length === 10 ? nanpForms(national) : []),
  ]);
  return { raw, rawDigits, e164: parsed.number, countryCode: parsed.countryCallingCode, national, nationalWithTrunk, international, exactForms };
}

/** The last `count` digits of the national number (for "ends with" searches). */
export function lastDigits(phone: PhoneVariants, count: number): string {
  return phone.national.slice(-count);
}

/**
 * An extension written after a stored number: "x123", "x.123", "ext 123", "ext. 123",
 * "extension 123", ";ext=123" (RFC 3966), "#123". It is not part of the number the caller
 * dials from, so it never takes part in a comparison.
 */
const EXTENSION = /\s*(?:;\s*ext\s*=|(?:\bext(?:ension)?|(?<![a-z])x)\.?|#)\s*\d{1,8}\s*$/i;

/** The stored number without a trailing extension ('555-000-5555 x123' -> '555-000-5555'). */
export function withoutExtension(stored: string): string {
  const match = EXTENSION.exec(stored);
  // Only where a number stands before it: "x123" alone is not "a number with an extension".
  if (!match || stored.slice(0, match.index).replace(/\D/g, '').length < 5) return stored;
  return stored.slice(0, match.index);
}

/**
 * Whether a number a CRM returned is the caller's: compares national significant numbers,
 * ignoring formatting, an extension, the '+'/'00' prefix, the country code and the trunk '0'.
 */
export function isSamePhone(stored: string, caller: PhoneVariants): boolean {
  let digits = withoutExtension(stored).replace(/\D/g, '');
  if (digits === '' || caller.national === '') return false;
  if (digits.startsWith('00')) digits = digits.slice(2);
  if (digits === caller.national || digits === caller.international || digits === caller.nationalWithTrunk) return true;
  // Stored without country code in another notation: compare the last 9+ digits of both.
  const tail = Math.min(caller.national.length, 10);
  return tail >= 9 && digits.length >= tail && digits.slice(-tail) === caller.national.slice(-tail);
}

function nanpForms(national: string): string[] {
  const [a, b, c] = [national.slice(0, 3), national.slice(3, 6), national.slice(6)];
  return [`(${a}) ${b}-${c}`, `${a}-${b}-${c}`, `${a}.${b}.${c}`, `+1 (${a}) ${b}-${c}`, `1-${a}-${b}-${c}`];
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}
