/**
 * One call, from the FastAGI header to the move: rule out of the cache, license checked,
 * greeting and digits for IVR rules, the CRM lookup within the rule's deadline, the rows
 * evaluated, channel variables set, then an AMI Redirect (or, without AMI, AGI's own
 * SET CONTEXT/EXTENSION/PRIORITY) and the socket closed at once: Asterisk holds the caller
 * until we close. A caller who hangs up is never moved. Every call leaves a decision record.
 */
import type { HostDestinations, HostLicense, HostLogger } from '../host';
import { decide, toDefault, type Branch, type LookupOutcome, type Outcome, type RoutingDecision } from '../domain/decide';
import type { DestinationRef } from '../domain/destination';
import type { Rule } from '../domain/rule';
import type { LookupResult } from '../crm/connector';
import type { AmiResult, RedirectRequest } from '../ami/ami-client';
import type { Decision, MoveMethod } from '../store/decision-store';
import { LICENSE_FEATURE } from '../web/license-gate';
import type { AgiRequest } from './agi-request';
import type { AgiSession } from './agi-session';
import { collectDigits } from './dtmf';
import { lookupWithin } from './lookup-within';
import type { OwnerRouting } from './owner-routing';
import type { RuleConnectors } from '../crm/rule-connectors';
import type { DialplanSigner } from './dialplan-signature';
import { readRuleRequest } from './rule-request';
import { Stopper } from './stopper';

/** Early ends: the session closes at once and the dialplan goes on (its fallback line runs). */
export type CallStatus = 'OK' | EarlyEnd | 'OVERLOADED';
/** The statuses of a call that ends without being routed. */
export type EarlyEnd = 'BAD_REQUEST' | 'FORBIDDEN' | 'UNKNOWN_RULE' | 'UNLICENSED' | 'NO_DESTINATION';

export interface CallFlowDeps {
  rules: { get(id: number): Rule | undefined };
  license: HostLicense;
  destinations: HostDestinations;
  connectors: Pick<RuleConnectors, 'forRule'>;
  /** Without AMI settings (`health().configured` false) calls are moved with AGI from the start. */
  ami: { redirect(request: RedirectRequest): Promise<AmiResult>; health(): { configured: boolean } };
  decisions: { record(decision: Decision): void };
  logger: HostLogger;
  /** The AGI path rules are reached at ("crm-routing"). */
  agiPath: string;
  /** Checks the signature of the dialplan line a call comes from. */
  signer: DialplanSigner;
  /** Turns the owner an "Owner's extension" row names into their extension (host directory, CRM users). */
  owners: Pick<OwnerRouting, 'resolve'>;
  /** Counts calls by rule, outcome and method, and early ends by status (/metrics). */
  metrics?: { called(ruleId: number, outcome: Outcome, method: MoveMethod): void; refused(reason: EarlyEnd): void };
}

interface Refusal {
  status: EarlyEnd;
  why?: Record<string, unknown>;
}

interface RunningCall {
  /** Stops when the plugin stops: the lookup is cut short and the call takes its default destination. */
  stop: Stopper;
  done: Promise<void>;
}

const VALUE_VARIABLE_LIMIT = 255;

export class CallFlow {
  private readonly running = new Map<AgiSession, RunningCall>();
  /** Rules whose line came signed with the previous key: each is warned about once. */
  private readonly warnedPreviousKey = new Set<number>();

  constructor(private readonly deps: CallFlowDeps) {}

  get activeCalls(): number {
    return this.running.size;
  }

  /** The AgiServer's onSession. */
  handle = (session: AgiSession, request: AgiRequest): Promise<void> => {
    const stop = new Stopper();
    const done = this.run(session, request, stop).finally(() => this.running.delete(session));
    this.running.set(session, { stop, done });
    return done;
  };

  /** Past the concurrency limit: the rule's default destination through AGI, no lookup. */
  overflow = async (session: AgiSession, request: AgiRequest): Promise<void> => {
    const started = performance.now();
    const { rule, refused } = this.ruleFor(session, request);
    if (!rule) return this.endEarly(session, refused.status, refused.why);
    if (!this.deps.license.isEnabled(LICENSE_FEATURE)) return this.endEarly(session, 'UNLICENSED');
    await this.finish(session, request, rule, toDefault(rule, 'OVERLOADED'), { started, dtmf: '', value: null, error: null, lookupMs: null, useAmi: false });
  };

