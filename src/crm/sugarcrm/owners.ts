/**
 * SugarCRM's record owner: `assigned_user_id` names a user (a GUID); `GET {site}/rest/{version}/
 * Users/{id}?fields=email1,email` answers with `email1` (the primary address) and the `email`
 * list ({email_address, primary_address}), read here in that order.
 */
import { z } from 'zod';
import { emailOf } from '../owner-lookup';

/** Sugar ids are GUIDs, but imported records may carry other ids: letters, digits and dashes. */
export const SUGAR_USER_ID = /^[A-Za-z0-9-]{1,36}$/;

export const sugarUserPath = (base: string, id: string) => `${base}/Users/${encodeURIComponent(id)}?fields=email1,email`;

export const sugarUserAnswer = z.looseObject({
  email1: z.string().nullish(),
  email: z.array(z.looseObject({ email_address: z.string().nullish(), primary_address: z.unknown().optional() })).nullish(),
});

export function sugarUserEmail(answer: z.infer<typeof sugarUserAnswer> | null): string | null {
  if (!answer) return null;
  const listed = answer.email ?? [];
  const primary = listed.find((e) => e.primary_address === true || e.primary_address === '1' || e.primary_address === 1);
  return emailOf(answer.email1) ?? emailOf(primary?.email_address) ?? emailOf(listed[0]?.email_address) ?? null;
}
