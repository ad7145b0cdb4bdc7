import assert from 'node:assert/strict';
import { register as globalRegistry } from 'prom-client';
import { PluginMetrics } from '../../src/metrics/plugin-metrics';
import { Scrape } from '../support/prometheus';

async function scrape(metrics: PluginMetrics): Promise<Scrape> {
  return new Scrape((await metrics.text()).body);
}

describe('PluginMetrics', () => {
  it('keeps each plugin instance in a registry of its own, never the global default one', async () => {
    const before = (await globalRegistry.metrics()).length;
    const a = new PluginMetrics();
    const b = new PluginMetrics(); // a second instance in the same process: no "already registered" error
    a.called(7, 'MATCH', 'ami');
    a.called(7, 'MATCH', 'ami');
    b.called(7, 'MATCH', 'ami');
    assert.equal((await scrape(a)).value('crm_routing_calls_total', { rule: '7', outcome: 'MATCH', method: 'ami' }), 2);
    assert.equal((await scrape(b)).value('crm_routing_calls_total', { rule: '7', outcome: 'MATCH', method: 'ami' }), 1);
    assert.equal((await globalRegistry.metrics()).length, before);
  });

  it('reads states when scraped, and counts each series apart (calls, refusals, lookups by result, cache, sign-ins)', async () => {
    const m = new PluginMetrics();
    let active = 3;
    m.observe({ activeCalls: () => active, amiConnected: () => true, decisionLogBuffered: () => 12, decisionLogDropped: () => 4, decisionLogWriteErrors: () => 2 });
    m.called(1, 'MATCH', 'agi');
    m.called(1, 'CRM_TIMEOUT', 'agi');
    m.called(2, 'HANGUP', 'none');
    m.refused('FORBIDDEN');
    m.refused('NO_HEADER');
    m.refused('FORBIDDEN');
    const zoho = m.crm('zoho');
    assert.equal(m.crm('zoho'), zoho, 'one set of meters per CRM');
    zoho.lookup({ kind: 'value', value: 'Gold' }, 0.2);
    zoho.lookup({ kind: 'error', code: 'TIMEOUT', message: 'late' }, 3);
    zoho.cache().hit.value += 5;
    zoho.cache().miss.value += 2;
    zoho.signIn('sign_in', true);
    zoho.signIn('refresh', false);
    const s = await scrape(m);
    assert.deepEqual(s.series('crm_routing_calls_total'), { 'rule=1,outcome=MATCH,method=agi': 1, 'rule=1,outcome=CRM_TIMEOUT,method=agi': 1, 'rule=2,outcome=HANGUP,method=none': 1 });
    assert.deepEqual(s.series('crm_routing_agi_refused_total'), { 'reason=FORBIDDEN': 2, 'reason=NO_HEADER': 1 });
    assert.deepEqual(s.series('crm_routing_crm_lookups_total'), { 'crm=zoho,result=found': 1, 'crm=zoho,result=timeout': 1 });
    assert.equal(s.histogramCount('crm_routing_crm_lookup_duration_seconds', { crm: 'zoho' }), 2);
    assert.deepEqual(s.series('crm_routing_lookup_cache_hits_total'), { 'crm=zoho': 5 });
    assert.deepEqual(s.series('crm_routing_lookup_cache_misses_total'), { 'crm=zoho': 2 });
    assert.deepEqual(s.series('crm_routing_crm_sign_ins_total'), { 'crm=zoho,kind=sign_in,result=ok': 1, 'crm=zoho,kind=refresh,result=error': 1 });
    assert.equal(s.value('crm_routing_active_calls'), 3);
    assert.equal(s.value('crm_routing_ami_connected'), 1);
    assert.equal(s.value('crm_routing_decision_log_buffered'), 12);
    assert.equal(s.value('crm_routing_decision_log_dropped_total'), 4);
    assert.equal(s.value('crm_routing_decision_log_write_errors_total'), 2);
    assert.equal(s.family('crm_routing_decision_log_dropped_total').type, 'COUNTER');
    active = 0;
    m.called(1, 'MATCH', 'agi');
    const again = await scrape(m);
    assert.equal(again.value('crm_routing_active_calls'), 0);
    assert.equal(again.value('crm_routing_calls_total', { rule: '1', outcome: 'MATCH', method: 'agi' }), 2, 'a second scrape counts on, not twice');
  });
});