  /** A call still running when the plugin stops: cut its lookup short so it takes the default destination. */
  drain = async (session: AgiSession): Promise<void> => {
    const call = this.running.get(session);
    if (!call) return;
    call.stop.stop(new Error('The plugin is stopping.'));
    await call.done;
  };

  badRequest = async (session: AgiSession): Promise<void> => {
    if (session.headerComplete && !session.isClosed) await this.endEarly(session, 'BAD_REQUEST');
    else this.deps.metrics?.refused('BAD_REQUEST');
  };

  private async run(session: AgiSession, request: AgiRequest, stopping: Stopper): Promise<void> {
    const started = performance.now();
    const { rule, refused } = this.ruleFor(session, request);
    if (!rule) return this.endEarly(session, refused.status, refused.why);
    if (!this.deps.license.isEnabled(LICENSE_FEATURE)) return this.endEarly(session, 'UNLICENSED');

    let dtmf = '';
    let lookup: LookupOutcome | undefined;
    if (rule.location === 'ivr' && rule.greeting) {
      const digits = await collectDigits(session, rule.greeting);
      if (digits.kind === 'hangup') return this.hungUp(session, request, rule, started, '', null);
      if (digits.kind === 'invalid') {
        dtmf = digits.last;
        lookup = { kind: 'invalid_dtmf' };
      } else {
        dtmf = digits.digits;
      }
    }

    let value: string | null = null;
    let error: { code: string; message: string } | null = null;
    let lookupMs: number | null = null;
    if (!lookup) {
      const bounded = await lookupWithin(this.deps.connectors.forRule(rule), {
        tenantId: rule.tenantId, ruleId: rule.id, callerId: request.callerId, did: request.dnid || request.extension, dtmf,
        fieldName: rule.fieldName, module: rule.source.kind === 'integration' ? rule.source.module : '',
        credentials: rule.source.kind === 'integration' ? { username: rule.source.username, password: rule.source.password } : { username: '', password: '' },
      }, rule.deadlineSeconds * 1000, [session.hangup, stopping]);
      lookupMs = bounded.lookupMs;
      if (session.hangupReceived || session.isClosed) return this.hungUp(session, request, rule, started, dtmf, lookupMs);
      if (stopping.aborted) {
        return this.finish(session, request, rule, toDefault(rule, 'STOPPING'), { started, dtmf, value: null, error: null, lookupMs, useAmi: true });
      }
      lookup = lookupOutcome(bounded.result, request.callerId);
      if (bounded.result.kind === 'value') value = bounded.result.value;
      if (bounded.result.kind === 'error') error = { code: bounded.result.code, message: bounded.result.message };
    }
    let decision = decide(rule, lookup);
    let owner: { owner: string | null; why?: string } = { owner: null };
    if (decision.outcome === 'MATCH' && decision.destination.type === 'owner') {
      // The owner's look-up shares the rule's deadline with the CRM lookup before it.
      const remainingMs = rule.deadlineSeconds * 1000 - (performance.now() - started);
      const resolved = await this.deps.owners.resolve(rule, decision, value ?? '', remainingMs, [session.hangup, stopping]);
      if (session.hangupReceived || session.isClosed) return this.hungUp(session, request, rule, started, dtmf, lookupMs);
      ({ decision } = resolved);
      owner = { owner: resolved.owner, ...(resolved.why ? { why: resolved.why } : {}) };
      if (resolved.why) session.log.info('The record\'s owner has no extension; using the default destination', { owner: resolved.owner, why: resolved.why });
    }
    await this.finish(session, request, rule, decision, { started, dtmf, value, error, lookupMs, useAmi: true, owner: owner.owner, ownerNote: owner.why ?? null });
  }

