/**
 * Windows (NTLM) authentication for on-premises Dynamics. NTLM authenticates a TCP connection,
 * not a request: Type 1 (negotiate) -> 401 carrying the server's Type 2 (challenge) -> Type 3
 * (the answer, sent with the real request), all on ONE keep-alive connection, after which the
 * connection stays authenticated. So each connection here is a pinned undici Client from the
 * shared HttpClient (same TLS trust, timeouts, body cap and error mapping), used by one request
 * at a time so no other request can slip into a handshake. Messages come from httpntlm's
 * ntlm.js (NTLMv2 when the server sends target info, as Windows servers do).
 *
 * A handshake happens once per connection: when the connection closes (idle timeout, abort),
 * the next request on it handshakes again. A 401 NTLM answer on a connection believed
 * authenticated gets one new handshake; a 401 right after a Type 3 is returned to the caller
 * (wrong credentials), which withSession turns into one fresh pool, then AUTH.
 */
import { createType1Message, createType3Message, parseType2Message, type NtlmIdentity } from 'httpntlm/ntlm.js';
import type { Client } from 'undici';
import { CrmError } from '../shared/crm-error';
import type { HttpClient, HttpRequest, HttpResponse } from '../shared/http-client';

export interface NtlmCredentials {
  /** NetBIOS domain, e.g. CONTOSO; empty when the username is a UPN (user@contoso.com). */
  domain: string;
  username: string;
  password: string;
  workstation?: string;
}

/** Splits 'DOMAIN\user' (or a UPN, kept whole with an empty domain). */
export function parseWindowsUser(login: string): { domain: string; username: string } {
  const slash = login.indexOf('\\');
  return slash > 0 ? { domain: login.slice(0, slash), username: login.slice(slash + 1) } : { domain: '', username: login };
}

class NtlmConnection {
  private authenticated = false;

  constructor(private readonly http: HttpClient, readonly client: Client, private readonly identity: NtlmIdentity, private readonly what: string) {
    client.on('disconnect', () => { this.authenticated = false; });
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    if (!this.authenticated) return this.handshake(req);
    const res = await this.send(req);
    if (res.status === 401 && ntlmChallenge(res) !== undefined) {
      this.authenticated = false;
      return this.handshake(req);
    }
    return res;
  }

  private async handshake(req: HttpRequest): Promise<HttpResponse> {
    const negotiate = await this.send(req, createType1Message({ domain: this.identity.domain, workstation: this.identity.workstation }));
    if (negotiate.status !== 401) {
      // The server let the request through without asking (anonymous access): that is the answer.
      this.authenticated = negotiate.status < 400;
      return negotiate;
    }
    const challenge = ntlmChallenge(negotiate);
    if (!challenge) {
      throw new CrmError('AUTH', `${this.what} did not answer the NTLM negotiation with a challenge (WWW-Authenticate: ${negotiate.headers['www-authenticate'] ?? 'none'}): enable Windows authentication with the NTLM provider for the CRM web site.`, { status: 401 });
    }
    let parseError: Error | undefined;
    let type2;
    try {
      type2 = parseType2Message(`NTLM ${challenge}`, (err) => { parseError = err; });
    } catch (err) {
      parseError = err as Error;
    }
    if (!type2) throw new CrmError('BAD_RESPONSE', `${this.what} sent an NTLM challenge that could not be read (${parseError?.message ?? 'not a Type 2 message'}).`);
    const res = await this.send(req, createType3Message(type2, { ...this.identity }));
    this.authenticated = res.status !== 401;
    return res;
  }

  private send(req: HttpRequest, authorization?: string): Promise<HttpResponse> {
    return this.http.request({ ...req, dispatcher: this.client, headers: { ...req.headers, ...(authorization ? { authorization } : {}) } });
  }
}

/** The token from 'WWW-Authenticate: NTLM <token>' (possibly listed with Negotiate); '' for a bare NTLM offer. */
function ntlmChallenge(res: HttpResponse): string | undefined {
  const header = res.headers['www-authenticate'];
  if (header === undefined) return undefined;
  const match = /(?:^|,)\s*NTLM(?:\s+([A-Za-z0-9+/]+=*))?\s*(?:,|$)/i.exec(header);
  return match ? match[1] ?? '' : undefined;
}

export interface NtlmPoolOptions {
  origin: string;
  credentials: NtlmCredentials;
  /** Connections open at once; more concurrent requests wait for one. Default 8. */
  maxConnections?: number;
  what: string;
}

/** Authenticated connections to one server for one Windows user, reused across calls. */
export class NtlmConnectionPool {
  private readonly idle: NtlmConnection[] = [];
  private readonly all: NtlmConnection[] = [];
  private readonly waiting: Array<(connection: NtlmConnection) => void> = [];
  private closed = false;

  constructor(private readonly http: HttpClient, private readonly options: NtlmPoolOptions) {}

  async request(req: HttpRequest): Promise<HttpResponse> {
    const connection = await this.acquire(req.signal);
    try {
      return await connection.request(req);
    } finally {
      this.release(connection);
    }
  }

  /** Closes every connection once its current request is done. */
  close(): void {
    this.closed = true;
    for (const connection of this.all) void connection.client.close().catch(() => undefined);
  }

  /** A caller still holding a replaced pool is served all the same; the connection closes after. */
  private async acquire(signal: AbortSignal): Promise<NtlmConnection> {
    const ready = this.idle.pop();
    if (ready) return ready;
    if (this.all.length < (this.options.maxConnections ?? 8)) {
      const { domain, username, password, workstation } = this.options.credentials;
      const connection = new NtlmConnection(this.http, this.http.pinnedConnection(this.options.origin), { domain, username, password, workstation: workstation ?? '' }, this.options.what);
      this.all.push(connection);
      return connection;
    }
    return new Promise<NtlmConnection>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      const grant = (connection: NtlmConnection) => { signal.removeEventListener('abort', onAbort); resolve(connection); };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(connection: NtlmConnection): void {
    const next = this.waiting.shift();
    if (next) next(connection);
    else if (!this.closed) this.idle.push(connection);
    else void connection.client.close().catch(() => undefined);
  }
}
