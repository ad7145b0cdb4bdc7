/** A VTQL string literal: single quotes around, backslashes and quotes inside escaped. */
export function sqlLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
