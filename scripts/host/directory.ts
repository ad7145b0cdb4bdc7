/**
 * The reference host's directory: who each seeded extension belongs to, with the e-mail a CRM
 * knows that person by. Every tenant of the reference host has the same extensions.
 */
import type { DirectoryEntry, HostDirectory } from '../../src/host';

export const SEEDED_DIRECTORY: DirectoryEntry[] = [
  { extension: '100', name: 'Test User', email: 'test@example.com' },
  { extension: '101', name: 'Ana Reception', email: 'ana@example.com' },
  { extension: '102', name: 'Sam Support', email: 'sam@example.com' },
];

export class ReferenceDirectory implements HostDirectory {
  constructor(private readonly entries: readonly DirectoryEntry[] = SEEDED_DIRECTORY) {}

  find(_tenantId: string, key: { email: string } | { extension: string }): DirectoryEntry | undefined {
    if ('email' in key) {
      const email = key.email.trim().toLowerCase();
      return this.entries.find((e) => e.email?.toLowerCase() === email);
    }
    return this.entries.find((e) => e.extension === key.extension.trim());
  }

  isExtension(number: string): boolean {
    return this.entries.some((e) => e.extension === number);
  }
}
