/**
 * The reference host's destination catalog: what a small PBX has (extensions, queues, IVRs,
 * recordings, voicemail boxes) and where each lives in its dialplan.
 */
import type { CatalogEntry, DialplanTarget, HostDestinations } from '../../src/host';

export const SEEDED_CATALOG: CatalogEntry[] = [
  { kind: 'extension', id: '100', label: '100 - Test' },
  { kind: 'extension', id: '101', label: '101 - Reception' },
  { kind: 'extension', id: '102', label: '102 - Support desk' },
  { kind: 'queue', id: '103', label: '103 - Sales queue' },
  { kind: 'queue', id: '104', label: '104 - Support queue' },
  { kind: 'queue', id: '105', label: '105 - VIP queue' },
  { kind: 'ivr', id: '200', label: '200 - Main menu' },
  { kind: 'ivr', id: '201', label: '201 - After hours' },
  { kind: 'recording', id: 'welcome-en', label: 'welcome-en - Welcome (English)' },
  { kind: 'recording', id: 'enter-account', label: 'enter-account - Enter your account number' },
  { kind: 'recording', id: 'closed', label: 'closed - We are closed' },
  { kind: 'voicemail', id: '100', label: '100 - Test voicemail' },
  { kind: 'voicemail', id: '101', label: '101 - Reception voicemail' },
];

export class ReferenceCatalog implements HostDestinations {
  constructor(private readonly entries: CatalogEntry[] = SEEDED_CATALOG) {}

  list(): CatalogEntry[] {
    return this.entries;
  }

  target(_tenantId: string, dest: { type: string; target: string }, options: { voicemail?: 'yes' | 'no' | 'unset' } = {}): DialplanTarget | undefined {
    if (dest.type === 'hangup') return { context: 'app-blackhole', exten: 'hangup', priority: 1 };
    const entry = this.entries.find((e) => e.kind === dest.type && e.id === dest.target);
    if (!entry) return undefined;
    switch (entry.kind) {
      case 'extension':
        if (options.voicemail === 'yes') return { context: 'ext-voicemail', exten: entry.id, priority: 1 };
        return { context: 'ext-local', exten: entry.id, priority: 1, ...(options.voicemail === 'no' ? { variables: { NO_VOICEMAIL: '1' } } : {}) };
      case 'queue':
        return { context: 'ext-queues', exten: entry.id, priority: 1 };
      case 'ivr':
        return { context: `ivr-${entry.id}`, exten: 's', priority: 1 };
      case 'recording':
        return { context: 'crm-play-recording', exten: 's', priority: 1, variables: { CRM_ROUTING_RECORDING: entry.id } };
      case 'voicemail':
        return { context: 'ext-voicemail', exten: entry.id, priority: 1 };
      default:
        return undefined;
    }
  }
}
