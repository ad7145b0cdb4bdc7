/**
 * The reference host, started for a test on a fresh database with its FastAGI endpoint on a free
 * port, plus signed-in supertest agents that carry the CSRF token of the page they last read.
 */
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { AmiSettings, CrmEgressPolicy, DialplanSigning, HostDirectory, HostLogger } from '../../src/host';
import type { CallLimits } from '../../src/config';
import { startReferenceHost, type ReferenceHost } from '../../scripts/host/create-host';
import { LOCAL_FAKES } from './connector-harness';
import { openTestDatabase, type Dialect, type OpenedDatabase } from './databases';

export const ADMIN = { name: 'admin', password: 'admin-pass', tenantId: 'default' };
export const OTHER_TENANT_USER = { name: 'bob', password: 'bob-pass', tenantId: 'tenant-b' };

export interface TestHost {
  host: ReferenceHost;
  database: OpenedDatabase;
  agiPort: number;
  /** An agent signed in as `user` (the admin by default). */
  signIn(user?: { name: string; password: string }): Promise<SignedInAgent>;
  close(): Promise<void>;
}

export interface SignedInAgent {
  agent: request.Agent;
  /** GET a page and remember its CSRF token. */
  get(path: string): Promise<request.Response>;
  /** POST a form with the last token read (or `csrf` given). */
  post(path: string, form: Record<string, string | string[]>, csrf?: string | null): Promise<request.Response>;
  token: string;
}

/** The secret key every test host is started with (tests open its sealed values with it; another node of the host needs it too). */
export const TEST_SECRET_KEY = 'test-secret-key-0123456789abcdef-0123456789';

export const silentLogger: HostLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface TestHostOptions {
  dialect?: Dialect;
  ami?: AmiSettings;
  logger?: HostLogger;
  crmCa?: string;
  /** Lower call limits (maxConcurrentCalls, stopTimeoutMs...) than plugin.json's. */
  limits?: Partial<CallLimits>;
  /** Vendor origin -> fake server origin, for connectors with fixed hosts (Zoho). */
  resolveCrmOrigin?: (origin: string) => string;
  /** Over plugin.json's 60 s; 0 turns the lookup cache off. */
  lookupCacheTtlSeconds?: number;
  /** How often call decisions are written (default 500 ms): short, so a test reads them at once. */
  decisionFlushMs?: number;
  /** HostContext.publicUrl (CRM Connect's redirect URLs); unset: the loopback address the test uses. */
  publicUrl?: string;
  /** Where CRM traffic may go. Default: loopback allowed, as the test fakes listen on 127.0.0.1 (the plugin's own default refuses it). */
  crmEgress?: CrmEgressPolicy;
  /** Another dialplan signing key, and a previous one's grace period. Default: lines are signed with TEST_SECRET_KEY. */
  dialplanSigning?: DialplanSigning;
  /** The host's directory; `false`: none. Default: the reference host's seeded one. */
  directory?: HostDirectory | false;
  /** Bearer token for /metrics and /healthz from other machines (METRICS_TOKEN). */
  metricsToken?: string;
  /** Where the admin listens (default 127.0.0.1). */
  listenHost?: string;
}

export async function startTestHost(options: TestHostOptions = {}): Promise<TestHost> {
  const database = await openTestDatabase(options.dialect ?? 'sqlite');
  const host = await startReferenceHost({
    db: database.db, port: 0, adminUser: ADMIN.name, adminPassword: ADMIN.password,
    secretKey: TEST_SECRET_KEY, agi: { port: 0, bind: '127.0.0.1', publicHost: '127.0.0.1' },
    ami: options.ami, crmCa: options.crmCa, logger: options.logger ?? silentLogger, extraUsers: [OTHER_TENANT_USER], limits: options.limits,
    resolveCrmOrigin: options.resolveCrmOrigin, lookupCacheTtlSeconds: options.lookupCacheTtlSeconds, decisionFlushMs: options.decisionFlushMs, publicUrl: options.publicUrl,
    crmEgress: options.crmEgress ?? LOCAL_FAKES, dialplanSigning: options.dialplanSigning,
    ...(options.directory === undefined ? {} : { directory: options.directory }),
    metricsToken: options.metricsToken, listenHost: options.listenHost,
  });
  return {
    host, database, agiPort: (await host.plugin.health()).agi.port,
    signIn: (user = ADMIN) => signIn(host.url, user),
    async close() {
      await host.close();
      await database.close();
    },
  };
}

export function csrfTokenOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('The page has no CSRF token');
  return match[1]!;
}

/** Signs in to a reference host at `url` (one started by the test, or one in another process). */
export async function signIn(url: string, user: { name: string; password: string }): Promise<SignedInAgent> {
  const agent = request.agent(url);
  const login = await agent.get('/login');
  const res = await agent.post('/login').type('form').send({ _csrf: csrfTokenOf(login.text), username: user.name, password: user.password, next: '/' });
  if (res.status !== 303) throw new Error(`Sign-in as ${user.name} failed: ${res.status}`);
  const signed: SignedInAgent = {
    agent, token: '',
    async get(path) {
      const page = await agent.get(path);
      // The host's logout form comes first; the page's own forms come last.
      const tokens = [...page.text.matchAll(/name="_csrf" value="([^"]+)"/g)];
      if (tokens.length > 0) signed.token = tokens.at(-1)![1]!;
      return page;
    },
    post(path, form, csrf) {
      const body = csrf === null ? form : { ...form, _csrf: csrf ?? signed.token };
      return agent.post(path).type('form').send(new URLSearchParams(flatten(body)).toString());
    },
  };
  return signed;
}

function flatten(form: Record<string, string | string[]>): Array<[string, string]> {
  return Object.entries(form).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]]));
}

export type { AddressInfo };
