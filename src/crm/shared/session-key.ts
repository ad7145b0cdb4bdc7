/**
 * Token-cache keys and the credentials a lookup uses. A key names the CRM, the integration's
 * base URL and whatever else selects a session, plus a SHA-256 of the credentials: two rules
 * with different CRM users get different sessions, and no secret is ever kept in a key.
 */
import { createHash } from 'node:crypto';
import { CrmError } from './crm-error';
import type { Credentials } from '../integration';

export function sessionKey(kind: string, baseUrl: string, parts: string[], secrets: string[]): string {
  const digest = createHash('sha256').update(JSON.stringify(secrets)).digest('hex');
  return [kind, baseUrl, ...parts, digest].join('|');
}

/** A rule's CRM Username / CRM Password, each over the integration's default when non-empty. */
export function effectiveCredentials(rule: Credentials, defaults: { username?: string; password?: string }): Credentials {
  return {
    username: rule.username.trim() !== '' ? rule.username.trim() : (defaults.username ?? '').trim(),
    password: rule.password !== '' ? rule.password : defaults.password ?? '',
  };
}

/** effectiveCredentials when both hold something; otherwise CONFIG, `missing` saying what to set where. */
export function requiredCredentials(rule: Credentials, defaults: { username?: string; password?: string }, missing: string): Credentials {
  const credentials = effectiveCredentials(rule, defaults);
  if (credentials.username === '' || credentials.password === '') throw new CrmError('CONFIG', missing);
  return credentials;
}
