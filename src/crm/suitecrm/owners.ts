/**
 * SuiteCRM's record owner: `assigned_user_id` names a user (a UUID); one read of the Users
 * module gives `email1`, the user's primary address:
 * - V8: `GET {api}/V8/module/Users/{id}?fields[Users]=email1` -> `{data: {id, attributes: {email1}}}`;
 * - v4_1: `get_entry` of module Users, select_fields [email1] -> `entry_list[0].name_value_list.email1.value`
 *   (an id no user has comes back as an entry without email1).
 */
import { z } from 'zod';
import { emailOf } from '../owner-lookup';

export const SUITECRM_USER_ID = /^[A-Za-z0-9-]{1,36}$/;

export const v8UserPath = (id: string) => `V8/module/Users/${encodeURIComponent(id)}?${new URLSearchParams({ 'fields[Users]': 'email1' })}`;
export const v8UserAnswer = z.looseObject({ data: z.looseObject({ attributes: z.record(z.string(), z.unknown()).default({}) }) });
export const v8UserEmail = (answer: z.infer<typeof v8UserAnswer>) => emailOf(answer.data.attributes.email1) ?? null;

export const v4UserRequest = (session: string, id: string) => ({ session, module_name: 'Users', id, select_fields: ['email1'], link_name_to_fields_array: [] });
export const v4UserAnswer = z.looseObject({
  entry_list: z.array(z.looseObject({ name_value_list: z.union([z.record(z.string(), z.looseObject({ value: z.unknown() })), z.array(z.never())]) })).default([]),
});
export function v4UserEmail(answer: z.infer<typeof v4UserAnswer>): string | null {
  const values = answer.entry_list[0]?.name_value_list;
  return (values && !Array.isArray(values) ? emailOf(values.email1?.value) : undefined) ?? null;
}
