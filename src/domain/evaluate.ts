/**
 * Row evaluation: the CRM value against the rule's rows, in the order the administrator chose;
 * the first matching row wins. Both sides numeric: compared as numbers. Otherwise "=" compares
 * the trimmed text ignoring case and the ordering operators never match (the form warns).
 * Pure and synchronous: it runs on the caller's path.
 */
import type { Operator } from './operators';
import type { RuleRow } from './rule';

/** Longest CRM value a regular expression is run against; a longer one is cut (bounds its cost). */
export const REGEX_INPUT_LIMIT = 1024;

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  return NUMBER.test(trimmed) ? Number(trimmed) : undefined;
}

/** Index of the first row the value matches, or null when none does. */
export function evaluateRows(value: string, rows: readonly Pick<RuleRow, 'operator' | 'value'>[]): number | null {
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i]!;
    if (rowMatches(value, row.operator, row.value)) return i;
  }
  return null;
}

export function rowMatches(crmValue: string, operator: Operator, rowValue: string): boolean {
  const value = crmValue.trim();
  if (operator === 'empty') return value === '';
  if (value === '') return false;
  const expected = rowValue.trim();
  const a = parseNumber(value);
  const b = parseNumber(expected);
  const numeric = a !== undefined && b !== undefined;
  switch (operator) {
    case 'eq':
      return numeric ? a === b : sameText(value, expected);
    case 'ne':
      return numeric ? a !== b : !sameText(value, expected);
    case 'lt':
      return numeric && a < b;
    case 'gt':
      return numeric && a > b;
    case 'le':
      return numeric && a <= b;
    case 'ge':
      return numeric && a >= b;
    case 'contains':
      return fold(value).includes(fold(expected));
    case 'starts_with':
      return fold(value).startsWith(fold(expected));
    case 'regex':
      return compiled(rowValue).test(value.slice(0, REGEX_INPUT_LIMIT));
  }
}

function fold(text: string): string {
  return text.toLocaleLowerCase('en-US');
}

// localeCompare with options builds a collator on every call (~20 µs, most of evaluating a
// call's rows); one collator compares the same way (ECMA-402) in well under a microsecond.
const collator = new Intl.Collator('en-US', { sensitivity: 'accent' });

function sameText(a: string, b: string): boolean {
  return collator.compare(a, b) === 0;
}

// Patterns are few and rules are cached, so each pattern is compiled once.
const patterns = new Map<string, RegExp>();

function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'i');
    if (patterns.size > 10_000) patterns.clear();
    patterns.set(pattern, re);
  }
  return re;
}
