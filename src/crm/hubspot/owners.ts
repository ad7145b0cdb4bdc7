/**
 * HubSpot's record owner: `hubspot_owner_id` holds an owner id; `GET /crm/v3/owners/{ownerId}`
 * (scope crm.objects.owners.read) answers with its `email`. The owners API has no dated path in
 * the connector's API version yet that we could verify, so it stays on v3 (supported until
 * September 2027, like every numeric path). An owner HubSpot does not know (404, or archived)
 * has no e-mail for us: the call takes the default destination.
 *
 * The call log reads the same API the other way round: `GET /crm/v3/owners/?email=&limit=1`
 * gives the owner `id` (never its userId) of the agent's e-mail for hubspot_owner_id.
 */
import { z } from 'zod';
import { emailOf } from '../owner-lookup';

export const HUBSPOT_OWNER_ID = /^[0-9]{1,20}$/;

export const hubspotOwnerPath = (ownerId: string) => `/crm/v3/owners/${encodeURIComponent(ownerId)}?idProperty=id`;

export const hubspotOwnerAnswer = z.looseObject({ id: z.union([z.string(), z.number()]).optional(), email: z.string().nullish() });

/** The owner's e-mail from the answer; null when the owner has none. */
export function hubspotOwnerEmail(answer: z.infer<typeof hubspotOwnerAnswer> | null): string | null {
  return emailOf(answer?.email) ?? null;
}

export const hubspotOwnersByEmailPath = (email: string) => `/crm/v3/owners/?${new URLSearchParams({ email, limit: '1' }).toString()}`;

export const hubspotOwnerList = z.looseObject({ results: z.array(z.looseObject({ id: z.union([z.string(), z.number()]), email: z.string().nullish() })) });

/** The id of the owner whose e-mail is `email` (lower case) in a by-e-mail answer; null when none. */
export function hubspotOwnerIdOf(answer: z.infer<typeof hubspotOwnerList> | null, email: string): string | null {
  const owner = answer?.results.find((o) => o.email?.trim().toLowerCase() === email);
  return owner === undefined ? null : String(owner.id);
}
