/**
 * Everything a call needs end to end, started together: the reference host (fresh SQLite,
 * FastAGI on a free port, the test CA trusted for CRMs), a fake Custom CRM over HTTPS that
 * answers per path, the simulated Asterisk, and a fake AMI that moves the simulator's channels.
 * Rules are saved through the Routing pages, so the host's call path sees each one at once.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import type { CallLimits } from '../../../src/config';
import type { AmiSettings, DialplanSigning, HostDirectory, HostLogger } from '../../../src/host';
import { agiScript } from '../../../src/call/dialplan';
import { DialplanSigner } from '../../../src/call/dialplan-signature';
import type { StoredDecision } from '../../../src/store/decision-store';
import type { CompletedCall } from '../../../src/calllog/completed-call';
import { PluginStore } from '../../../src/store/plugin-store';
import { AsteriskSimulator, type CallResult, type PlaceCallOptions } from '../../../scripts/lib/asterisk-simulator';
import { FakeAmiServer, type AmiChannelControl } from '../../../scripts/lib/fake-ami';
import { FakeHttpsServer, type FakeHandler, type RecordedRequest } from '../../support/fake-https';
import { testCa } from '../../support/test-ca';
import { ADMIN, startTestHost, TEST_SECRET_KEY, type SignedInAgent, type TestHost } from '../../support/test-host';
import { ruleFormFields, type RuleSpec } from './rule-spec';

export const AMI_USER = { username: 'crm', secret: 'crmsecret' };
export { TEST_SECRET_KEY };

export interface CallRigOptions {
  /** `fake` (default): the fake AMI; `none`: the host has no AMI settings; `closed-port`: settings for a port nobody listens on. */
  ami?: 'fake' | 'none' | 'closed-port';
  limits?: Partial<CallLimits>;
  logger?: HostLogger;
  /** The host's dialplan signing key and a previous one (a key change). */
  dialplanSigning?: DialplanSigning;
  /** The host's directory; `false`: a host without one. Default: the reference host's seeded one. */
  directory?: HostDirectory | false;
  /** Collect the calls the plugin's call log assembles (in `completedCalls`), with this grace period. */
  callLogGraceMs?: number;
  /** `outbox`: with `callLogGraceMs`, the assembled calls go to the plugin's own call log outbox (as in production), not to `completedCalls`. */
  callLog?: 'collect' | 'outbox';
  /** The host's database (default a fresh SQLite file). */
  dialect?: 'sqlite' | 'mariadb';
}

/** Channels the fake AMI answers "Channel does not exist" for, though the simulator has them. */
class ChannelsWithUnknown implements AmiChannelControl {
  readonly unknown = new Set<string>();
  constructor(private readonly asterisk: AsteriskSimulator) {}
  redirect(channel: string, target: Parameters<AmiChannelControl['redirect']>[1]): ReturnType<AmiChannelControl['redirect']> {
    return this.unknown.has(channel) ? 'no-such-channel' : this.asterisk.redirect(channel, target);
  }
  hangup(channel: string): ReturnType<AmiChannelControl['hangup']> {
    return this.unknown.has(channel) ? 'no-such-channel' : this.asterisk.hangup(channel);
  }
}

export class CallRig {
  private readonly routes = new Map<string, FakeHandler>();
  private rules = 0;

  private constructor(
    readonly host: TestHost,
    readonly crm: FakeHttpsServer,
    readonly asterisk: AsteriskSimulator,
    readonly ami: FakeAmiServer | undefined,
    private readonly channels: ChannelsWithUnknown,
    /** What the host was given as AMI settings (a closed port in `closed-port` mode). */
    readonly amiSettings: AmiSettings | undefined,
    readonly admin: SignedInAgent,
    /** The plugin's tables, read (and written, as "another process") beside the host. */
    readonly store: PluginStore,
    /** The calls the plugin's call log emitted, in order (with `callLogGraceMs`). */
    readonly completedCalls: CompletedCall[],
  ) {
    crm.handler = (req) => {
      const handler = this.routes.get(req.path);
      // An unplanned request answers an error no test expects, rather than passing by accident.
      return handler ? handler(req) : { status: 599, body: `no fake CRM route for ${req.path}` };
    };
  }

  static async start(options: CallRigOptions = {}): Promise<CallRig> {
    const asterisk = new AsteriskSimulator({ maxCallMs: 8000 });
    const channels = new ChannelsWithUnknown(asterisk);
    const crm = await FakeHttpsServer.start(() => ({ status: 599 }));
    const mode = options.ami ?? 'fake';
    const ami = mode === 'fake' ? await FakeAmiServer.create({ port: 0, ...AMI_USER, channels }) : undefined;
    let amiSettings: AmiSettings | undefined;
    if (ami) amiSettings = { host: '127.0.0.1', port: ami.port, ...AMI_USER };
    if (mode === 'closed-port') amiSettings = { host: '127.0.0.1', port: await closedPort(), ...AMI_USER };
    const completedCalls: CompletedCall[] = [];
    const host = await startTestHost({
      ami: amiSettings, crmCa: testCa().caPem, limits: options.limits, decisionFlushMs: 20, ...(options.logger ? { logger: options.logger } : {}),
      dialplanSigning: options.dialplanSigning,
      ...(options.directory === undefined ? {} : { directory: options.directory }),
      ...(options.callLogGraceMs !== undefined ? { callLogGraceMs: options.callLogGraceMs } : {}),
      ...(options.callLogGraceMs !== undefined && options.callLog !== 'outbox' ? { onCompletedCall: (call: CompletedCall) => void completedCalls.push(call) } : {}),
      ...(options.dialect ? { dialect: options.dialect } : {}),
    });
    if (ami) assert.ok(await ami.waitForLogin(3000), 'the host logs in to the fake AMI');
    const admin = await host.signIn();
    const store = await PluginStore.create(host.database.db, { secretKey: TEST_SECRET_KEY });
    return new CallRig(host, crm, asterisk, ami, channels, amiSettings, admin, store, completedCalls);
  }

