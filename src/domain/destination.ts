/** Where a row or a rule's default sends a call, as an administrator chose it. */
export const DESTINATION_TYPES = ['queue', 'ivr', 'recording', 'extension', 'voicemail', 'hangup', 'owner'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

/** Labels as the Routing form shows them. */
export const DESTINATION_TYPE_LABELS: Record<DestinationType, string> = {
  queue: 'Queue',
  ivr: 'IVR',
  recording: 'Play recording',
  extension: 'Extension',
  voicemail: 'Voicemail',
  hangup: 'Hang up',
  owner: "Owner's extension",
};

export interface DestinationRef {
  type: DestinationType;
  /**
   * Queue / IVR / extension number, recording name or voicemail box; empty for hang up. For
   * "Owner's extension" (rows only): how the CRM value names the owner (an OwnerKey).
   */
  target: string;
}

/**
 * How the CRM value of an "Owner's extension" row names the record's owner: the owner's e-mail
 * address, their extension number, or the CRM's own user id (which the CRM resolves to an e-mail).
 */
export const OWNER_KEYS = ['email', 'extension', 'user_id'] as const;
export type OwnerKey = (typeof OWNER_KEYS)[number];

export const OWNER_KEY_LABELS: Record<OwnerKey, string> = {
  email: "the value is the owner's e-mail",
  extension: "the value is the owner's extension number",
  user_id: "the value is the owner's CRM user id",
};

export function isOwnerKey(value: string): value is OwnerKey {
  return (OWNER_KEYS as readonly string[]).includes(value);
}

/** "Default Destination Voicemail": send the default destination to its voicemail, not, or host default. */
export const DEFAULT_VOICEMAIL = ['yes', 'no', 'unset'] as const;
export type DefaultVoicemail = (typeof DEFAULT_VOICEMAIL)[number];

export function describeDestination(dest: DestinationRef): string {
  const label = DESTINATION_TYPE_LABELS[dest.type];
  if (dest.type === 'hangup') return label;
  if (dest.type === 'owner') return `${label} (${OWNER_KEY_LABELS[dest.target as OwnerKey] ?? dest.target})`;
  return `${label} ${dest.target}`;
}
