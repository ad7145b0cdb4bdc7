import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { lookupWithin } from '../../src/call/lookup-within';
import { Stopper } from '../../src/call/stopper';
import type { CrmConnector, LookupResult } from '../../src/crm/connector';

const REQUEST = {
  tenantId: 't', ruleId: 1, callerId: '+15550001111', did: '5551234', dtmf: '', fieldName: 'tier', module: '',
  credentials: { username: '', password: '' },
};

/** A connector that answers after `ms` unless its signal aborts first; it keeps the signal it was given. */
function connectorAnswering(ms: number, result: LookupResult = { kind: 'value', value: 'Gold' }): CrmConnector & { signal?: AbortSignal } {
  const connector: CrmConnector & { signal?: AbortSignal } = {
    lookup(_request, signal) {
      connector.signal = signal;
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(result), ms);
        signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      });
    },
  };
  return connector;
}

describe('lookupWithin', () => {
  it("gives the connector's answer, and its signal never aborts afterwards (no timer left behind)", async () => {
    const connector = connectorAnswering(1);
    const { result } = await lookupWithin(connector, REQUEST, 30);
    assert.deepEqual(result, { kind: 'value', value: 'Gold' });
    await delay(60);
    assert.equal(connector.signal?.aborted, false);
  });

  it('ends at the deadline with TIMEOUT, the connector aborted with a TimeoutError', async () => {
    const connector = connectorAnswering(5_000);
    const { result, lookupMs } = await lookupWithin(connector, REQUEST, 40);
    assert.equal(result.kind === 'error' && result.code, 'TIMEOUT');
    assert.ok(lookupMs >= 35 && lookupMs < 1_000, `took ${lookupMs} ms`);
    assert.equal((connector.signal?.reason as Error).name, 'TimeoutError');
  });

  it('ends at once with ABORTED when stop aborts, keeping its reason for the connector', async () => {
    const connector = connectorAnswering(5_000);
    const stop = new AbortController();
    const bounded = lookupWithin(connector, REQUEST, 5_000, stop.signal);
    const reason = new Error('caller hung up');
    stop.abort(reason);
    const { result, lookupMs } = await bounded;
    assert.equal(result.kind === 'error' && result.code, 'ABORTED');
    assert.ok(lookupMs < 1_000);
    assert.equal(connector.signal?.reason, reason);
  });

  it('listens to several stop signals (hang-up, plugin stopping): the one that aborts gives its reason', async () => {
    const connector = connectorAnswering(5_000);
    const hangup = new AbortController();
    const stopping = new AbortController();
    const bounded = lookupWithin(connector, REQUEST, 5_000, [hangup.signal, stopping.signal]);
    const reason = new Error('the plugin is stopping');
    stopping.abort(reason);
    const { result } = await bounded;
    assert.equal(result.kind === 'error' && result.code, 'ABORTED');
    assert.equal(connector.signal?.reason, reason);
    hangup.abort(new Error('late'));
    assert.equal(connector.signal?.reason, reason, 'a later abort changes nothing');
  });

  it("takes the call path's Stoppers as stop sources, next to AbortSignals", async () => {
    const connector = connectorAnswering(5_000);
    const hangup = new Stopper();
    const stopping = new AbortController();
    const bounded = lookupWithin(connector, REQUEST, 5_000, [hangup, stopping.signal]);
    const reason = new Error('caller hung up');
    hangup.stop(() => reason, true);
    const { result } = await bounded;
    assert.equal(result.kind === 'error' && result.code, 'ABORTED');
    assert.equal(connector.signal?.reason, reason);
    stopping.abort(new Error('late'));
    assert.equal(connector.signal?.reason, reason, 'a later abort changes nothing');
  });

  it('leaves no listener on its stop sources once it has settled', async () => {
    const stopper = new Stopper();
    const { result } = await lookupWithin(connectorAnswering(1), REQUEST, 1_000, stopper);
    assert.equal(result.kind, 'value');
    assert.equal((stopper as unknown as { listeners: unknown }).listeners, undefined);
  });

  it('does not even wait for a connector when stop has already aborted', async () => {
    const stop = AbortSignal.abort(new Error('stopping'));
    const { result } = await lookupWithin(connectorAnswering(5_000), REQUEST, 5_000, stop);
    assert.equal(result.kind === 'error' && result.code, 'ABORTED');
  });

  it('turns a connector that throws into BAD_RESPONSE', async () => {
    const throwing: CrmConnector = { lookup: async () => { throw new Error('boom'); } };
    const { result } = await lookupWithin(throwing, REQUEST, 1_000);
    assert.deepEqual(result, { kind: 'error', code: 'BAD_RESPONSE', message: 'The connector failed: boom' });
  });
});
