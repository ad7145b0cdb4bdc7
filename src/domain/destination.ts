/** Where a row or a rule's default sends a call, as an administrator chose it. */
export const DESTINATION_TYPES = ['queue', 'ivr', 'recording', 'extension', 'voicemail', 'hangup'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

/** Labels as the Routing form shows them. */
export const DESTINATION_TYPE_LABELS: Record<DestinationType, string> = {
  queue: 'Queue',
  ivr: 'IVR',
  recording: 'Play recording',
  extension: 'Extension',
  voicemail: 'Voicemail',
  hangup: 'Hang up',
};

export interface DestinationRef {
  type: DestinationType;
  /** Queue / IVR / extension number, recording name or voicemail box; empty for hang up. */
  target: string;
}

/** "Default Destination Voicemail": send the default destination to its voicemail, not, or host default. */
export const DEFAULT_VOICEMAIL = ['yes', 'no', 'unset'] as const;
export type DefaultVoicemail = (typeof DEFAULT_VOICEMAIL)[number];

export function describeDestination(dest: DestinationRef): string {
  const label = DESTINATION_TYPE_LABELS[dest.type];
  return dest.type === 'hangup' ? label : `${label} ${dest.target}`;
}
