import assert from 'node:assert/strict';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { salesforceDefinition } from '../../../src/crm/salesforce';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { connectorServices, lookupByDeadline, lookupRequest, testHttpClient } from '../../support/connector-harness';
import { SalesforceFake } from '../../support/fakes/salesforce-fake';

describe('Salesforce owners (Owner.Email, in the record)', () => {
  let fake: SalesforceFake;
  let http: HttpClient;

  before(async () => {
    fake = await SalesforceFake.start();
    http = testHttpClient();
    fake.records.Contact!.push({ Id: '003000000000009AAA', LastModifiedDate: '2024-05-01T10:00:00.000+0000', Name: 'Owned', Phone: '(202) 555-0177', Owner: { Email: 'ana@example.com' } });
  });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  const connector = () => salesforceDefinition.create(salesforceDefinition.schema.parse({
    region: 'US', loginUrl: fake.login.url, clientId: fake.clientId, clientSecret: fake.clientSecret,
    username: 'router@acme.example', password: 'Passw0rd!', securityToken: 'TOKEN123',
  }), connectorServices(http, new TokenCache()));

  it("reads the owner's e-mail through the Owner relationship in the one SOSL search", async () => {
    assert.deepEqual(await lookupByDeadline(connector(), lookupRequest({ callerId: '+1 202 555 0177', fieldName: 'Owner.Email', module: 'Contact' })), { kind: 'value', value: 'ana@example.com', matches: 1 });
    assert.match(fake.lastSosl() ?? '', /RETURNING Contact\(Id, Owner\.Email, /);
    assert.equal(connector().ownerEmail, undefined, 'no second read');
  });
});
