/**
 * Fuzzed posts against the reference host with the plugin: every POST route, bodies in form and
 * JSON shapes (and a few other content types), with a valid CSRF token so the handlers are
 * reached. Values are the shapes that once gave HTTP 500 (an object where a string belongs:
 * {"toString": "x"}, {"length": 1e9}), arrays, nulls, deep nesting, inherited property names,
 * CR/LF, long and malformed text. Seeded, so a run repeats exactly. Used by `npm run fuzz:posts`
 * (1,000 posts) and by test/web/post-bodies.test.ts (fewer).
 */
import { PageClient, type PageResponse } from './page-client';
import { seededRandom } from './seeded-random';

export interface FuzzTarget {
  path: string;
  /** Field names the route reads. */
  fields: string[];
  /** The route takes JSON (the field picker); all others take forms. */
  json?: boolean;
}

export interface FuzzOptions {
  url: string;
  user: { name: string; password: string };
  targets: FuzzTarget[];
  posts: number;
  seed?: number;
}

export interface FuzzResult {
  /** status -> count, over all posts. */
  statuses: Map<number, number>;
  /** Posts answered 5xx (should be none), with what was sent. */
  serverErrors: Array<{ path: string; contentType: string; body: string; status: number; answer: string }>;
  /** "form"/"json"/"other" -> status -> count. */
  byShape: Map<string, Map<number, number>>;
  posts: number;
  signIns: number;
}

type Shape = 'form' | 'json' | 'other';

const ODD_NAMES = ['toString', 'valueOf', '__proto__', 'constructor', 'hasOwnProperty', 'length', 'a[b]', 'x[]', '_csrf', 'action', 'enabled', 'confirmed'];
const ODD_TEXT = ['', ' ', 'x', 'yes', 'save', 'test', 'add_row', 'remove_row:0', 'up:1', '0', '-1', '1e309', 'NaN', 'null', '%zz', '%00', 'a\r\nb', '\u0000', '\ud800', '<script>x</script>', '{"a":1}', 'Gold', '+15550001111', 'extension:100', 'queue:103', 'crm-routing:1', 'https://', 'https://127.0.0.1:1/x', 'javascript:alert(1)'];

