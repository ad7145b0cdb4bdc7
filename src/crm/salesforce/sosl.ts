/**
 * The SOSL phone search: `FIND {digits} IN PHONE FIELDS RETURNING {Object}({fields} ORDER BY
 * LastModifiedDate DESC LIMIT 10)`. Only digits reach the query, SOSL-escaped anyway. ORDER BY
 * and LIMIT sit inside RETURNING, per object (SOSL reference, "RETURNING FieldSpec" and "ORDER
 * BY Clause"): when more than ten records share a number, the ten most recently modified come
 * back, so the newest one is among them.
 */
import type { PhoneVariants } from '../../domain/phone';

/** Records one search returns; the newest of them is picked. */
export const SOSL_LIMIT = 10;

/** Backslash before every SOSL reserved character: ? & | ! { } [ ] ( ) ^ ~ * : \ " ' + - */
export function escapeSosl(term: string): string {
  return term.replace(/[?&|!{}[\]()^~*:\\"'+-]/g, (c) => `\\${c}`);
}

export function soslQuery(phone: PhoneVariants, object: string, field: string, phoneFields: string[]): string {
  const terms = [...new Set([phone.national, phone.international, phone.nationalWithTrunk])].filter((t) => /^\d{2,}$/.test(t)).map(escapeSosl);
  const seen = new Set<string>();
  const fields = ['Id', field, ...phoneFields, 'LastModifiedDate'].filter((f) => !seen.has(f.toLowerCase()) && seen.add(f.toLowerCase()));
  return `FIND {${terms.join(' OR ')}} IN PHONE FIELDS RETURNING ${object}(${fields.join(', ')} ORDER BY LastModifiedDate DESC LIMIT ${SOSL_LIMIT})`;
}
