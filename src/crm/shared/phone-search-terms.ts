/**
 * What to hand a CRM's substring search ("contains", LIKE '%x%', substringof) when it stores
 * numbers as people typed them. The last 7 digits of the national number, contiguous, plus the
 * same tail as it appears in the usual written forms ('123-4567', '123 4567', '123.4567'), so
 * '(555) 123-4567' and '+44 20 7123 4567' are found too. Seven digits keep false positives rare
 * while staying clear of the area code and trunk prefix; every hit is re-checked with
 * isSamePhone anyway. Each term holds only digits, spaces and . - ( ): nothing a query language
 * treats specially, and connectors still escape them.
 */
import type { PhoneVariants } from '../../domain/phone';

export const TAIL_DIGITS = 7;
const SEARCHABLE = /^[0-9 .()-]+$/;

export function phoneSearchTerms(phone: PhoneVariants, digits = TAIL_DIGITS): string[] {
  const national = phone.national;
  if (national === '') return [];
  if (national.length <= digits) return [national];
  const tail = national.slice(-digits);
  const terms = new Set<string>([tail]);
  for (const form of phone.exactForms) {
    const suffix = suffixCovering(form, digits);
    if (suffix !== undefined && suffix.replace(/\D/g, '') === tail && SEARCHABLE.test(suffix)) terms.add(suffix);
  }
  return [...terms];
}

/** The shortest end of `text` that holds its last `digits` digits, e.g. ('(555) 123-4567', 7) -> '123-4567'. */
function suffixCovering(text: string, digits: number): string | undefined {
  let seen = 0;
  for (let i = text.length - 1; i >= 0; i -= 1) {
    if (/\d/.test(text[i] as string)) seen += 1;
    if (seen === digits) return text.slice(i);
  }
  return undefined;
}
