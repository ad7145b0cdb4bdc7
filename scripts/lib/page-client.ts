/**
 * A signed-in browser stand-in for benchmarks and fuzzers: one keep-alive connection, a cookie
 * jar, sign-in through the reference host's login form (with its CSRF token), then timed GETs of
 * whole pages and posts of any body. Small on purpose: its own cost per request is a few tens of
 * microseconds, so page timings are the server's.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface PageResponse {
  status: number;
  body: string;
  /** From the request written to the last byte of the body. */
  ms: number;
}

export class PageClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly cookies = new Map<string, string>();

  private constructor(private readonly baseUrl: URL) {}

  /** Signs in with the host's login form; throws unless the host answers 303 (signed in). */
  static async signIn(baseUrl: string, user: { name: string; password: string }): Promise<PageClient> {
    const client = new PageClient(new URL(baseUrl));
    const login = await client.get('/login');
    const token = /name="_csrf" value="([^"]+)"/.exec(login.body)?.[1];
    if (!token) throw new Error(`The login page has no CSRF token (status ${login.status}).`);
    const form = new URLSearchParams({ _csrf: token, username: user.name, password: user.password, next: '/' }).toString();
    const signedIn = await client.send('POST', '/login', form);
    if (signedIn.status !== 303) throw new Error(`Sign-in as ${user.name} failed with status ${signedIn.status}.`);
    return client;
  }

  get(path: string): Promise<PageResponse> {
    return this.send('GET', path);
  }

  /** Posts `body` as it is, with the content type given (none when undefined) and extra headers. */
  post(path: string, body: string | Buffer, contentType: string | undefined, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.send('POST', path, body, { ...(contentType === undefined ? {} : { 'content-type': contentType }), ...headers });
  }

  close(): void {
    this.agent.destroy();
  }

  private send(method: 'GET' | 'POST', path: string, body?: string | Buffer, extra?: Record<string, string>): Promise<PageResponse> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { accept: 'text/html' };
      if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      if (body !== undefined) {
        Object.assign(headers, extra ?? { 'content-type': 'application/x-www-form-urlencoded' });
        headers['content-length'] = Buffer.byteLength(body);
      }
      const started = performance.now();
      const req = http.request(new URL(path, this.baseUrl), { method, headers, agent: this.agent }, (res) => {
        for (const line of res.headers['set-cookie'] ?? []) this.keepCookie(line);
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  private keepCookie(line: string): void {
    const pair = line.split(';', 1)[0]!;
    const equals = pair.indexOf('=');
    if (equals <= 0) return;
    const name = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}
