/**
 * `npm run screenshot [-- docs]`: the README's pictures, in a folder (default docs/):
 * routing-form.png, CRM > Routing > Add rule filled in, and routing-list.png, the list once that
 * rule is saved on an IVR key and another rule on a DID (ID, Used by). Starts the reference host on a throwaway
 * SQLite file, enables Salesforce under CRM > Integration (saved only: nothing is sent to
 * Salesforce), and works the pages in headless Chromium as a person would; full pages, 1280 px wide.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knex from 'knex';
import type { Locator, Page } from 'playwright-core';
import { startReferenceHost } from './host/create-host';
import { findChromium, launchChromium } from './lib/chromium';
import { RuleFormPage } from './lib/rule-form-page';

const OUT_DIR = path.resolve(process.argv[2] ?? 'docs');
const WIDTH = 1280;
const ADMIN = { name: 'admin', password: randomBytes(12).toString('hex') };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function main(): Promise<void> {
  const executable = findChromium();
  if (!executable) throw new Error('Chromium not found at /usr/bin/chromium (or CHROMIUM_PATH): apt-get install -y chromium');
  const dir = mkdtempSync(path.join(tmpdir(), 'crm-screenshot-'));
  const db = knex({ client: 'better-sqlite3', connection: { filename: path.join(dir, 'pbx.sqlite') }, useNullAsDefault: true });
  const host = await startReferenceHost({
    db, port: 0, adminUser: ADMIN.name, adminPassword: ADMIN.password, secretKey: randomBytes(32).toString('hex'),
    agi: { port: 0, bind: '127.0.0.1', publicHost: '127.0.0.1' }, logger: quiet,
  });
  const browser = await launchChromium(executable, { viewport: { width: WIDTH, height: 900 }, deviceScaleFactor: 1 });
  try {
    const page = await browser.context.newPage();
    await signIn(page, host.url);
    await enableSalesforce(page, host.url);
    await fillRuleForm(page, host.url);
    mkdirSync(OUT_DIR, { recursive: true });
    await shoot(page, 'routing-form.png');
    await saveAndPointDidAt(page, host.url);
    await shoot(page, 'routing-list.png');
  } finally {
    await browser.close();
    await host.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('Username').fill(ADMIN.name);
  await page.getByLabel('Password').fill(ADMIN.password);
  await submit(page, page.getByRole('button', { name: 'Sign in' }));
}

async function enableSalesforce(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/crm/integration`);
  const section = page.locator('#crm-salesforce');
  await section.locator('summary').click();
  const field = (label: string) => section.getByLabel(label, { exact: true });
  await field('Enabled').selectOption('yes');
  await field('My Domain URL').fill('https://acme.my.salesforce.com');
  await field('Consumer Key').fill('3MVG9demo.consumer.key');
  await field('Consumer Secret').fill('demo-consumer-secret');
  await submit(page, section.getByRole('button', { name: 'Save', exact: true }));
  const notice = await section.getByRole('status').first().textContent();
  if (!notice?.includes('is enabled')) throw new Error(`Salesforce was not enabled: ${notice}`);
}

async function fillRuleForm(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/crm/routing/new`);
  const form = new RuleFormPage(page);
  await form.field('Rule Name').fill('Customer tier routing');
  await form.field('CRM Field Name').fill('Customer_Tier__c');
  await form.field('Location').selectOption({ label: 'IVR' });
  await form.field('Greeting recording').selectOption({ label: 'enter-account - Enter your account number' });
  await form.field('Validation pattern').fill('\\d{4,6}');
  await form.field('CRM').selectOption({ label: 'Salesforce' });
  await form.field('CRM Module').fill('Contact');
  await form.field('Default Destination').selectOption({ label: '101 - Reception' });
  await form.field('Default Destination Voicemail').selectOption({ label: 'Yes' });
  await form.fillRow(1, { operator: '=', value: 'Gold', type: 'Queue', target: '105 - VIP queue' });
  await form.addRow();
  await form.fillRow(2, { operator: '=', value: 'Silver', type: 'Queue', target: '103 - Sales queue' });
  await form.addRow();
  await form.fillRow(3, { operator: 'is empty', value: '', type: 'IVR', target: '200 - Main menu' });
  // No focus ring or open list in the picture.
  await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur(): void } | null } }).document.activeElement?.blur());
}

async function saveAndPointDidAt(page: Page, url: string): Promise<void> {
  await new RuleFormPage(page).save();
  await page.goto(`${url}/crm/routing/new`);
  const form = new RuleFormPage(page);
  await form.field('Rule Name').fill('Support contracts');
  await form.field('CRM Field Name').fill('Support_Level__c');
  await form.field('CRM').selectOption({ label: 'Salesforce' });
  await form.field('CRM Module').fill('Account');
  await form.field('Default Destination').selectOption({ label: '104 - Support queue' });
  await form.fillRow(1, { operator: '=', value: 'Premier', type: 'Extension', target: '102 - Support desk' });
  await form.save();
  await page.goto(`${url}/dids`);
  await page.getByLabel('Number', { exact: true }).fill('5551234');
  await page.getByLabel('Destination', { exact: true }).selectOption({ label: 'Support contracts' });
  await submit(page, page.getByRole('button', { name: 'Save DID' }));
  await page.goto(`${url}/ivrs`);
  await page.getByLabel('Key 2', { exact: true }).first().selectOption({ label: 'Customer tier routing' });
  await submit(page, page.getByRole('button', { name: 'Save 200 - Main menu' }));
  await page.goto(`${url}/crm/routing`);
}

async function shoot(page: Page, name: string): Promise<void> {
  const out = path.join(OUT_DIR, name);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`Saved ${path.relative(process.cwd(), out)}`);
}

async function submit(page: Page, button: Locator): Promise<void> {
  const loaded = page.waitForEvent('load');
  await button.click();
  await loaded;
}

main().catch((err: unknown) => {
  console.error(`Screenshot failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
