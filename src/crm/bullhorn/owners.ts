/**
 * Bullhorn's record owner: a rule reads the owner's id with the field `owner(id)` (the to-one
 * association `owner` is a CorporateUser); `GET {restUrl}entity/CorporateUser/{id}?fields=id,email`
 * answers `{data: {id, email}}`. An id Bullhorn does not know answers 404.
 */
import { z } from 'zod';
import { emailOf } from '../owner-lookup';

export const BULLHORN_USER_ID = /^[0-9]{1,12}$/;

export const corporateUserPath = (restUrl: string, id: string) => `${restUrl}entity/CorporateUser/${encodeURIComponent(id)}?fields=id,email`;

export const corporateUserAnswer = z.looseObject({ data: z.looseObject({ email: z.unknown().optional() }).nullish() });

export const corporateUserEmail = (answer: z.infer<typeof corporateUserAnswer> | null) => emailOf(answer?.data?.email) ?? null;
