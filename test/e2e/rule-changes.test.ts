import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import knex, { type Knex } from 'knex';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { PluginStore } from '../../src/store/plugin-store';
import { ADMIN } from '../support/test-host';
import { CallRig, TEST_SECRET_KEY } from './support/call-rig';
import type { RuleSpec } from './support/rule-spec';

function landed(call: CallResult): string {
  return call.ended.kind === 'dialplan' ? `${call.ended.context},${call.ended.exten},${call.ended.priority}` : call.ended.kind;
}

describe('Live call routing: rule changes reach the next call without a restart', function () {
  let rig: CallRig;
  let url: string;

  before(async function () {
    this.timeout(30_000);
    rig = await CallRig.start();
    url = rig.route('/gold', () => ({ body: { value: 'gold' } }));
  });
  after(async () => rig?.close());

  it('saved on the Routing pages: the very next call uses the edit; after Delete the rule is unknown', async () => {
    const spec: RuleSpec & { name: string } = { name: 'Edited live', url, rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] };
    const id = await rig.createRule(spec);
    assert.equal(landed(await rig.call(id)), 'ext-queues,103,1');

    await rig.editRule(id, { ...spec, rows: [{ operator: 'eq', value: 'gold', destination: 'queue:105' }] });
    assert.equal(landed(await rig.call(id)), 'ext-queues,105,1');

    await rig.editRule(id, { ...spec, rows: [{ operator: 'eq', value: 'silver', destination: 'queue:105' }], defaultDestination: 'ivr:201' });
    const call = await rig.call(id);
    assert.equal(landed(call), 'ivr-201,s,1');
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'NO_MATCH');

    await rig.admin.get(`/crm/routing/${id}/edit`);
    const removed = await rig.admin.post(`/crm/routing/${id}/delete`, { confirmed: 'yes' });
    assert.equal(removed.status, 303);
    assert.equal((await rig.call(id)).variables.CRM_ROUTING_STATUS, 'UNKNOWN_RULE');
  });

  describe('written by another process', () => {
    let other: Knex;
    let otherStore: PluginStore;

    before(async () => {
      // Its own connection to the same database file, as a second admin server would have.
      const { filename } = (rig.host.database.db.client as { config: { connection: { filename: string } } }).config.connection;
      other = knex({ client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true });
      otherStore = await PluginStore.create(other, { secretKey: TEST_SECRET_KEY });
    });
    after(async () => other?.destroy());

    it('is picked up by polling within about 2 s', async function () {
      this.timeout(10_000);
      const id = await rig.createRule({ url, rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
      assert.equal(landed(await rig.call(id)), 'ext-queues,103,1');
      const rule = await otherStore.rules.get(ADMIN.tenantId, id);
      assert.ok(rule);

      const written = performance.now();
      await otherStore.rules.update(ADMIN.tenantId, id, { ...rule, rows: [{ operator: 'eq', value: 'gold', destination: { type: 'queue', target: '104' } }] });
      let seenAfterMs: number | undefined;
      while (seenAfterMs === undefined && performance.now() - written < 3500) {
        if (landed(await rig.call(id)) === 'ext-queues,104,1') seenAfterMs = performance.now() - written;
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(seenAfterMs !== undefined && seenAfterMs < 3000, `the edit reached calls after ${seenAfterMs === undefined ? 'more than 3.5 s' : `${Math.round(seenAfterMs)} ms`}`);
    });
  });
});
