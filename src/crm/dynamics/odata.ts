/**
 * What both Dynamics flavours share: OData string quoting, the phone filter, the phone columns
 * of the stock entities, reading an answer (with the server's own words for a refused query),
 * and the pick among several matches.
 */
import type { z } from 'zod';
import { CrmError, errorForStatus } from '../shared/crm-error';
import type { HttpResponse } from '../shared/http-client';
import { parseJsonBody, retryAfterMs } from '../shared/vendor-call';

/** Entity, set and column names: letters, digits, underscore (lookups read as _x_value). */
export const ODATA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An OData string literal: single quotes around, each quote inside doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * `substringof('123-4567',Telephone1) or ...` (OData v2) or `contains(telephone1,'123-4567') or ...`
 * (OData v4): Dynamics stores numbers as typed and normalises nothing, so each column is searched
 * for each written form of the number's tail.
 */
export function phoneFilter(columns: string[], terms: string[], dialect: 'v2' | 'v4'): string {
  return columns
    .flatMap((column) => terms.map((term) => (dialect === 'v2' ? `substringof(${odataString(term)},${column})` : `contains(${column},${odataString(term)})`)))
    .join(' or ');
}

/** A query string with OData's `$` option names kept readable and every value percent-encoded. */
export function odataQuery(options: Array<[string, string]>): string {
  return options.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
}

/** Stock phone columns by entity (logical names; CRM 2015 uses the schema names of the same columns). */
export const PHONE_COLUMNS: Record<string, string[]> = {
  contact: ['telephone1', 'telephone2', 'telephone3', 'mobilephone'],
  account: ['telephone1', 'telephone2', 'telephone3'],
  lead: ['telephone1', 'telephone2', 'telephone3', 'mobilephone'],
};

/** Schema names of the stock phone columns, for the OData v2 endpoint. */
export const SCHEMA_NAMES: Record<string, string> = {
  telephone1: 'Telephone1', telephone2: 'Telephone2', telephone3: 'Telephone3', mobilephone: 'MobilePhone',
};

/** 'Contacts', 'contact', 'Contact' -> 'contact'; anything else lower-cased (logical names are). */
export function logicalEntityName(module: string): string {
  const lower = module.trim().toLowerCase();
  const singular = lower.replace(/s$/, '');
  return singular in PHONE_COLUMNS ? singular : lower;
}

export function checkName(name: string, what: string): void {
  if (!ODATA_NAME.test(name)) throw new CrmError('CONFIG', `"${name}" is not a Dynamics ${what} name (letters, digits and _ only).`);
}

/**
 * Status -> CrmError as everywhere, except that a 400 (a refused query: unknown column, bad
 * filter) carries the server's own message, which names the wrong column.
 */
export function readODataJson<T>(res: HttpResponse, what: string, schema?: z.ZodType<T>): T | null {
  if (res.status >= 200 && res.status < 300) return parseJsonBody(res, what, schema);
  if (res.status === 400) {
    const said = odataErrorMessage(res.body);
    return fail(new CrmError('HTTP_ERROR', `${what} refused the query (400)${said ? `: ${said}` : ''}. Check the module and field names.`, { status: 400 }));
  }
  return fail(errorForStatus(res.status, what, retryAfterMs(res)));
}

function fail(error: CrmError): never {
  throw error;
}

/** OData v2 `{"error":{"message":{"value":"..."}}}` or v4 `{"error":{"message":"..."}}`. */
export function odataErrorMessage(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    const text = typeof message === 'string' ? message : typeof (message as { value?: unknown })?.value === 'string' ? (message as { value: string }).value : undefined;
    return text?.slice(0, 200);
  } catch {
    return undefined;
  }
}
