/**
 * Row operators. The first five are the seed's; the rest are the extended set, each documented
 * here once and shown in the Routing form from this table.
 */
export const OPERATORS = ['lt', 'gt', 'eq', 'le', 'ge', 'ne', 'contains', 'starts_with', 'regex', 'empty'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface OperatorInfo {
  symbol: string;
  label: string;
  help: string;
  /** Compares as numbers only; text never matches (the form warns). */
  ordering: boolean;
  /** Takes no value. */
  unary: boolean;
}

export const OPERATOR_INFO: Record<Operator, OperatorInfo> = {
  lt: { symbol: '<', label: 'less than', ordering: true, unary: false,
    help: 'Both the CRM value and this value are numbers and the CRM value is smaller.' },
  gt: { symbol: '>', label: 'greater than', ordering: true, unary: false,
    help: 'Both are numbers and the CRM value is larger.' },
  eq: { symbol: '=', label: 'equals', ordering: false, unary: false,
    help: 'Numbers compare as numbers (5 = 5.0); otherwise the trimmed text, ignoring case. Never matches an empty value: use "is empty".' },
  le: { symbol: '<=', label: 'at most', ordering: true, unary: false,
    help: 'Both are numbers and the CRM value is smaller or equal.' },
  ge: { symbol: '>=', label: 'at least', ordering: true, unary: false,
    help: 'Both are numbers and the CRM value is larger or equal.' },
  ne: { symbol: '!=', label: 'not equal', ordering: false, unary: false,
    help: 'The opposite of "=". An empty CRM value never matches.' },
  contains: { symbol: 'contains', label: 'contains', ordering: false, unary: false,
    help: 'The CRM value contains this text, ignoring case.' },
  starts_with: { symbol: 'starts with', label: 'starts with', ordering: false, unary: false,
    help: 'The CRM value begins with this text, ignoring case.' },
  regex: { symbol: 'matches', label: 'matches regex', ordering: false, unary: false,
    help: 'A JavaScript regular expression, ignoring case, e.g. ^(gold|platinum)$.' },
  empty: { symbol: 'is empty', label: 'is empty', ordering: false, unary: true,
    help: 'The caller was not found in the CRM or the field is blank. Takes no value.' },
};
