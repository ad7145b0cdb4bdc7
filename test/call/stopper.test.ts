import assert from 'node:assert/strict';
import { offStop, onStop, Stopper } from '../../src/call/stopper';

describe('Stopper', () => {
  it('tells each listener once, with the reason readable from the stopper', () => {
    const stopper = new Stopper();
    const heard: unknown[] = [];
    stopper.addListener(() => heard.push(['a', stopper.reason]));
    stopper.addListener(() => heard.push(['b', stopper.reason]));
    assert.equal(stopper.aborted, false);
    assert.equal(stopper.reason, undefined);
    const reason = new Error('hung up');
    stopper.stop(reason);
    stopper.stop(new Error('later'));
    assert.equal(stopper.aborted, true);
    assert.deepEqual(heard, [['a', reason], ['b', reason]]);
  });

  it('makes a lazy reason only when it is read', () => {
    const stopper = new Stopper();
    let made = 0;
    stopper.stop(() => {
      made += 1;
      return new Error('closed');
    }, true);
    assert.equal(made, 0);
    assert.equal((stopper.reason as Error).message, 'closed');
    assert.equal(stopper.reason, stopper.reason);
    assert.equal(made, 1);
  });

  it('forgets a removed listener, and adds none once stopped', () => {
    const stopper = new Stopper();
    let calls = 0;
    const one = () => (calls += 1);
    const two = () => (calls += 10);
    stopper.addListener(one);
    stopper.addListener(two);
    stopper.removeListener(one);
    stopper.stop('x');
    assert.equal(calls, 10);
    stopper.addListener(one);
    assert.equal(calls, 10);
  });

  it('gives an AbortSignal that follows it, before or after it stopped', () => {
    const early = new Stopper();
    const signal = early.signal;
    assert.equal(signal.aborted, false);
    early.stop('reason one');
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, 'reason one');
    const late = new Stopper();
    late.stop(() => 'made late', true);
    assert.equal(late.signal.aborted, true);
    assert.equal(late.signal.reason, 'made late');
  });

  it('onStop/offStop listen to a Stopper and an AbortSignal alike', () => {
    const stopper = new Stopper();
    const controller = new AbortController();
    let heard = 0;
    const listener = () => (heard += 1);
    onStop(stopper, listener);
    onStop(controller.signal, listener);
    offStop(stopper, listener);
    offStop(controller.signal, listener);
    stopper.stop('x');
    controller.abort('y');
    assert.equal(heard, 0);
    const again = new AbortController();
    onStop(again.signal, listener);
    again.abort('z');
    again.abort('zz');
    assert.equal(heard, 1);
  });
});
