import assert from 'node:assert/strict';
import net from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { LookupRequest, LookupResult } from '../../../src/crm/connector';
import { CustomCrmConnector, customCrmGetUrl, type CustomCrmSettings } from '../../../src/crm/custom-crm';
import { HttpClient } from '../../../src/crm/shared/http-client';
import type { CustomHeader } from '../../../src/domain/rule';
import { FakeHttpsServer, type FakeReply, type RecordedRequest } from '../../support/fake-https';
import { LOCAL_FAKES } from '../../support/connector-harness';
import { testCa } from '../../support/test-ca';

const ACCEPT = 'application/json, text/plain;q=0.9';

/** What the middleware expects to receive: the rule's settings and the call's values. */
interface Expectation {
  post: boolean;
  /** The Custom URL's own query parameters, in order. */
  urlQuery: Array<[string, string]>;
  headers: Record<string, string>;
  lookup: LookupRequest;
}

/** The contract, checked on the middleware's side: undefined when the request is exactly right. */
function contractProblem(req: RecordedRequest, exp: Expectation): string | undefined {
  const ours = { field_name: exp.lookup.fieldName, dtmf: exp.lookup.dtmf, caller_id: exp.lookup.callerId, did: exp.lookup.did };
  const query = [...req.query.entries()];
  const expectedQuery = exp.post ? exp.urlQuery : [...exp.urlQuery, ...Object.entries(ours)];
  if (req.method !== (exp.post ? 'POST' : 'GET')) return `method ${req.method}`;
  if (req.path !== '/lookup') return `path ${req.path}`;
  if (!isDeepStrictEqual(query, expectedQuery)) return `query ${JSON.stringify(query)}`;
  const expectedHeaders: Record<string, string> = { accept: ACCEPT, ...lowerKeys(exp.headers) };
  for (const [name, value] of Object.entries(expectedHeaders)) {
    if (req.headers[name] !== value) return `header ${name}: ${JSON.stringify(req.headers[name])}`;
  }
  if (exp.post) {
    if (req.headers['content-type'] !== 'application/json') return `content-type ${req.headers['content-type']}`;
    if (req.body !== JSON.stringify(ours)) return `body ${req.body}`;
  } else if (req.body !== '' || req.headers['content-type'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
    return 'a GET with a body';
  }
  return undefined;
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** A TCP relay in front of a fake: counts the connections the client opens and sees them close. */
async function countingRelay(targetPort: number): Promise<{ port: number; opened: number; closed: Promise<void>[]; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const relay = {
    port: 0,
    opened: 0,
    closed: [] as Promise<void>[],
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
  const server = net.createServer((client) => {
    relay.opened += 1;
    relay.closed.push(new Promise((resolve) => client.once('close', () => resolve())));
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => undefined); s.on('close', () => { client.destroy(); upstream.destroy(); }); }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as net.AddressInfo).port;
  return relay;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms))]);
}

function assertError(result: LookupResult, code: string, message?: RegExp): void {
  assert.equal(result.kind, 'error', `expected error ${code}, got ${JSON.stringify(result)}`);
  if (result.kind !== 'error') return;
  assert.equal(result.code, code, result.message);
  if (message) assert.match(result.message, message);
}

