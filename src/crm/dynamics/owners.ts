/**
 * Dynamics' record owner. A rule reads the owner with the field name `ownerid`: on Dynamics 365
 * the lookup then selects `_ownerid_value` and keeps its raw GUID (not the formatted name the
 * other `_x_value` columns give); on CRM 2015 it selects `OwnerId` (an EntityReference) and keeps
 * its `Id`. The GUID becomes an e-mail with one read of the user:
 * - Dynamics 365 (Web API v9.2): `GET systemusers({id})?$select=internalemailaddress`;
 * - CRM 2015 (OData v2): `GET SystemUserSet(guid'{id}')?$select=InternalEMailAddress`.
 * A record owned by a team names a team's GUID: no such user (404), so no e-mail.
 */
import { z } from 'zod';
import { emailOf } from '../owner-lookup';

/** The field name that reads the owner's GUID on both deployments. */
export const OWNER_ID_FIELD = 'ownerid';

export const DYNAMICS_USER_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const systemUser365Path = (id: string) => `systemusers(${id.toLowerCase()})?$select=internalemailaddress`;
export const systemUser365Answer = z.looseObject({ internalemailaddress: z.string().nullish() });

export const systemUser2015Path = (id: string) => `SystemUserSet(guid'${id.toLowerCase()}')?$select=InternalEMailAddress`;
export const systemUser2015Answer = z.looseObject({ d: z.looseObject({ InternalEMailAddress: z.string().nullish() }) });

/** The GUID of an OData v2 EntityReference ({Id, LogicalName, Name}); '' when there is none. */
export function entityReferenceId(value: unknown): string {
  const id = value !== null && typeof value === 'object' ? (value as { Id?: unknown }).Id : undefined;
  return typeof id === 'string' && DYNAMICS_USER_ID.test(id) && !/^0{8}-/.test(id) ? id : '';
}

export const emailOf365 = (answer: z.infer<typeof systemUser365Answer> | null) => emailOf(answer?.internalemailaddress) ?? null;
export const emailOf2015 = (answer: z.infer<typeof systemUser2015Answer> | null) => emailOf(answer?.d.InternalEMailAddress) ?? null;
