/**
 * The HttpClient's own behaviour and failure mapping. What a connector sees end to end (status
 * codes, TLS certificates, refused and unresolved hosts, garbage, the body cap, redirects, the
 * call's deadline and hang-up before an answer, keep-alive) is tested once, in custom-crm.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrmError, type CrmErrorCode } from '../../../src/crm/shared/crm-error';
import { HttpClient } from '../../../src/crm/shared/http-client';
import { FakeHttpsServer } from '../../support/fake-https';
import { LOCAL_FAKES } from '../../support/connector-harness';
import { testCa } from '../../support/test-ca';

const live = () => new AbortController().signal;
/** Bounds here only need to tell "at once" from "after the 5 s connect timeout"; they leave room for a busy CI. */
const SLACK_MS = 250;

/** A caller who hangs up after `ms`; `sinceHangUp()` is how long ago that was. */
function hangUpAfter(ms: number): { signal: AbortSignal; sinceHangUp(): number } {
  const controller = new AbortController();
  let at = 0;
  setTimeout(() => { at = Date.now(); controller.abort(new Error('caller hung up')); }, ms);
  return { signal: controller.signal, sinceHangUp: () => Date.now() - at };
}

function rejectsWith(promise: Promise<unknown>, code: CrmErrorCode, message?: RegExp): Promise<void> {
  return assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CrmError, `expected a CrmError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** A server on port 0 of 127.0.0.1; `close()` ends its connections too. */
async function listen<S extends net.Server>(server: S): Promise<{ server: S; port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

describe('HttpClient', () => {
  let fake: FakeHttpsServer;
  let client: HttpClient;

  before(async () => {
    fake = await FakeHttpsServer.start(() => ({ body: { ok: true } }));
    client = new HttpClient({ ca: testCa().caPem, egress: LOCAL_FAKES });
  });
  beforeEach(() => { fake.handler = () => ({ body: { ok: true } }); });
  after(async () => { await client.close(); await fake.close(); });

  it('hands every non-redirect status back as it is, headers lower-cased, repeated ones joined', async () => {
    fake.handler = () => ({ raw: 'HTTP/1.1 503 Service Unavailable\r\nX-Trace: a\r\nx-trace: b\r\nContent-Length: 4\r\n\r\nbusy' });
    const res = await client.request({ method: 'GET', url: `${fake.url}/x`, signal: live() });
    assert.deepEqual({ status: res.status, trace: res.headers['x-trace'], body: res.body }, { status: 503, trace: 'a, b', body: 'busy' });
  });

  it('refuses http:// itself (CONFIG), unless allowPlainHttp', async () => {
    const plain = await listen(http.createServer((_req, res) => res.end('plain')));
    const lenient = new HttpClient({ allowPlainHttp: true, egress: LOCAL_FAKES });
    try {
      await rejectsWith(client.request({ method: 'GET', url: `http://127.0.0.1:${plain.port}/`, signal: live(), what: 'Acme CRM' }), 'CONFIG', /^Acme CRM URL must start with https:\/\//);
      assert.equal((await lenient.request({ method: 'GET', url: `http://127.0.0.1:${plain.port}/`, signal: live() })).body, 'plain');
    } finally { await lenient.close(); await plain.close(); }
  });

  it('TLS: a server that answers the handshake in plain HTTP', async () => {
    const plain = await listen(http.createServer((_req, res) => res.end('plain')));
    try {
      await rejectsWith(client.request({ method: 'GET', url: `https://127.0.0.1:${plain.port}/`, signal: live() }), 'TLS', /certificate was not accepted \((ERR_SSL_|EPROTO)/);
    } finally { await plain.close(); }
  });

  describe('a connection that never comes up (TLS handshake unanswered)', () => {
    let silent: Awaited<ReturnType<typeof listen<net.Server>>>;
    const url = () => `https://localhost:${silent.port}/`;
    before(async () => { silent = await listen(net.createServer(() => undefined)); });
    after(async () => { await silent.close(); });

    it('TIMEOUT after connectTimeoutMs (undici\'s timer fires up to ~1 s late)', async () => {
      const quick = new HttpClient({ ca: testCa().caPem, egress: LOCAL_FAKES, connectTimeoutMs: 150 });
      const started = Date.now();
      try {
        await rejectsWith(quick.request({ method: 'GET', url: url(), signal: live() }), 'TIMEOUT', /^Connecting to The CRM timed out/);
        assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
      } finally { await quick.close(); }
    });

    // undici itself looks at the signal only once a connection is up: 5 s late with the default connect timeout.
    it('TIMEOUT at the call\'s deadline, long before the connect timeout', async () => {
      const started = Date.now();
      await rejectsWith(client.request({ method: 'GET', url: url(), signal: AbortSignal.timeout(150) }), 'TIMEOUT', /before the rule's deadline/);
      assert.ok(Date.now() - started < 150 + SLACK_MS, `took ${Date.now() - started} ms`);
    });

    it('ABORTED at once when the caller hangs up', async () => {
      const caller = hangUpAfter(100);
      await rejectsWith(client.request({ method: 'GET', url: url(), signal: caller.signal }), 'ABORTED');
      assert.ok(caller.sinceHangUp() < 500, `answered ${caller.sinceHangUp()} ms after the hang-up`);
    });

    it('TIMEOUT at the request\'s own timeoutMs', async () => {
      const started = Date.now();
      await rejectsWith(client.request({ method: 'GET', url: url(), signal: live(), timeoutMs: 150 }), 'TIMEOUT', /within 150 ms/);
      assert.ok(Date.now() - started < 150 + SLACK_MS, `took ${Date.now() - started} ms`);
    });
  });

  it('CONNECTION: the server closes the connection without answering', async () => {
    fake.handler = () => ({ drop: true });
    await rejectsWith(client.request({ method: 'GET', url: `${fake.url}/x`, signal: live() }), 'CONNECTION', /closed the connection before answering/);
  });

  it('TIMEOUT: the request\'s own timeoutMs, while the call\'s signal is still live', async () => {
    fake.handler = () => ({ body: 'late', delayMs: 1000 });
    const started = Date.now();
    await rejectsWith(client.request({ method: 'GET', url: `${fake.url}/x`, signal: live(), timeoutMs: 150 }), 'TIMEOUT', /did not answer within 150 ms/);
    assert.ok(Date.now() - started < 150 + SLACK_MS, `took ${Date.now() - started} ms`);
  });

  it('ABORTED: a signal aborted before the call sends nothing', async () => {
    const before = fake.requests.length;
    const gone = new AbortController();
    gone.abort(new Error('caller hung up'));
    await rejectsWith(client.request({ method: 'GET', url: `${fake.url}/x`, signal: gone.signal }), 'ABORTED');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(fake.requests.length, before);
  });

  it('caps a chunked body (no Content-Length) too; a larger maxBodyBytes lets it through', async () => {
    const chunk = 'y'.repeat(40 * 1024);
    const chunked = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${[chunk, chunk].map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`;
    fake.handler = () => ({ raw: chunked });
    await rejectsWith(client.request({ method: 'GET', url: `${fake.url}/x`, signal: live() }), 'TOO_LARGE', /more than 64 KiB/);
    const res = await client.request({ method: 'GET', url: `${fake.url}/x`, signal: live(), maxBodyBytes: 128 * 1024 });
    assert.equal(res.body.length, 80 * 1024);
  });

  it('refuses a Content-Length over the cap before reading the body, and reads one within it whole (UTF-8)', async () => {
    const text = 'ü'.repeat(30 * 1024);
    const bytes = Buffer.byteLength(text);
    fake.handler = () => ({ raw: `HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${bytes}\r\n\r\n${text}` });
    await rejectsWith(client.request({ method: 'GET', url: `${fake.url}/x`, signal: live(), maxBodyBytes: bytes - 1 }), 'TOO_LARGE');
    const res = await client.request({ method: 'GET', url: `${fake.url}/x`, signal: live(), maxBodyBytes: bytes });
    assert.equal(res.body, text);
  });

  describe('while the body is still arriving', () => {
    let stalling: Awaited<ReturnType<typeof listen<https.Server>>>;
    const url = () => `https://localhost:${stalling.port}/`;

    before(async () => {
      const cert = testCa().issue(['localhost']);
      // Headers and a first piece of the body, then nothing: a CRM that stalls mid-answer.
      stalling = await listen(https.createServer({ cert: cert.cert, key: cert.key }, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"value": "par');
      }));
    });
    after(async () => { await stalling.close(); });

    it('ABORTED at once when the caller hangs up', async () => {
      const caller = hangUpAfter(100);
      await rejectsWith(client.request({ method: 'GET', url: url(), signal: caller.signal }), 'ABORTED', /caller hung up/);
      assert.ok(caller.sinceHangUp() < 500, `answered ${caller.sinceHangUp()} ms after the hang-up`);
    });

    it('TIMEOUT when the call\'s deadline passes', async () => {
      await rejectsWith(client.request({ method: 'GET', url: url(), signal: AbortSignal.timeout(100) }), 'TIMEOUT', /before the rule's deadline/);
    });

    it('TIMEOUT when the request\'s own timeoutMs passes', async () => {
      await rejectsWith(client.request({ method: 'GET', url: url(), signal: live(), timeoutMs: 100 }), 'TIMEOUT', /within 100 ms/);
    });
  });

  describe('a private CA', () => {
    it('keeps trusting NODE_EXTRA_CA_CERTS (which Node drops once a ca option is given)', async () => {
      const other = testCa().selfSigned(['localhost']);
      const server = await FakeHttpsServer.start(() => ({ body: 'trusted' }), other);
      const dir = mkdtempSync(join(tmpdir(), 'crm-ca-'));
      const saved = process.env.NODE_EXTRA_CA_CERTS;
      let withEnv: HttpClient | undefined;
      try {
        writeFileSync(join(dir, 'extra.pem'), other.cert);
        process.env.NODE_EXTRA_CA_CERTS = join(dir, 'extra.pem');
        withEnv = new HttpClient({ ca: testCa().caPem, egress: LOCAL_FAKES });
        assert.equal((await withEnv.request({ method: 'GET', url: server.url, signal: live() })).body, 'trusted');
        assert.equal((await withEnv.request({ method: 'GET', url: fake.url, signal: live() })).status, 200);
      } finally {
        if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
        else process.env.NODE_EXTRA_CA_CERTS = saved;
        await withEnv?.close();
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('builds its TLS context once, not per connection (parsing ~140 roots blocks the event loop 60-80 ms)', async () => {
      const servers = await Promise.all([1, 2, 3].map(() => FakeHttpsServer.start(() => ({ body: 'ok' }))));
      const fresh = new HttpClient({ ca: testCa().caPem, egress: LOCAL_FAKES });
      const original = tls.createSecureContext;
      let built = 0;
      // tls.connect calls the module's export when it is given no secureContext of its own.
      (tls as { createSecureContext: typeof original }).createSecureContext = (options) => { built += 1; return original(options); };
      try {
        for (const server of servers) assert.equal((await fresh.request({ method: 'GET', url: server.url, signal: live() })).status, 200);
        assert.equal(built, 0);
      } finally {
        (tls as { createSecureContext: typeof original }).createSecureContext = original;
        await fresh.close();
        await Promise.all(servers.map((s) => s.close()));
      }
    });
  });
});