  /** Sets the variables, moves the call, closes, records. */
  private async finish(
    session: AgiSession, request: AgiRequest, rule: Rule, decision: RoutingDecision,
    call: CallFacts & { useAmi: boolean },
  ): Promise<void> {
    let { outcome, branch, rowIndex, destination } = decision;
    let target = this.deps.destinations.target(rule.tenantId, destination, decision.voicemail ? { voicemail: decision.voicemail } : {});
    if (!target && rowIndex !== null) {
      // The row's destination was deleted or renamed on the PBX: the default destination still works.
      session.log.warn('Row destination no longer exists; using the default destination', { row: rowIndex + 1, destination });
      ({ outcome, branch, rowIndex, destination } = toDefault(rule, 'DESTINATION_MISSING'));
      target = this.deps.destinations.target(rule.tenantId, destination, { voicemail: rule.defaultVoicemail });
    } else if (!target && branch !== 'default') {
      // A "When the lookup fails" destination that left the PBX: the outcome stands, the default takes the call.
      session.log.warn('Branch destination no longer exists; using the default destination', { branch, destination });
      ({ branch, destination } = toDefault(rule, outcome));
      target = this.deps.destinations.target(rule.tenantId, destination, { voicemail: rule.defaultVoicemail });
    }
    let method: MoveMethod = 'none';
    try {
      if (!target) {
        session.log.error('Default destination no longer exists; the dialplan fallback takes the call', { destination });
        await this.endEarly(session, 'NO_DESTINATION');
        return;
      }
      const tryAmi = call.useAmi && this.deps.ami.health().configured;
      // One round trip for the plain values (EXEC MSet), one more per value that is not plain.
      await session.setVariables({
        CRM_ROUTING_STATUS: outcome === 'OVERLOADED' ? 'OVERLOADED' : 'OK',
        CRM_ROUTING_OUTCOME: outcome,
        CRM_ROUTING_VALUE: variableSafe(call.value ?? ''),
        CRM_ROUTING_ROW: rowIndex === null ? '' : String(rowIndex + 1),
        ...Object.fromEntries(Object.entries(target.variables ?? {}).map(([name, value]) => [name, variableSafe(value)])),
        CRM_ROUTING_METHOD: tryAmi ? 'AMI' : 'AGI',
      });
      // res_agi drains a hung-up channel before it reads our next command, so these replies come
      // after its HANGUP line: a caller who left as GET DATA answered -1 (which a missing prompt
      // also answers) or as the CRM answered shows here, and is never moved.
      if (session.hangupReceived) {
        ({ outcome, rowIndex, target } = { outcome: 'HANGUP', rowIndex: null, target: undefined });
        return;
      }
      if (tryAmi) {
        const moved = await this.deps.ami.redirect({ channel: request.channel, context: target.context, exten: target.exten, priority: target.priority });
        if (moved.ok) method = 'ami';
        else session.log.warn('AMI Redirect failed; moving the call with AGI', { code: moved.code, message: moved.message });
      }
      if (method !== 'ami' && !session.hangupReceived) {
        if (tryAmi) await session.setVariable('CRM_ROUTING_METHOD', 'AGI');
        await session.moveTo(target.context, target.exten, target.priority);
        method = 'agi';
      }
    } catch (err) {
      // The session broke under us (caller gone, command refused); the dialplan's fallback line covers the rest.
      session.log.warn('Could not finish moving the call', { error: (err as Error).message, outcome });
    } finally {
      // Our FIN goes out now; the record and the log line need not wait for Asterisk's.
      session.closeNow();
      this.deps.decisions.record(record(rule, request, call, { outcome, branch: target ? branch : null, rowIndex, destination: target ? destination : null, method }));
      this.deps.metrics?.called(rule.id, outcome, method);
      session.log.info('Call routed', { outcome, branch: target ? branch : undefined, row: rowIndex === null ? undefined : rowIndex + 1, destination, method, value: call.value, error: call.error?.code, totalMs: Math.round(performance.now() - call.started) });
    }
  }

