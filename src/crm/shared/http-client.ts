/**
 * The one HTTP client every CRM connector uses: pooled keep-alive connections, certificates
 * verified (plus an optional private CA), redirects never followed, a timeout and a body cap on
 * every request, the call's AbortSignal honoured at every step, and the host's egress policy
 * checked on every address connected to. Failures become CrmErrors.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, Client, errors as undiciErrors, type Dispatcher } from 'undici';
import type { CrmEgressPolicy } from '../../host';
import { abortedError, CrmError, possessive } from './crm-error';
import { EgressPolicy, EgressRefusedError, type ConnectLookup } from './egress-policy';
import { RequestStop } from './request-stop';

export interface HttpClientOptions {
  /** PEM of a private CA to trust in addition to the system's roots (and NODE_EXTRA_CA_CERTS). */
  ca?: string | string[];
  /** Connections kept per origin. Default 64. */
  connectionsPerOrigin?: number;
  /** How long an idle keep-alive connection is kept. Default 30 s. */
  keepAliveMs?: number;
  /** TCP + TLS connect timeout. Default 5 s. */
  connectTimeoutMs?: number;
  /** Allow http:// URLs (tests of the client itself only). Default false. */
  allowPlainHttp?: boolean;
  /** Where connections may go (HostContext.crmEgress). Default: public addresses only. */
  egress?: CrmEgressPolicy;
  /** How host names are resolved. Default dns.lookup; tests pass answers of their own (DNS rebinding). */
  resolve?: ConnectLookup;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string | URL;
  headers?: Record<string, string>;
  body?: string;
  /** The call's deadline or hang-up; aborting it ends the request at once. */
  signal: AbortSignal;
  /** This request's own limit, in addition to `signal`. Default 10 s. */
  timeoutMs?: number;
  /** Largest answer accepted, in bytes. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Names what is being called, for error messages ("Zoho CRM", "the Custom CRM URL"). */
  what?: string;
  /**
   * Hand a 3xx answer back (its Location in `headers.location`) instead of failing, for the rare
   * flow where the redirect itself carries the answer (an OAuth code) or a move to follow once by
   * hand (a data centre). Default false: redirects are errors.
   */
  returnRedirects?: boolean;
  /** Send over this connection instead of the shared pool (one from `pinnedConnection`). */
  dispatcher?: Dispatcher;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

export class HttpClient {
  private readonly agent: Agent;
  private readonly connectOptions: { timeout: number; rejectUnauthorized: true; lookup: ConnectLookup; secureContext?: SecureContext };
  private readonly egress: EgressPolicy;

  constructor(private readonly options: HttpClientOptions = {}) {
    const extraCa = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
    this.egress = new EgressPolicy(options.egress);
    this.connectOptions = {
      timeout: options.connectTimeoutMs ?? 5_000,
      rejectUnauthorized: true,
      // Every connection resolves its host through the policy: only allowed addresses reach the socket.
      lookup: this.egress.lookup(options.resolve),
      // Node's `ca` replaces the default roots, so the roots are passed along with the private CA.
      // One context for every connection: a `ca` option makes Node parse all ~140 roots again per
      // connection, blocking the event loop (and every live call) for tens of ms each time.
      ...(extraCa.length > 0 ? { secureContext: createSecureContext({ ca: [...rootCertificates, ...envExtraCa(), ...extraCa] }) } : {}),
    };
    this.agent = new Agent({
      connections: options.connectionsPerOrigin ?? 64,
      keepAliveTimeout: options.keepAliveMs ?? 30_000,
      connect: this.connectOptions,
    });
  }