export async function fuzzPosts(options: FuzzOptions): Promise<FuzzResult> {
  const next = seededRandom(options.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const result: FuzzResult = { statuses: new Map(), serverErrors: [], byShape: new Map(), posts: 0, signIns: 0 };
  let client = await PageClient.signIn(options.url, options.user);
  result.signIns += 1;
  let tokens = await tokensOf(client);

  const text = (): string => {
    const r = next();
    if (r < 0.5) return pick(ODD_TEXT);
    if (r < 0.7) return 'x'.repeat(Math.floor(next() * 5000));
    if (r < 0.85) return String.fromCharCode(...Array.from({ length: 1 + Math.floor(next() * 40) }, () => Math.floor(next() * 0x2fff)));
    return String(Math.floor(next() * 1e6));
  };
  const jsonValue = (depth = 0): unknown => {
    const r = next();
    if (r < 0.25) return text();
    if (r < 0.35) return { toString: text() };
    if (r < 0.42) return { length: pick([0, 1, 1e9, -1, 'x']) };
    if (r < 0.5) return null;
    if (r < 0.58) return pick([true, false, 0, -1, 1e308, 3.5]);
    if (r < 0.7 && depth < 4) return Array.from({ length: Math.floor(next() * 4) }, () => jsonValue(depth + 1));
    if (r < 0.8 && depth < 4) return { [pick(ODD_NAMES)]: jsonValue(depth + 1), value: jsonValue(depth + 1) };
    if (r < 0.85) return JSON.parse('['.repeat(60) + ']'.repeat(60)) as unknown;
    return text();
  };

  for (let i = 0; i < options.posts; i += 1) {
    const target = pick(options.targets);
    // The plugin's pages have a CSRF token (and cookie) of their own; the host's pages another.
    const token = target.path.startsWith('/crm/') ? tokens.plugin : tokens.host;
    const names = [...target.fields, ...ODD_NAMES];
    const r = next();
    const shape: Shape = r < 0.5 ? 'form' : r < 0.92 ? 'json' : 'other';
    let body: string;
    let contentType: string | undefined;
    const headers: Record<string, string> = { 'x-csrf-token': token };
    if (shape === 'form') {
      const pairs: string[] = [`_csrf=${encode(token)}`];
      for (let n = Math.floor(next() * 12); n > 0; n -= 1) {
        const name = next() < 0.7 ? pick(target.fields.length > 0 ? target.fields : names) : pick(names);
        // Repeated names become arrays; raw % sequences stay malformed on purpose.
        const value = next() < 0.1 ? pick(['%zz', '%', '%E2%82', '+++']) : encode(text());
        pairs.push(`${encode(name)}=${value}`);
      }
      if (next() < 0.1) pairs.push('action=test');
      body = pairs.join('&');
      contentType = pick(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/x-www-form-urlencoded; charset=latin1', 'APPLICATION/X-WWW-FORM-URLENCODED']);
    } else if (shape === 'json') {
      const r2 = next();
      if (r2 < 0.75) {
        const object: Record<string, unknown> = {};
        for (let n = Math.floor(next() * 10); n > 0; n -= 1) object[next() < 0.7 ? pick(target.fields.length > 0 ? target.fields : names) : pick(names)] = jsonValue();
        body = JSON.stringify(object);
      } else if (r2 < 0.85) {
        body = JSON.stringify(jsonValue());
      } else {
        body = pick(['{', '{"a":', '[1,2', 'nul', '"x"', '{"__proto__": {"polluted": 1}}', '\u0000', '{"a": 1} trailing']);
      }
      contentType = pick(['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json', 'application/json; charset=utf-16']);
    } else {
      body = pick(['a=1', '<x/>', '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n', '']);
      contentType = pick(['text/plain', 'multipart/form-data; boundary=b', 'application/xml', 'application/octet-stream', undefined]);
    }
    let answer: PageResponse;
    try {
      answer = await client.post(target.path, body, contentType, headers);
    } catch (err) {
      // A connection the server dropped counts as a server error too.
      answer = { status: 599, body: (err as Error).message, ms: 0 };
    }
    result.posts += 1;
    count(result.statuses, answer.status);
    const byShape = result.byShape.get(shape) ?? new Map<number, number>();
    count(byShape, answer.status);
    result.byShape.set(shape, byShape);
    if (answer.status >= 500) {
      result.serverErrors.push({ path: target.path, contentType: contentType ?? '(none)', body: body.slice(0, 300), status: answer.status, answer: answer.body.slice(0, 300) });
    }
    // A fuzzed logout (or a license switched off) is a state the next posts should not inherit.
    if (answer.status === 401 || (answer.status === 303 && target.path === '/logout')) {
      client.close();
      client = await PageClient.signIn(options.url, options.user);
      result.signIns += 1;
      tokens = await tokensOf(client);
    } else if (target.path === '/license') {
      await client.post('/license', `_csrf=${encodeURIComponent(tokens.host)}&crm_routing=on`, 'application/x-www-form-urlencoded');
    }
  }
  client.close();
  return result;
}

/** The host's token (its DIDs page) and the plugin's (the Add rule form): the last form token of each page. */
async function tokensOf(client: PageClient): Promise<{ host: string; plugin: string }> {
  const last = async (path: string) => {
    const page = await client.get(path);
    const token = [...page.body.matchAll(/name="_csrf" value="([^"]+)"/g)].at(-1)?.[1];
    if (!token) throw new Error(`No CSRF token on ${path} (status ${page.status}).`);
    return token;
  };
  return { host: await last('/dids'), plugin: await last('/crm/routing/new') };
}

/** encodeURIComponent of text that may hold a lone surrogate (sent as U+FFFD, as a browser would). */
function encode(text: string): string {
  return encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));
}

