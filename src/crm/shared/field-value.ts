/**
 * Turns a CRM field of any shape into the text the rows compare. CRMs answer with numbers,
 * booleans, picklists, multi-selects, lookups ({name, id}) and nulls; rows only see text.
 */
const NAME_KEYS = ['name', 'Name', 'label', 'display_value', 'value', 'Value', 'fullname', 'FullName'];

export function fieldValueToText(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (depth > 3) return '';
  if (Array.isArray(value)) {
    return value.map((item) => fieldValueToText(item, depth + 1)).filter((text) => text !== '').join('; ');
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of NAME_KEYS) {
      if (key in record && record[key] !== null && typeof record[key] !== 'object') return fieldValueToText(record[key], depth + 1);
    }
    // Dynamics option sets come back as {"Value": n} (handled above); anything else has no text.
    return '';
  }
  return '';
}