describe('CustomCrmConnector', () => {
  let fake: FakeHttpsServer;
  let http: HttpClient;
  let expected: Expectation;
  let answer: (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

  const lookupRequest = (over: Partial<LookupRequest> = {}): LookupRequest => ({
    tenantId: 't1', ruleId: 7, callerId: '+15551234567', did: '+18005550100', dtmf: '42', fieldName: 'Account_Name',
    module: '', credentials: { username: '', password: '' }, deadlineAt: Date.now() + 3000, ...over,
  });
  const connector = (over: Partial<CustomCrmSettings> = {}) => new CustomCrmConnector({ url: `${fake.url}/lookup`, post: false, headers: [], ...over }, http);
  /** Sets what the middleware expects from this lookup, runs it, and checks the middleware was asked once. */
  const lookup = async (settings: Partial<CustomCrmSettings> = {}, over: Partial<LookupRequest> = {}, urlQuery: Array<[string, string]> = []) => {
    const request = lookupRequest(over);
    expected = { post: settings.post ?? false, urlQuery, headers: Object.fromEntries((settings.headers ?? []).map((h) => [h.name, h.value])), lookup: request };
    return connector(settings).lookup(request, AbortSignal.timeout(3000));
  };

  before(async () => {
    fake = await FakeHttpsServer.start((req) => {
      const problem = contractProblem(req, expected);
      return problem === undefined ? answer(req) : { status: 400, body: `contract broken: ${problem}` };
    });
    http = new HttpClient({ ca: testCa().caPem, egress: LOCAL_FAKES });
  });
  beforeEach(() => {
    fake.requests.length = 0;
    answer = () => ({ headers: { 'content-type': 'text/plain' }, body: 'Gold' });
  });
  after(async () => { await http.close(); await fake.close(); });

  describe('request', () => {
    it('GETs the URL with its own query kept and ours appended, every value encoded', async () => {
      const caller = '+1 555 & 12=3 Ünïcødé ☎';
      const result = await lookup({ url: `${fake.url}/lookup?tenant=acme&note=a%20b%26c#section` }, { callerId: caller, did: '', dtmf: '' }, [['tenant', 'acme'], ['note', 'a b&c']]);
      assert.deepEqual(result, { kind: 'value', value: 'Gold' });
      assert.equal(fake.requests.length, 1);
      assert.equal(fake.requests[0]!.query.get('caller_id'), caller);
    });

    it('builds the GET URL byte for byte: the URL\'s query untouched, ours form-encoded after it', () => {
      const url = customCrmGetUrl('https://mw.example/l?a=b%20c&x=1+2&empty=&flag#frag', { field_name: 'Account_Name', dtmf: '', caller_id: '+1 555 & ü', did: '100' });
      assert.equal(url.href, 'https://mw.example/l?a=b%20c&x=1+2&empty=&flag&field_name=Account_Name&dtmf=&caller_id=%2B1+555+%26+%C3%BC&did=100');
    });

    it('encodes our values exactly as URLSearchParams does, every printable ASCII character and beyond', () => {
      const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
      for (const value of [ascii, "!'()~*-._", 'tab\there', 'Ünïcødé ☎ 😀', '']) {
        const params = { field_name: value, dtmf: '12#', caller_id: value, did: `${value}%` };
        assert.equal(customCrmGetUrl('https://mw.example/l', params).search, `?${new URLSearchParams(params).toString()}`);
      }
    });

    it('replaces a parameter of the URL that has one of our names, so each arrives once', async () => {
      const result = await lookup({ url: `${fake.url}/lookup?caller_id=spoofed&keep=1&DID=upper&did=x` }, {}, [['keep', '1'], ['DID', 'upper']]);
      assert.deepEqual(result, { kind: 'value', value: 'Gold' });
      assert.deepEqual(fake.requests[0]!.query.getAll('caller_id'), ['+15551234567']);
      assert.equal(customCrmGetUrl('https://mw.example/l?did=1&did=2', { field_name: 'f', dtmf: '', caller_id: '', did: '3' }).search, '?field_name=f&dtmf=&caller_id=&did=3');
    });

    it('POSTs the four values as JSON with Content-Type application/json, the URL\'s own query kept', async () => {
      const result = await lookup({ url: `${fake.url}/lookup?tenant=acme`, post: true }, { callerId: '+44 20 "7946" \\ 0958', dtmf: '' }, [['tenant', 'acme']]);
      assert.deepEqual(result, { kind: 'value', value: 'Gold' });
      const sent = fake.requests[0]!;
      assert.equal(sent.body, '{"field_name":"Account_Name","dtmf":"","caller_id":"+44 20 \\"7946\\" \\\\ 0958","did":"+18005550100"}');
      assert.equal(sent.headers['content-length'], String(Buffer.byteLength(sent.body)));
    });

    it('sends the custom headers as given, an Accept of the rule replacing ours', async () => {
      const headers: CustomHeader[] = [
        { name: 'Authorization', value: 'Bearer t0k3n', secret: true },
        { name: 'X-Tenant', value: 'acme  corp', secret: false },
        { name: 'X-Empty', value: '', secret: false },
        { name: 'X-Latin1', value: 'café\tau lait', secret: false },
        { name: 'constructor', value: 'not a reserved name', secret: false }, // an Object.prototype key
      ];
      assert.deepEqual(await lookup({ headers }), { kind: 'value', value: 'Gold' });
      assert.deepEqual(await lookup({ headers: [{ name: 'ACCEPT', value: 'text/plain', secret: false }] }), { kind: 'value', value: 'Gold' });
      assert.equal(fake.requests[1]!.headers.accept, 'text/plain');
    });

    it('still asks when the caller ID is unknown: the middleware may look up by the digits alone', async () => {
      assert.deepEqual(await lookup({}, { callerId: '', dtmf: '12345' }), { kind: 'value', value: 'Gold' });
      assert.equal(fake.requests[0]!.query.get('caller_id'), '');
    });
  });

  describe('settings refused before anything is sent (CONFIG)', () => {
    const secret = 'sup3r-s3cret';
    const header = (name: string, value = secret): CustomHeader => ({ name, value, secret: true });
    const cases: Array<[string, Partial<CustomCrmSettings>, RegExp]> = [
      ['an http:// URL', { url: 'http://localhost:1/lookup' }, /must start with https:\/\/ \(got http:\/\/\)/],
      ['a URL that is not one', { url: 'mw.example/lookup' }, /Enter the Custom URL, starting with https:\/\//],
      ['a user name and password in the URL', { url: 'https://user:pw@localhost:1/lookup' }, /user name or password/],
      ['a header name with a space', { headers: [header('X Api Key')] }, /"X Api Key": a name may only use/],
      ['a header name with a colon', { headers: [header('X-Key:')] }, /a name may only use/],
      ['an empty header name', { headers: [header('')] }, /Enter a name/],
      ['a CR LF in a value (header injection)', { headers: [header('X-Key', `${secret}\r\nX-Evil: 1`)] }, /X-Key: the value contains a line break/],
      ['a bare LF in a value', { headers: [header('X-Key', `${secret}\n`)] }, /line break/],
      ['a NUL in a value', { headers: [header('X-Key', `${secret}\0`)] }, /NUL/],
      ['a character outside Latin-1 in a value', { headers: [header('X-Key', `${secret}☎`)] }, /outside Latin-1/],
      ['Host', { headers: [header('Host', 'evil.example')] }, /Host cannot be set: the host comes from the Custom URL/],
      ['Content-Length', { headers: [header('content-length', '0')] }, /content-length cannot be set/],
      ['Transfer-Encoding', { headers: [header('Transfer-Encoding', 'chunked')] }, /cannot be set/],
      ['Connection', { headers: [header('Connection', 'close')] }, /keeps connections alive/],
      ['Content-Type', { headers: [header('Content-Type', 'text/plain')], post: true }, /always JSON/],
      ['the same header twice', { headers: [header('X-Key'), header('x-key')] }, /x-key is given twice/],
    ];
    for (const [name, settings, message] of cases) {
      it(name, async () => {
        const result = await connector(settings).lookup(lookupRequest(), AbortSignal.timeout(3000));
        assertError(result, 'CONFIG', message);
        assert.equal(fake.requests.length, 0);
        if (result.kind === 'error') assert.ok(!result.message.includes(secret), 'the message must not show a header value');
      });
    }
  });

  describe('answers', () => {
    const json = { 'content-type': 'application/json' };
    const value = (text: string): LookupResult => ({ kind: 'value', value: text });
    const cases: Array<[string, FakeReply, LookupResult]> = [
      ['plain text, trimmed', { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '  Gold Tier \r\n' }, value('Gold Tier')],
      ['text without a Content-Type', { body: ' VIP\n' }, value('VIP')],
      ['unicode text', { headers: { 'content-type': 'text/plain' }, body: 'Čebelica ☎ 株式会社' }, value('Čebelica ☎ 株式会社')],
      ['text/csv (any text/* but HTML)', { headers: { 'content-type': 'text/csv' }, body: 'a,b' }, value('a,b')],
      ['{"value": text}', { body: { value: 'Gold' } }, value('Gold')],
      ['{"value": number}', { body: { value: 42 } }, value('42')],
      ['{"value": boolean}', { body: { value: false } }, value('false')],
      ['{"value": null}', { body: { value: null } }, value('')],
      ['{"value": lookup object}', { body: { value: { name: 'ACME Ltd', id: '9' } } }, value('ACME Ltd')],
      ['{"value": multi-select}', { body: { value: ['Red', 'Blue'] } }, value('Red; Blue')],
      ['keyed by the field name', { body: { Account_Name: 'ACME', Other: 'x' } }, value('ACME')],
      ['"value" read before the field name', { body: { value: 'a', Account_Name: 'b' } }, value('a')],
      ['{"found": true, "value": ...}', { body: { found: true, value: 'Gold' } }, value('Gold')],
      ['a bare JSON string', { headers: json, body: '"Gold"' }, value('Gold')],
      ['a bare JSON number', { headers: json, body: '12.5' }, value('12.5')],
      ['a bare JSON boolean', { headers: json, body: 'true' }, value('true')],
      ['JSON null', { headers: json, body: 'null' }, value('')],
      ['a +json type with a byte order mark', { headers: { 'content-type': 'application/vnd.acme+json; charset=utf-8' }, body: '\uFEFF{"value":"x"}' }, value('x')],
      ['an empty body', { headers: json, body: '' }, value('')],
      ['204 No Content', { status: 204 }, value('')],
      ['{"found": false}', { body: { found: false } }, { kind: 'not_found' }],
      ['404 with {"found": false}', { status: 404, body: { found: false } }, { kind: 'not_found' }],
    ];
    for (const [name, reply, result] of cases) {
      it(name, async () => {
        answer = () => reply;
        assert.deepEqual(await lookup(), result);
        assert.equal(fake.requests.length, 1);
      });
    }

    it('the same shapes answer a POST', async () => {
      answer = () => ({ body: { Account_Name: { name: 'ACME', id: 1 } } });
      assert.deepEqual(await lookup({ post: true }), value('ACME'));
    });
  });

  describe('failures', () => {
    const cases: Array<[string, FakeReply, string, RegExp?]> = [
      ['404 from a web server (wrong URL)', { status: 404, headers: { 'content-type': 'text/html' }, body: '<h1>Not Found</h1>' }, 'NOT_FOUND_URL', /check the Custom URL/],
      ['404 with JSON other than {"found": false}', { status: 404, body: { error: 'no route' } }, 'NOT_FOUND_URL'],
      ['500', { status: 500, body: 'boom' }, 'HTTP_ERROR', /HTTP 500/],
      ['401', { status: 401 }, 'AUTH'],
      ['403', { status: 403 }, 'FORBIDDEN'],
      ['invalid JSON with a JSON Content-Type', { headers: { 'content-type': 'application/json' }, body: '{"value": "Gold"' }, 'BAD_RESPONSE', /not JSON/],
      ['a JSON object with neither "value" nor the field', { body: { name: 'ACME' } }, 'BAD_RESPONSE', /without "value" or "Account_Name"/],
      ['an HTML page with 200', { headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<html>Login</html>' }, 'BAD_RESPONSE', /text\/html/],
      ['another content type', { headers: { 'content-type': 'application/xml' }, body: '<v>Gold</v>' }, 'BAD_RESPONSE', /application\/xml/],
      ['garbage bytes instead of HTTP', { raw: '\u0000\u0001garbage\r\n\r\n' }, 'BAD_RESPONSE', /not valid HTTP/],
      ['a body over 64 KiB', { headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(64 * 1024 + 1) }, 'TOO_LARGE', /64 KiB/],
      ['a redirect, not followed', { status: 302, headers: { location: 'https://elsewhere.example/lookup' } }, 'BAD_RESPONSE', /redirect \(302\) to https:\/\/elsewhere\.example\/lookup/],
    ];
    for (const [name, reply, code, message] of cases) {
      it(name, async () => {
        answer = () => reply;
        assertError(await lookup(), code, message);
        assert.equal(fake.requests.length, 1, 'exactly one request, no retry');
      });
    }

    it('429 reports Retry-After without waiting for it', async () => {
      answer = () => ({ status: 429, headers: { 'retry-after': '30' } });
      const started = Date.now();
      const result = await lookup();
      assert.deepEqual(result, { kind: 'error', code: 'RATE_LIMITED', message: 'The Custom CRM is rate limiting requests (429): retry in 30 s.', retryAfterMs: 30_000 });
      assert.ok(Date.now() - started < 500);
    });

    it('a slow middleware: TIMEOUT when the call\'s deadline passes, not later', async () => {
      answer = () => ({ body: 'late', delayMs: 2000 });
      const started = Date.now();
      const request = lookupRequest({ deadlineAt: started + 200 });
      expected = { post: false, urlQuery: [], headers: {}, lookup: request };
      const result = await connector().lookup(request, AbortSignal.timeout(200));
      const elapsed = Date.now() - started;
      assertError(result, 'TIMEOUT');
      // Well before the middleware's 2 s answer, with room for a loaded CI machine.
      assert.ok(elapsed >= 190 && elapsed < 1000, `took ${elapsed} ms`);
    });

    it('the caller hangs up: ABORTED at once, the request cancelled on the wire', async () => {
      const relay = await countingRelay(fake.port);
      try {
        let arrived!: () => void;
        const reached = new Promise<void>((resolve) => { arrived = resolve; });
        answer = () => { arrived(); return { body: 'late', delayMs: 2000 }; };
        const request = lookupRequest();
        expected = { post: false, urlQuery: [], headers: {}, lookup: request };
        const hangUp = new AbortController();
        const pending = new CustomCrmConnector({ url: `https://localhost:${relay.port}/lookup`, post: false, headers: [] }, http).lookup(request, hangUp.signal);
        await within(reached, 2000, 'the request');
        const abortedAt = Date.now();
        hangUp.abort(new Error('caller hung up'));
        const result = await pending;
        assert.ok(Date.now() - abortedAt < 500, `answered ${Date.now() - abortedAt} ms after the hang-up`);
        assertError(result, 'ABORTED', /caller hung up/);
        await within(relay.closed[0]!, 100, 'closing the connection');
      } finally { await relay.close(); }
    });

    it('keeps connections alive: sequential lookups share one, back-to-back ones at most two', async () => {
      const connectionsUsed = async (lookups: number, pause: boolean) => {
        fake.requests.length = 0;
        for (let i = 0; i < lookups; i += 1) {
          assert.deepEqual(await lookup({}, { dtmf: String(i) }), { kind: 'value', value: 'Gold' });
          // Calls never arrive in the same event-loop turn; undici reuses a socket only after one.
          if (pause) await new Promise((resolve) => setImmediate(resolve));
        }
        assert.equal(fake.requests.length, lookups);
        return new Set(fake.requests.map((r) => r.connectionId)).size;
      };
      await new Promise((resolve) => setTimeout(resolve, 10)); // let earlier tests' sockets settle
      assert.equal(await connectionsUsed(5, true), 1);
      assert.ok((await connectionsUsed(10, false)) <= 2);
    });
  });

  describe('network and TLS failures', () => {
    const at = (url: string) => new CustomCrmConnector({ url, post: false, headers: [] }, http).lookup(lookupRequest(), AbortSignal.timeout(3000));
    const tlsCases: Array<[string, () => ReturnType<ReturnType<typeof testCa>['issue']>, RegExp]> = [
      ['a self-signed certificate', () => testCa().selfSigned(['localhost']), /DEPTH_ZERO_SELF_SIGNED_CERT/],
      ['an expired certificate', () => testCa().issue(['localhost', '127.0.0.1'], { expired: true }), /CERT_HAS_EXPIRED/],
      ['a certificate for another host name', () => testCa().issue(['crm.example.com']), /ERR_TLS_CERT_ALTNAME_INVALID/],
    ];
    for (const [name, cert, detail] of tlsCases) {
      it(`TLS: ${name}, nothing sent`, async () => {
        const server = await FakeHttpsServer.start(() => ({ body: 'must not be asked' }), cert());
        try {
          assertError(await at(`${server.url}/lookup`), 'TLS', detail);
          assert.equal(server.requests.length, 0);
        } finally { await server.close(); }
      });
    }

    it('CONNECTION: nothing listens on the port', async () => {
      const closed = net.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      assertError(await at(`https://127.0.0.1:${port}/lookup`), 'CONNECTION', /refused the connection/);
    });

    it('DNS: a host name that does not resolve', async () => {
      assertError(await at('https://nonexistent.invalid/lookup'), 'DNS', /could not be resolved/);
    });
  });
});
