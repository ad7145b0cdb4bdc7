/**
 * Real Chromium for a mocha suite: `const browser = useBrowser()` launches it before the suite
 * (a fresh profile) and closes it after. Without Chromium the suite is skipped with a message
 * saying how to install it; under CI (CI set) a missing Chromium fails instead, since .ci/run
 * installs it and the suite must run there.
 *
 * Every page made with `browser.newPage()` records script errors, console errors (a CSP refusal
 * shows there), and answers of 404 or 5xx (a missing favicon or stylesheet); `assertNoPageErrors()`
 * fails a test that left any.
 */
import assert from 'node:assert/strict';
import type { BrowserContextOptions, Locator, Page } from 'playwright-core';
import { findChromium, launchChromium, type ChromiumSession } from '../../scripts/lib/chromium';
import { ADMIN } from './test-host';

export interface SuiteBrowser {
  newPage(): Promise<Page>;
  /** Script errors and console errors seen on this suite's pages since the last call. */
  assertNoPageErrors(): void;
}

export const CHROMIUM_MISSING = 'Chromium not found at /usr/bin/chromium (or CHROMIUM_PATH): browser tests skipped. Install it with `apt-get update && apt-get install -y chromium` (or run `bash .ci/run`).';

export function useBrowser(options: BrowserContextOptions = {}): SuiteBrowser {
  let session: ChromiumSession | undefined;
  const problems: string[] = [];

  before(async function () {
    this.timeout(60_000);
    const executable = findChromium();
    if (!executable) {
      if (process.env.CI) throw new Error(`${CHROMIUM_MISSING.replace('browser tests skipped', 'CI must run the browser tests')}`);
      console.warn(`      ${CHROMIUM_MISSING}`);
      // The run's last lines say it again (test/support/summary-reporter.cjs), where a newcomer looks.
      (globalThis as { crmBrowserSuitesSkipped?: number }).crmBrowserSuitesSkipped = ((globalThis as { crmBrowserSuitesSkipped?: number }).crmBrowserSuitesSkipped ?? 0) + 1;
      return this.skip();
    }
    session = await launchChromium(executable, { viewport: { width: 1280, height: 900 }, ...options });
  });
  after(async () => session?.close());

  return {
    async newPage() {
      if (!session) throw new Error('The browser is not running (useBrowser() before hook did not run).');
      const page = await session.context.newPage();
      page.on('pageerror', (err) => problems.push(`script error on ${page.url()}: ${err.message}`));
      // A missing asset (a favicon, a stylesheet) or a server error is a problem a person would notice too.
      page.on('response', (res) => {
        const status = res.status();
        if (status === 404 || status >= 500) problems.push(`${status} for ${res.url()} on ${page.url()}`);
      });
      page.on('console', (msg) => {
        // Chromium logs every 4xx page as "Failed to load resource"; a form answered 422 is expected, and
        // the responses a person would notice are caught above.
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console error on ${page.url()}: ${msg.text()}`);
      });
      return page;
    },
    assertNoPageErrors() {
      const seen = problems.splice(0);
      assert.deepEqual(seen, [], 'the pages logged errors');
    },
  };
}

/** Signs in through the host's login page, as a person does, and lands on `next`. */
export async function signInThroughLoginPage(page: Page, baseUrl: string, next = '/', user: { name: string; password: string } = ADMIN): Promise<void> {
  await page.goto(`${baseUrl}${next}`);
  assert.match(new URL(page.url()).pathname, /^\/login$/, 'an anonymous visit is sent to the login page');
  await page.getByLabel('Username').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await Promise.all([page.waitForURL((url) => url.pathname === next), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** Clicks a button that posts a form, and waits until the page the server answers has loaded. */
export async function submit(page: Page, button: Locator): Promise<void> {
  const loaded = page.waitForEvent('load');
  await button.click();
  await loaded;
}

/** Answers the page's next dialog (confirm, beforeunload) and tells what it was. */
export function nextDialog(page: Page, answer: 'accept' | 'dismiss'): Promise<{ type: string; message: string }> {
  return new Promise((resolve) => {
    page.once('dialog', (dialog) => {
      const seen = { type: dialog.type(), message: dialog.message() };
      void (answer === 'accept' ? dialog.accept() : dialog.dismiss()).then(() => resolve(seen));
    });
  });
}
