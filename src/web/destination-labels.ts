/**
 * Destinations as an administrator knows them: the host catalog's label ("105 - VIP queue"),
 * not the stored reference ("queue 105"). A destination the PBX no longer has says so.
 */
import type { CatalogEntry } from '../host';
import { DESTINATION_TYPE_LABELS, describeDestination, type DestinationRef } from '../domain/destination';

export function destinationLabel(dest: DestinationRef, catalog: readonly CatalogEntry[]): string {
  if (dest.type === 'hangup') return DESTINATION_TYPE_LABELS.hangup;
  if (dest.type === 'owner') return describeDestination(dest);
  const entry = catalog.find((e) => e.kind === dest.type && e.id === dest.target);
  return entry ? entry.label : `${DESTINATION_TYPE_LABELS[dest.type]} ${dest.target} (no longer on this PBX)`;
}