  get agiPort(): number {
    return this.host.agiPort;
  }

  /** Makes the fake CRM answer requests for `path` with `handler`; returns the URL for a rule. */
  route(path: string, handler: FakeHandler): string {
    this.routes.set(path, handler);
    return `${this.crm.url}${path}`;
  }

  /** The fake CRM's requests for `path`. */
  requestsTo(path: string): RecordedRequest[] {
    return this.crm.requests.filter((r) => r.path === path);
  }

  /** Saves a rule through CRM > Routing > Add rule; resolves with its id once calls can use it. */
  async createRule(spec: RuleSpec): Promise<number> {
    const name = spec.name ?? `E2E rule ${(this.rules += 1)}`;
    await this.admin.get('/crm/routing/new');
    const saved = await this.admin.post('/crm/routing/new', ruleFormFields({ ...spec, name }));
    assert.equal(saved.status, 303, `the rule form refused the rule: ${saved.text.slice(0, 2000)}`);
    const rule = (await this.store.rules.list(ADMIN.tenantId, { search: name, offset: 0, limit: 10 })).rules.find((r) => r.name === name);
    assert.ok(rule, `rule ${name} is stored`);
    return rule.id;
  }

  /** Saves changes to a rule through its edit page. */
  async editRule(id: number, spec: RuleSpec & { name: string }): Promise<void> {
    const form = await this.admin.get(`/crm/routing/${id}/edit`);
    const version = Number(/name="version" value="(\d+)"/.exec(form.text)?.[1]);
    const saved = await this.admin.post(`/crm/routing/${id}/edit`, ruleFormFields(spec, version));
    assert.equal(saved.status, 303, `the rule form refused the edit: ${saved.text.slice(0, 2000)}`);
  }

  /** Switches the crm_routing license feature on the host's License page. */
  async setLicensed(on: boolean): Promise<void> {
    await this.admin.get('/license');
    const res = await this.admin.post('/license', { crm_routing: on ? 'on' : 'off' });
    assert.equal(res.status, 303);
  }

  /** One call into the rule (`?rule=<id>&tenant=default&sig=...`, as the dialplan line has it); `options.script` replaces the line. */
  call(ruleId: number | undefined, options: Partial<PlaceCallOptions> = {}): Promise<CallResult> {
    const script = ruleId === undefined ? undefined : signedScript(ruleId, ADMIN.tenantId);
    return this.asterisk.placeCall({ agiPort: this.agiPort, callerId: '+15550001111', callerName: 'Test Caller', ...(script ? { script } : {}), ...options });
  }

  /**
   * For a rule written beside the host (not through its pages): calls it until the host's rule
   * cache has polled it in, and resolves with that first routed call. UNKNOWN_RULE ends a call at
   * once, so probing is cheap; the caller bounds the wait.
   */
  async firstCallOnceLoaded(ruleId: number, options: Partial<PlaceCallOptions> = {}): Promise<CallResult> {
    for (;;) {
      const call = await this.call(ruleId, options);
      if (call.variables.CRM_ROUTING_STATUS !== 'UNKNOWN_RULE') return call;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The next call's channel is one the fake AMI does not know: its Redirect answers Error. */
  unknownToAmi(channel: string): void {
    this.channels.unknown.add(channel);
  }

  /** The call's decision record, once the decision log has written it (bounded wait). */
  async decision(ruleId: number, callId: string, timeoutMs = 3000): Promise<StoredDecision> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.store.decisions.recent(ADMIN.tenantId, ruleId, 1000)).find((d) => d.callId === callId);
      if (found) return found;
      if (Date.now() > until) assert.fail(`no decision recorded for call ${callId} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async close(): Promise<void> {
    this.asterisk.close();
    await this.host.close();
    await this.ami?.close();
    await this.crm.close();
  }
}

/**
 * The AGI script of a dialplan line the test host signed for `ruleId` and `tenantId` (the host's
 * key is the test key), also for rule ids that do not exist.
 */
export function signedScript(ruleId: number, tenantId: string): string {
  return agiScript({ id: ruleId, tenantId }, 'crm-routing', new DialplanSigner(TEST_SECRET_KEY));
}

/** A port that refuses connections: bound once, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The commands the plugin wrote on the AGI socket, in order. */
export function commandsOf(call: CallResult): string[] {
  return call.transcript.filter((line) => line.direction === 'from-server').map((line) => line.text);
}

/** The dialplan step after AGI() in the simulator's default DID: where an early end continues. */
export const NEXT_PRIORITY = { kind: 'dialplan', context: 'from-did', exten: '5551234', priority: 3, via: 'next-priority' } as const;
