/**
 * The pages on a phone (390 px) and a tablet (768 px), in real Chromium: nothing scrolls sideways,
 * no element of the plugin's content sticks out of it, and the host's header bar fits the window.
 * Each page is checked filled in (rows, custom headers, errors, a test result, Recent calls with
 * calls, every Integration section open), since that is when a page is widest.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { RuleFormPage } from '../../scripts/lib/rule-form-page';
import { OUTCOMES } from '../../src/domain/decide';
import { PluginStore } from '../../src/store/plugin-store';
import { signInThroughLoginPage, submit, useBrowser } from '../support/browser';
import { startTestHost, TEST_SECRET_KEY, type TestHost } from '../support/test-host';

const WIDTHS = [390, 768];
const LONG = 'Premium-customers-with-a-very-long-account-tier-name-that-does-not-wrap';

describe('Pages at 390 and 768 px wide (Chromium)', function () {
  this.timeout(120_000);
  const browser = useBrowser();
  let t: TestHost;
  let page: Page;
  let ruleId: number;
  /** Adds a recent call of every outcome, once: the Outcomes page at its widest. */
  let seedEveryOutcome: () => Promise<void>;

  before(async function () {
    t = await startTestHost();
    const admin = await t.signIn();
    await admin.get('/crm/routing/new');
    const saved = await admin.post('/crm/routing/new', {
      name: LONG, fieldName: 'Account_Tier_With_A_Long_API_Name__c', location: 'ivr', greetingRecording: 'enter-account', dtmfMaxDigits: '4', dtmfTimeout: '5', dtmfRetries: '2', dtmfPattern: '',
      source: 'custom', customUrl: 'https://crm.example.com/a/very/long/path/to/the/lookup/endpoint?with=query&and=more',
      customPost: 'no', header_name: ['X-Api-Key', 'X-Tenant'], header_value: ['k', 'acme'], header_secret: ['yes', 'no'],
      deadlineSeconds: '3', defaultDestination: 'extension:100', defaultVoicemail: 'unset',
      row_operator: ['eq', 'lt', 'empty'], row_value: ['gold', 'GOLD', ''], row_dest_type: ['queue', 'ivr', 'recording'], row_dest_target: ['105', '200', 'enter-account'], action: 'save',
    });
    assert.equal(saved.status, 303, saved.text);
    ruleId = (await t.host.plugin.routingDestinations('default')).find((r) => r.name === LONG)!.ruleId;
    await admin.get('/dids');
    await admin.post('/dids', { number: '+4930123456789', destination: 'extension:100' });
    const store = await PluginStore.create(t.database.db, { secretKey: TEST_SECRET_KEY });
    const call = (n: number, outcome: string, rowIndex: number | null) => ({
      tenantId: 'default', ruleId, callId: `1733300000.${n}`, caller: '+15550000001', did: '5551234', dtmf: '1234', value: outcome === 'CRM_ERROR' ? null : 'gold',
      errorCode: outcome === 'CRM_ERROR' ? 'TLS' : null, errorMessage: outcome === 'CRM_ERROR' ? "Custom CRM's certificate was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT): it must be valid for the host name and signed by a trusted CA." : null,
      outcome, branch: rowIndex === 0 ? 'row' as const : 'default' as const, rowIndex, destination: rowIndex === 0 ? { type: 'queue' as const, target: '105' } : { type: 'extension' as const, target: '100' },
      method: 'ami' as const, lookupMs: 120, totalMs: 131, createdAt: new Date(Date.UTC(2026, 11, 4, 9, 30, n)),
    });
    await store.decisions.insertMany([call(1, 'MATCH', 0), call(2, 'CRM_ERROR', null)]);
    let seeded = false;
    seedEveryOutcome = async () => {
      if (seeded) return;
      seeded = true;
      await store.decisions.insertMany(OUTCOMES.map((outcome, i) => ({ ...call(10 + i, outcome, null), createdAt: new Date(Date.now() - (i % 3) * 3_600_000) })));
    };
    page = await browser.newPage();
    await signInThroughLoginPage(page, t.host.url, '/crm/routing');
  });
  after(async () => t?.close());
  afterEach(() => browser.assertNoPageErrors());

  it('shows Recent calls with catalog labels, UTC times and a count in words', async () => {
    await page.goto(`${t.host.url}/crm/routing/${ruleId}/calls`);
    assert.equal(await page.locator('#calls-summary').textContent(), 'The last 2 calls this rule routed, newest first. Calls are kept for a limited time; times are in UTC.');
    assert.deepEqual(await page.locator('td[data-label="Time (UTC)"]').allTextContents(), ['2026-12-04 09:30:02 UTC', '2026-12-04 09:30:01 UTC']);
    assert.deepEqual(await page.locator('td[data-label="Destination"]').allTextContents(), ['100 - Test', '105 - VIP queue']);
  });

  for (const width of WIDTHS) {
    describe(`${width} px`, () => {
      before(async () => page.setViewportSize({ width, height: 900 }));

      const pages: Array<[string, () => Promise<void>]> = [
        ['the rule list', async () => void (await page.goto(`${t.host.url}/crm/routing`))],
        ['the edit form with its saved warning and a test result', async () => {
          await page.goto(`${t.host.url}/crm/routing/${ruleId}/edit`);
          await new RuleFormPage(page).field('Caller number').fill('+15550000001');
          await submit(page, page.getByRole('button', { name: 'Test rule' }));
          assert.equal(await page.locator('#test-report').count(), 1);
        }],
        ['the Add rule form after a failed Save, custom headers shown', async () => {
          await page.goto(`${t.host.url}/crm/routing/new`);
          const form = new RuleFormPage(page);
          await form.field('CRM To Use').selectOption({ label: 'Custom CRM' });
          await form.submitWith(page.getByRole('button', { name: 'Add header' }));
          await form.addRow();
          await form.save();
          assert.equal(await page.locator('.crm-error-summary').count(), 1);
        }],
        ['CRM > Integration with every section open', async () => {
          await page.goto(`${t.host.url}/crm/integration`);
          await page.locator('details.crm-integration > summary').evaluateAll((summaries) => summaries.forEach((s) => (s as unknown as { parentElement: { open: boolean } }).parentElement.open = true));
        }],
        ['Recent calls', async () => void (await page.goto(`${t.host.url}/crm/routing/${ruleId}/calls`))],
        ['the Outcomes page with every outcome', async () => {
          await seedEveryOutcome();
          await page.goto(`${t.host.url}/crm/routing/${ruleId}/outcomes`);
          assert.ok((await page.locator('#outcomes-by-hour tbody tr').count()) >= 3, 'the recent hours are listed');
        }],
        ['the delete question without JavaScript', async () => {
          await page.goto(`${t.host.url}/crm/routing`);
          // The page the Delete button lands on without a script: the form without its confirm listener.
          await page.locator(`form[action$="/routing/${ruleId}/delete"]`).first().evaluate((form) => {
            const el = form as unknown as { cloneNode(deep: boolean): { removeAttribute(a: string): void }; replaceWith(node: unknown): void };
            const plain = el.cloneNode(true);
            plain.removeAttribute('data-confirm');
            el.replaceWith(plain);
          });
          await submit(page, page.getByRole('row', { name: new RegExp(LONG) }).getByRole('button', { name: 'Delete' }).first());
          assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Remove rule');
        }],
        ['a setup guide', async () => void (await page.goto(`${t.host.url}/crm/integration/guides/zoho`))],
        ['the DIDs page', async () => void (await page.goto(`${t.host.url}/dids`))],
        ['the IVRs page', async () => void (await page.goto(`${t.host.url}/ivrs`))],
      ];
      for (const [name, open] of pages) {
        it(`fits ${name} in the window`, async () => {
          await open();
          assert.deepEqual(await overflows(page), [], `${name} at ${width} px`);
        });
      }
    });
  }
});