  private async hungUp(session: AgiSession, request: AgiRequest, rule: Rule, started: number, dtmf: string, lookupMs: number | null): Promise<void> {
    session.closeNow();
    this.deps.decisions.record(record(rule, request, { started, dtmf, value: null, error: null, lookupMs }, { outcome: 'HANGUP', branch: null, rowIndex: null, destination: null, method: 'none' }));
    this.deps.metrics?.called(rule.id, 'HANGUP', 'none');
    session.log.info('Caller hung up; nothing moved');
  }

  /** One log line, whatever happens: the status, and why when it is not obvious. */
  private async endEarly(session: AgiSession, status: EarlyEnd, why?: Record<string, unknown>): Promise<void> {
    this.deps.metrics?.refused(status);
    try {
      await session.setVariable('CRM_ROUTING_STATUS', status);
    } catch (err) {
      session.log.debug('Could not set CRM_ROUTING_STATUS', { status, error: (err as Error).message });
    }
    session.log.warn('Call not routed; the dialplan continues', { status, ...why });
    session.closeNow();
  }

  /**
   * The rule a call may run, or the status it ends with: the line must be signed for the rule and
   * tenant it names (before anything else is looked at), and the rule must be that tenant's.
   */
  private ruleFor(session: AgiSession, request: AgiRequest): { rule: Rule; refused?: undefined } | { rule?: undefined; refused: Refusal } {
    const asked = readRuleRequest(request.networkScript, this.deps.agiPath, this.deps.signer);
    if (asked.kind === 'refused') {
      if (asked.ruleId !== undefined) session.addLogFields({ ruleId: asked.ruleId });
      return { refused: { status: asked.status, why: { reason: asked.reason } } };
    }
    session.addLogFields({ ruleId: asked.ruleId });
    const rule = this.deps.rules.get(asked.ruleId);
    // Another tenant's rule is answered exactly like a rule that does not exist.
    if (!rule || rule.tenantId !== asked.tenantId) return { refused: { status: 'UNKNOWN_RULE' } };
    if (asked.key === 'previous' && !this.warnedPreviousKey.has(rule.id)) {
      this.warnedPreviousKey.add(rule.id);
      session.log.warn('A dialplan line signed with the previous key was accepted; copy the rule\'s new line from the DIDs page before the grace period ends', {
        acceptedUntil: this.deps.signer.previousKeyAcceptedUntil?.toISOString(),
      });
    }
    return { rule };
  }
}

function lookupOutcome(result: LookupResult, callerId: string): LookupOutcome {
  switch (result.kind) {
    case 'value':
      return { kind: 'value', value: result.value };
    case 'not_found':
      return callerId === '' ? { kind: 'no_caller_id' } : { kind: 'not_found' };
    case 'error':
      return { kind: 'error', timeout: result.code === 'TIMEOUT' };
  }
}

/** Channel variables hold one line: control characters become spaces; long values are cut. */
function variableSafe(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, VALUE_VARIABLE_LIMIT);
}

/** What a call learnt on its way, for its decision record. */
interface CallFacts {
  started: number;
  dtmf: string;
  value: string | null;
  error: { code: string; message: string } | null;
  lookupMs: number | null;
  /** "Owner's extension" rows: who the value named, and why they got no extension. */
  owner?: string | null;
  ownerNote?: string | null;
}

function record(
  rule: Rule, request: AgiRequest,
  call: CallFacts,
  moved: { outcome: Outcome; branch: Branch | null; rowIndex: number | null; destination: DestinationRef | null; method: MoveMethod },
): Decision {
  return {
    tenantId: rule.tenantId, ruleId: rule.id, callId: request.uniqueId, caller: request.callerId || null,
    did: request.dnid || request.extension || null, dtmf: call.dtmf || null, value: call.value,
    errorCode: call.error?.code ?? null, errorMessage: call.error?.message ?? null, outcome: moved.outcome, branch: moved.branch,
    rowIndex: moved.rowIndex, destination: moved.destination, method: moved.method,
    lookupMs: call.lookupMs === null ? null : Math.round(call.lookupMs), totalMs: Math.round(performance.now() - call.started), createdAt: new Date(),
    owner: call.owner ?? null, ownerNote: call.ownerNote ?? null,
  };
}
