/**
 * Pipedrive's record owner: `owner_id` of a person or organization (an integer on API v2) names
 * a user; `GET /v1/users/{id}` answers `{success, data: {id, name, email, ...}}`. Users have no
 * v2 endpoint yet, so this one read stays on v1 (`/api/v1/users/{id}`) (also reached with the api_token header or an
 * OAuth token with the users:read scope, part of the default "base" scope).
 * The call log reads users the other way round, by e-mail (`GET /api/v1/users/find?term=&search_by_email=1`).
 */
import { z } from 'zod';
import { emailOf } from '../owner-lookup';

export const PIPEDRIVE_USER_ID = /^[0-9]{1,15}$/;

export const pipedriveUserPath = (id: string) => `/api/v1/users/${encodeURIComponent(id)}`;
export const PIPEDRIVE_USERS_FIND_PATH = '/api/v1/users/find';

export const pipedriveUserAnswer = z.looseObject({ data: z.looseObject({ email: z.string().nullish() }).nullish() });

export function pipedriveUserEmail(answer: z.infer<typeof pipedriveUserAnswer> | null): string | null {
  return emailOf(answer?.data?.email) ?? null;
}