  /**
   * ONE keep-alive connection to `origin` with this client's TLS settings, for protocols that
   * authenticate the connection rather than each request (NTLM). Pass it as `dispatcher`; the
   * caller closes it. It reconnects by itself after a close (emitting 'disconnect').
   */
  pinnedConnection(origin: string | URL): Client {
    return new Client(origin, { pipelining: 1, keepAliveTimeout: this.options.keepAliveMs ?? 30_000, connect: this.connectOptions });
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const what = req.what ?? 'The CRM';
    const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
    if (url.protocol !== 'https:' && !(this.options.allowPlainHttp && url.protocol === 'http:')) {
      throw new CrmError('CONFIG', `${what} URL must start with https:// (got ${url.protocol}//).`);
    }
    const refused = this.egress.refuseHost(url.hostname);
    if (refused) throw new CrmError('EGRESS', refused.explain(what), { cause: refused });
    const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxBodyBytes = req.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const stop = new RequestStop(req.signal, timeoutMs);
    try {
      // The dispatcher's own request(): undici's top-level request() parses the URL once more.
      const pending = (req.dispatcher ?? this.agent).request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: stop,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const res = await untilAborted(pending, stop, (late) => late.body.destroy());
      const body = await readCapped(res, maxBodyBytes, what);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      if (res.statusCode >= 300 && res.statusCode < 400 && !req.returnRedirects) {
        throw new CrmError('BAD_RESPONSE', `${what} answered with a redirect (${res.statusCode}) ${headers.location ? `to ${headers.location}` : 'without saying where to'}; redirects are not followed, use the final URL.`, { status: res.statusCode });
      }
      return { status: res.statusCode, headers, body };
    } catch (err) {
      throw toCrmError(err, what, req.signal, timeoutMs);
    } finally {
      stop.done();
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * undici notices an abort only once the request is on a connection: a connect that hangs (a
 * firewall dropping packets, a stalled TLS handshake) would outlive the deadline and the hang-up
 * by the whole connect timeout. So the signal is raced here; an answer arriving late is released.
 */
function untilAborted<T>(pending: Promise<T>, stop: RequestStop, release: (late: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      pending.then(release, () => undefined);
      reject(stop.reason);
    };
    if (stop.aborted) return onAbort();
    stop.once('abort', onAbort);
    pending.then(
      (value) => { stop.removeListener('abort', onAbort); resolve(value); },
      (err: unknown) => { stop.removeListener('abort', onAbort); reject(err); },
    );
  });
}

/** NODE_EXTRA_CA_CERTS: Node adds it to its default roots only, which a `ca` option replaces. */
function envExtraCa(): string[] {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    return []; // Node has already warned about an unreadable file at startup.
  }
}

/**
 * The answer's body as text, at most `cap` bytes. A Content-Length within the cap is read in one
 * go (undici holds the response to that length); without one (chunked), chunk by chunk up to the
 * cap, on the stream's own events (an async iterator costs promises per chunk).
 */
function readCapped(res: Dispatcher.ResponseData, cap: number, what: string): Promise<string> {
  const body = res.body;
  const length = res.headers['content-length'];
  const declared = typeof length === 'string' ? Number(length) : Number.NaN;
  if (declared > cap) {
    body.destroy();
    return Promise.reject(tooLarge(cap, what));
  }
  if (declared >= 0) return body.text();
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cap) return void chunks.push(chunk);
      body.destroy();
      reject(tooLarge(cap, what));
    });
    body.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    body.once('error', reject);
  });
}

function tooLarge(cap: number, what: string): CrmError {
  return new CrmError('TOO_LARGE', `${what} sent more than ${Math.round(cap / 1024)} KiB; only the field's value is expected.`);
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED', 'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO',
]);

/** Turns whatever undici or the network threw into a CrmError with a specific code. */
export function toCrmError(err: unknown, what: string, callSignal: AbortSignal, timeoutMs: number): CrmError {
  if (err instanceof CrmError) return err;
  const refused = causeOf(err, EgressRefusedError);
  if (refused) return new CrmError('EGRESS', refused.explain(what), { cause: err });
  if (callSignal.aborted) return abortedError(what, callSignal, err);
  const code = errorCode(err);
  if (code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError') {
    return new CrmError('TIMEOUT', `${what} did not answer within ${timeoutMs} ms.`, { cause: err });
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new CrmError('TIMEOUT', `Connecting to ${what} timed out.`, { cause: err });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new CrmError('DNS', `${possessive(what)} host name could not be resolved (${code}): check the URL.`, { cause: err });
  if (code !== undefined && (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))) {
    return new CrmError('TLS', `${possessive(what)} certificate was not accepted (${code}): it must be valid for the host name and signed by a trusted CA.`, { cause: err });
  }
  if (code === 'ECONNREFUSED') return new CrmError('CONNECTION', `${what} refused the connection: nothing listens at that address and port.`, { cause: err });
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') {
    return new CrmError('CONNECTION', `${what} closed the connection before answering.`, { cause: err });
  }
  // undici's HTTPParserError (garbage instead of HTTP) is not an UndiciError at run time, and has no code.
  if (err instanceof undiciErrors.UndiciError || err instanceof undiciErrors.HTTPParserError) {
    return new CrmError('BAD_RESPONSE', `${what} sent an answer that is not valid HTTP (${code ?? err.message}).`, { cause: err });
  }
  return new CrmError('CONNECTION', `Could not reach ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** The first error of `type` in an error and its causes. */
function causeOf<T>(err: unknown, type: new (...args: never[]) => T): T | undefined {
  let e = err as { cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth += 1) {
    if (e instanceof type) return e as T;
    e = e.cause as typeof e;
  }
  return undefined;
}

/** The most specific error code in an error and its causes (undici wraps socket errors). */
function errorCode(err: unknown): string | undefined {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  let found: string | undefined;
  for (let depth = 0; e && depth < 5; depth += 1) {
    if (typeof e.code === 'string') found = e.code;
    e = e.cause as typeof e;
  }
  return found;
}
