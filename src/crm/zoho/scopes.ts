/**
 * The OAuth scopes the Zoho connector needs, named once: the Connect button asks for them, every
 * help text and error advice names them, and Test connection proves each one. Per Zoho's v8 API
 * documentation: the search API needs a records scope AND ZohoSearch.securesearch.READ (without
 * it Zoho answers 401 OAUTH_SCOPE_MISMATCH); field metadata needs ZohoCRM.settings.fields.READ;
 * the module list needs ZohoCRM.settings.modules.READ. ZohoCRM.settings.ALL and
 * ZohoCRM.modules.ALL cover the narrower ones.
 */
export const ZOHO_SCOPES = {
  records: 'ZohoCRM.modules.READ',
  search: 'ZohoSearch.securesearch.READ',
  fields: 'ZohoCRM.settings.fields.READ',
  modules: 'ZohoCRM.settings.modules.READ',
} as const;

/**
 * What the call log needs besides: creating Calls (and the Contact or Lead of an unknown caller),
 * per Zoho's v8 "Insert Records" (ZohoCRM.modules.{module}.CREATE), and reading the users list
 * to find an agent's Zoho user by e-mail (ZohoCRM.users.READ).
 */
export const ZOHO_CALL_LOG_SCOPES = {
  calls: 'ZohoCRM.modules.calls.CREATE',
  contacts: 'ZohoCRM.modules.contacts.CREATE',
  leads: 'ZohoCRM.modules.leads.CREATE',
  users: 'ZohoCRM.users.READ',
} as const;

/** Every scope, in the comma-separated form Zoho's consent page and API console take. */
export const ZOHO_SCOPE_LIST = [ZOHO_SCOPES.records, ZOHO_SCOPES.search, ZOHO_SCOPES.fields, ZOHO_SCOPES.modules, ...Object.values(ZOHO_CALL_LOG_SCOPES)].join(',');

/** The scopes one request needs, as an administrator reads them. */
export type ScopeNeed = string[];

export function searchScopes(module: string): ScopeNeed {
  return [`${ZOHO_SCOPES.records} (or ZohoCRM.modules.${module.toLowerCase()}.READ)`, ZOHO_SCOPES.search];
}

export const FIELDS_SCOPES: ScopeNeed = [ZOHO_SCOPES.fields];
export const MODULES_SCOPES: ScopeNeed = [ZOHO_SCOPES.modules];

/**
 * What an OAUTH_SCOPE_MISMATCH answer means for the administrator. Zoho's answer does not name
 * the missing scope (its `details` are empty or name the URL); when a scope name does appear in
 * it, that one is reported, otherwise the scopes the refused request needs.
 */
export function scopeAdvice(details: unknown, need: ScopeNeed): string {
  const named = scopesIn(details);
  const missing = named.length > 0 ? `lacks ${named.join(' and ')}` : `lacks a scope this request needs: ${need.join(' and ')}`;
  return `the refresh token ${missing}. Press Connect again, or generate a new refresh token with the scopes ${ZOHO_SCOPE_LIST}`;
}

function scopesIn(details: unknown): string[] {
  if (details === null || typeof details !== 'object') return [];
  const values = Object.values(details as Record<string, unknown>).flatMap((v) => (Array.isArray(v) ? v : [v]));
  return values.filter((v): v is string => typeof v === 'string' && /^Zoho[A-Za-z]+\.[A-Za-z_.]+$/.test(v)).slice(0, 3);
}