/** What sticks out: the document wider than the window, the header bar, or any element past its content's right edge. */
function overflows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type Box = { left: number; right: number; width: number; height: number };
    type El = { tagName: string; id: string; className: string; textContent: string | null; scrollWidth: number; clientWidth: number; getBoundingClientRect(): Box; querySelectorAll(s: string): ArrayLike<El> };
    const doc = (globalThis as unknown as { document: { documentElement: El; querySelector(s: string): El | null } }).document;
    const found: string[] = [];
    const viewport = doc.documentElement.clientWidth;
    if (doc.documentElement.scrollWidth > viewport) found.push(`the page is ${doc.documentElement.scrollWidth} px wide in a ${viewport} px window`);
    const header = doc.querySelector('.host-header');
    if (header && (header.scrollWidth > header.clientWidth || header.getBoundingClientRect().right > viewport)) found.push('the header bar runs past the window');
    const content = doc.querySelector('.crm-page') ?? doc.querySelector('main');
    if (!content) return ['no content found'];
    const edge = content.getBoundingClientRect().right;
    if (content.scrollWidth > content.clientWidth) found.push(`the content scrolls sideways (${content.scrollWidth} > ${content.clientWidth})`);
    for (const el of Array.from(content.querySelectorAll('*'))) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || box.right <= edge + 1) continue;
      found.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className ? `.${el.className.split(' ')[0]}` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}" ends at ${Math.round(box.right)} px, past ${Math.round(edge)} px`);
    }
    return found.slice(0, 10);
  });
}
