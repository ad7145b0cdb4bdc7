import assert from 'node:assert/strict';
import { CRM_KINDS, CRM_LABELS } from '../../src/domain/crm-kinds';
import { GUIDE_OF_CRM, SETUP_GUIDES } from '../../src/web/setup-guides';
import { startTestHost, type SignedInAgent, type TestHost } from '../support/test-host';

/** The page's text with tags removed and entities read, as a person sees it. */
function visible(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'").replace(/&#34;|&quot;/g, '"').replace(/\s+/g, ' ');
}

describe('Setup guides', function () {
  let t: TestHost;
  let admin: SignedInAgent;

  before(async function () {
    this.timeout(30_000);
    t = await startTestHost();
    admin = await t.signIn();
  });
  after(async () => t?.close());

  it('every guide has numbered steps, the app to create, permissions, where each value comes from, what Test connection checks and https vendor docs', () => {
    for (const guide of SETUP_GUIDES.values()) {
      assert.ok(guide.steps.length >= 3, `${guide.slug}: steps`);
      assert.ok(guide.appType.length > 20 && guide.permissions.length > 0 && guide.values.length > 0 && guide.testChecks.length > 20, guide.slug);
      assert.ok(guide.docs.length > 0 && guide.docs.every((d) => d.url.startsWith('https://')), `${guide.slug}: vendor docs over https`);
    }
    assert.equal(SETUP_GUIDES.size, 12, 'eleven CRM guides (the Proprietary CRMs share one) and the Custom CRM');
  });

  it('the Integration page links each CRM section (and the strip above them) to its guide, and the Custom CRM too', async () => {
    const page = await admin.get('/crm/integration');
    assert.equal(page.status, 200);
    for (const crm of CRM_KINDS) {
      const href = `/crm/integration/guides/${GUIDE_OF_CRM[crm].slug}`;
      assert.ok(page.text.includes(`href="${href}">Setup guide for ${CRM_LABELS[crm]}</a>`), `${crm} section links ${href}`);
    }
    assert.ok(page.text.includes('href="/crm/integration/guides/custom-crm"'));
    assert.doesNotMatch(page.text, /<img[^>]+src="https?:/, 'no external images');
  });

  for (const crm of [...CRM_KINDS, 'custom-crm'] as const) {
    it(`serves the ${crm} guide from the plugin, with its vendor documentation link, escaped`, async () => {
      const guide = crm === 'custom-crm' ? SETUP_GUIDES.get('custom-crm')! : GUIDE_OF_CRM[crm];
      const res = await admin.get(`/crm/integration/guides/${guide.slug}`);
      assert.equal(res.status, 200);
      const text = visible(res.text);
      assert.ok(text.includes(guide.title), 'title');
      for (const step of guide.steps) assert.ok(text.includes(step.replace(/\s+/g, ' ')), `step: ${step.slice(0, 40)}`);
      for (const doc of guide.docs) assert.ok(res.text.includes(`href="${doc.url.replace(/&/g, '&amp;')}"`), `docs link ${doc.url}`);
      assert.doesNotMatch(res.text, /<(?!\/?(?:section|p|a|h1|h2|ul|ol|li|dl|dt|dd|strong|em|code|br|nav|main|header|footer|div|span|html|head|body|title|meta|link|script|form|input|button|label|select|option)\b)[a-z]/i, 'no markup from the guide text');
    });
  }

  it('answers 404 for a guide that does not exist', async () => {
    const res = await admin.get('/crm/integration/guides/no-such-crm');
    assert.equal(res.status, 404);
  });
});
