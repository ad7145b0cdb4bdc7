import assert from 'node:assert/strict';
import { OwnerRouting } from '../../src/call/owner-routing';
import { RuleConnectors } from '../../src/crm/rule-connectors';
import type { HttpClient } from '../../src/crm/shared/http-client';
import { decide } from '../../src/domain/decide';
import type { CrmKind } from '../../src/domain/crm-kinds';
import { NO_BRANCHES, type Rule } from '../../src/domain/rule';
import type { IntegrationRecord } from '../../src/store/integration-store';
import { ReferenceDirectory } from '../../scripts/host/directory';
import { quietLogger, testHttpClient } from '../support/connector-harness';
import { HubSpotFake } from '../support/fakes/hubspot-fake';

/** A rule whose one row sends any owner id to the owner's extension. */
function ownerRule(source: Rule['source']): Rule {
  return {
    id: 3, tenantId: 't1', name: 'Owners', fieldName: 'hubspot_owner_id', location: 'did', greeting: null, source,
    deadlineSeconds: 3, defaultDestination: { type: 'queue', target: '105' }, defaultVoicemail: 'unset', branches: NO_BRANCHES, version: 1,
    rows: [{ operator: 'regex', value: '.', destination: { type: 'owner', target: 'user_id' } }],
  };
}
const integration = (crm: CrmKind): Rule['source'] => ({ kind: 'integration', crm, module: 'contacts', username: '', password: '' });

describe('OwnerRouting with the rule\'s CRM integration (user id -> e-mail -> extension)', () => {
  let fake: HubSpotFake;
  let http: HttpClient;
  let records: IntegrationRecord[];
  let routing: OwnerRouting;

  before(async () => {
    fake = await HubSpotFake.start();
    fake.owners.push({ id: '41629779', email: 'Ana@Example.com', userId: 9586504, firstName: 'Ana', lastName: 'Reception' });
    fake.owners.push({ id: '41629781', email: 'zoe@example.com', userId: 9586505, firstName: 'Zoe', lastName: 'Remote' });
    http = testHttpClient();
    const now = new Date();
    records = [
      { id: 1, tenantId: 't1', crm: 'hubspot', enabled: true, settings: { region: 'US', baseUrl: fake.url }, secrets: { accessToken: 'pat-na1-good' }, createdAt: now, updatedAt: now },
      { id: 2, tenantId: 't1', crm: 'salesforce', enabled: true, settings: { region: 'US', loginUrl: 'https://login.salesforce.com', clientId: 'x', username: 'u@example.com' }, secrets: { clientSecret: 's', password: 'p' }, createdAt: now, updatedAt: now },
    ];
    const connectors = new RuleConnectors({ http, logger: quietLogger, cacheTtlMs: 0, integration: (tenantId, crm) => records.find((r) => r.tenantId === tenantId && r.crm === crm) });
    routing = new OwnerRouting(new ReferenceDirectory(), connectors);
  });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  async function route(rule: Rule, value: string) {
    return routing.resolve(rule, decide(rule, { kind: 'value', value }), value, 3000);
  }

  it('asks HubSpot who owner 41629779 is and sends the call to that person\'s extension', async () => {
    const r = await route(ownerRule(integration('hubspot')), '41629779');
    assert.deepEqual(r.decision.destination, { type: 'extension', target: '101' });
    assert.equal(r.owner, 'Ana@Example.com');
    assert.equal(fake.requests.at(-1)!.path, '/crm/v3/owners/41629779');
  });

  it('takes the default with OWNER_UNKNOWN for a HubSpot owner without an extension, or one HubSpot does not know', async () => {
    const noExtension = await route(ownerRule(integration('hubspot')), '41629781');
    assert.equal(noExtension.decision.outcome, 'OWNER_UNKNOWN');
    assert.equal(noExtension.owner, 'zoe@example.com');
    const unknown = await route(ownerRule(integration('hubspot')), '999');
    assert.equal(unknown.decision.outcome, 'OWNER_UNKNOWN');
    assert.match(unknown.why ?? '', /CRM has no user 999/);
  });

  it('says why a CRM that carries the e-mail in the record, a Custom CRM or a disabled integration cannot look a user id up', async () => {
    const salesforce = await route(ownerRule(integration('salesforce')), '005000000000001');
    assert.match(salesforce.why ?? '', /Salesforce records carry the owner's e-mail itself/);
    const custom = await route(ownerRule({ kind: 'custom', url: 'https://crm.example.com/x', post: false, headers: [] }), '42');
    assert.match(custom.why ?? '', /A Custom CRM cannot look users up/);
    const disabled = await route(ownerRule(integration('pipedrive')), '42');
    assert.match(disabled.why ?? '', /CONFIG.*Pipedrive is not enabled/);
    for (const r of [salesforce, custom, disabled]) assert.equal(r.decision.outcome, 'OWNER_UNKNOWN');
  });
});
