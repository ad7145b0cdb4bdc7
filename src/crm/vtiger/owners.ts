/**
 * Vtiger's record owner: `assigned_user_id` holds a webservice id of the Users module ("19x5";
 * a group's id, "20x2", when a group owns the record). `operation=retrieve&id=19x5` answers the
 * user with `email1`; a group or an unknown id has no e-mail (Vtiger answers ACCESS_DENIED or
 * RECORD_NOT_FOUND for those), so the call takes the default destination.
 */
import { z } from 'zod';
import { emailOf } from '../owner-lookup';

export const VTIGER_USER_ID = /^[0-9]{1,5}x[0-9]{1,12}$/;

export const vtigerUserAnswer = z.looseObject({ email1: z.unknown().optional() });

export const vtigerUserEmail = (answer: z.infer<typeof vtigerUserAnswer>) => emailOf(answer.email1) ?? null;

/** Vtiger's answers for an id that is not a readable user. */
export const NOT_A_USER = /RECORD_NOT_FOUND|ACCESS_DENIED|INVALID_MODULE/;
