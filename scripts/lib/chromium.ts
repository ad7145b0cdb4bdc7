/**
 * Headless Chromium for the browser tests and the screenshot script: Debian's package
 * (/usr/bin/chromium, or CHROMIUM_PATH), driven by playwright-core, with a fresh profile per
 * launch that is removed again on close. Playwright never downloads a browser of its own here.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type BrowserContextOptions } from 'playwright-core';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, offline, single-user headless run (no sandbox: tests run as root). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync',
];

/** The Chromium executable to use, or undefined when there is none. */
export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, DEFAULT_CHROMIUM_PATH, '/usr/bin/chromium-browser'];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

export interface ChromiumSession {
  /** A browser context on its own fresh profile. */
  context: BrowserContext;
  /** Closes the browser and removes the profile. */
  close(): Promise<void>;
}

export async function launchChromium(executablePath: string, options: BrowserContextOptions = {}): Promise<ChromiumSession> {
  const profile = mkdtempSync(join(tmpdir(), 'crm-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS, ...options });
    return {
      context,
      async close() {
        try {
          await context.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}