function count(map: Map<number, number>, status: number): void {
  map.set(status, (map.get(status) ?? 0) + 1);
}

const RULE_FORM_FIELDS = [
  'name', 'fieldName', 'location', 'greetingRecording', 'dtmfMaxDigits', 'dtmfTimeout', 'dtmfRetries', 'dtmfPattern', 'source', 'crm', 'crmModule',
  'crmUsername', 'crmPassword', 'customUrl', 'customPost', 'deadlineSeconds', 'defaultDestination', 'defaultVoicemail', 'version',
  'header_name', 'header_value', 'header_secret', 'row_operator', 'row_value', 'row_dest_type', 'row_dest_target',
];

/**
 * Every POST route of the reference host and the plugin, with the fields each reads. `ruleId`
 * and `didId` name a rule and a DID that exist; `integrationFields` are the settings of the CRMs
 * fuzzed (ones configured by URL, so a Test connection never waits on a vendor's DNS).
 */
export function fuzzTargets(ruleId: number, didId: number, integrationFields: Record<string, string[]>): FuzzTarget[] {
  return [
    { path: '/crm/routing/new', fields: RULE_FORM_FIELDS },
    { path: `/crm/routing/${ruleId}/edit`, fields: [...RULE_FORM_FIELDS, 'testCallerId', 'testDtmf', 'testDid', 'secretDraft'] },
    { path: `/crm/routing/${ruleId}/delete`, fields: [] },
    ...Object.entries(integrationFields).flatMap(([crm, fields]) => [
      { path: `/crm/integration/${crm}`, fields: [...fields, 'enabled', 'action', 'secretDraft', 'confirmDisable'] },
      { path: `/crm/integration/${crm}/fields`, fields: ['module', 'username', 'password'], json: true },
    ]),
    { path: '/dids', fields: ['number', 'destination'] },
    { path: '/ivrs/200', fields: ['option_0', 'option_1', 'option_2', 'option_9'] },
    { path: `/dids/${didId}/delete`, fields: [] },
    { path: '/license', fields: ['crm_routing'] },
    { path: '/login', fields: ['username', 'password', 'next'] },
    { path: '/logout', fields: [] },
  ];
}

/** One rule (Custom CRM at an address nothing listens on) and one DID pointing at it, saved through the pages. */
export async function prepareFuzzHost(url: string, user: { name: string; password: string }): Promise<{ ruleId: number; didId: number }> {
  const client = await PageClient.signIn(url, user);
  try {
    const { host, plugin } = await tokensOf(client);
    const form = new URLSearchParams([
      ['_csrf', plugin], ['name', 'Fuzz target'], ['fieldName', 'tier'], ['location', 'did'], ['source', 'custom'], ['customUrl', 'https://127.0.0.1:9/lookup'],
      ['customPost', 'no'], ['deadlineSeconds', '1'], ['defaultDestination', 'extension:100'], ['defaultVoicemail', 'unset'],
      ['row_operator', 'eq'], ['row_value', 'Gold'], ['row_dest_type', 'queue'], ['row_dest_target', '103'], ['action', 'save'],
    ]);
    const saved = await client.post('/crm/routing/new', form.toString(), 'application/x-www-form-urlencoded');
    if (saved.status !== 303) throw new Error(`The fuzz rule was not saved (${saved.status}).`);
    const ruleId = Number(/\/crm\/routing\/(\d+)\/edit/.exec((await client.get('/crm/routing')).body)?.[1]);
    const did = await client.post('/dids', new URLSearchParams({ _csrf: host, number: '5550100', destination: `crm-routing:${ruleId}` }).toString(), 'application/x-www-form-urlencoded');
    if (did.status !== 303) throw new Error(`The fuzz DID was not saved (${did.status}).`);
    const didId = Number(/action="\/dids\/(\d+)\/delete"/.exec((await client.get('/dids')).body)?.[1]);
    return { ruleId, didId };
  } finally {
    client.close();
  }
}
