import assert from 'node:assert/strict';
import { DecisionLog } from '../../src/call/decision-log';
import type { Decision, DecisionStore } from '../../src/store/decision-store';
import { silentLogger } from '../support/test-host';

/** A decision store whose writes fail while `down` (with a driver's error that quotes the values, as a failed INSERT does). */
class FlakyStore {
  down = false;
  written: Decision[] = [];
  async insertMany(batch: readonly Decision[]): Promise<void> {
    if (this.down) throw Object.assign(new Error(`insert into decisions values ('${batch[0]?.caller}')`), { code: 'ECONNREFUSED' });
    this.written.push(...batch);
  }
  async prune(): Promise<{ deleted: number }> {
    return { deleted: 0 };
  }
}

const decision = (i: number): Decision => ({
  tenantId: 't', ruleId: 1, callId: `c${i}`, caller: '+15550001111', did: null, dtmf: null, value: null, errorCode: null, errorMessage: null,
  outcome: 'MATCH', branch: 'row', rowIndex: 0, destination: null, method: 'ami', lookupMs: 1, totalMs: 2, createdAt: new Date(),
});

describe('DecisionLog health', () => {
  it('reports the buffer, the drops since start and the last write error (its code only), and recovers', async () => {
    const store = new FlakyStore();
    const log = new DecisionLog(store as unknown as DecisionStore, { logger: silentLogger, retentionDays: 30, flushMs: 60_000, maxBuffered: 3, pruneEveryMs: 0 });
    try {
      assert.deepEqual(log.health(), { buffered: 0, maxBuffered: 3, dropped: 0, failing: false });
      store.down = true;
      for (let i = 0; i < 5; i += 1) log.record(decision(i));
      await log.flush();
      const down = log.health();
      assert.deepEqual({ buffered: down.buffered, dropped: down.dropped, failing: down.failing, code: down.lastWriteError?.code }, { buffered: 3, dropped: 2, failing: true, code: 'ECONNREFUSED' });
      assert.ok(!JSON.stringify(down).includes('5550001111'), 'no values of the failed write');
      assert.deepEqual(log.totals, { dropped: 2, writeErrors: 1 });
      store.down = false;
      await log.flush();
      const up = log.health();
      assert.deepEqual({ buffered: up.buffered, dropped: up.dropped, failing: up.failing }, { buffered: 0, dropped: 2, failing: false });
      assert.ok(up.lastWriteAt && up.lastWriteError, 'both the last write and the last error stay known');
      assert.equal(store.written.length, 3);
    } finally {
      await log.stop();
    }
  });
});
