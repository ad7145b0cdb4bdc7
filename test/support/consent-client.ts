/**
 * A person on a fake vendor's consent page, without a browser: opens the authorize URL the
 * plugin redirected to, presses Allow (or Deny), and hands back where the vendor sends the browser
 * (the plugin's callback with code and state). Over HTTPS, trusting the test CA.
 */
import { Agent, request } from 'undici';
import { DECISION_PATH } from './fakes/consent-page';
import { testCa } from './test-ca';

let agent: Agent | undefined;
const dispatcher = () => (agent ??= new Agent({ connect: { ca: testCa().caPem } }));

export async function answerConsent(authorizeUrl: string, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const page = await request(authorizeUrl, { dispatcher: dispatcher() });
  const html = await page.body.text();
  if (page.statusCode !== 200) throw new Error(`The consent page answered ${page.statusCode}: ${html.slice(0, 300)}`);
  const id = /name="request" value="([0-9a-f]+)"/.exec(html)?.[1];
  if (!id) throw new Error('The consent page has no request id');
  const origin = new URL(authorizeUrl).origin;
  const answer = await request(`${origin}${DECISION_PATH}`, {
    method: 'POST', dispatcher: dispatcher(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: id, decision }).toString(),
  });
  await answer.body.dump();
  const location = answer.headers.location;
  if (answer.statusCode !== 302 || typeof location !== 'string') throw new Error(`The consent decision answered ${answer.statusCode} without a redirect`);
  return new URL(location);
}
