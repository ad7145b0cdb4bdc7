import assert from 'node:assert/strict';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { ZOHO_DATA_CENTRES, zohoDefinition, type ZohoServices } from '../../../src/crm/zoho';
import { connectorServices, lookupByDeadline, lookupRequest, testHttpClient } from '../../support/connector-harness';
import { ZohoFake } from '../../support/fakes/zoho-fake';

describe("Zoho CRM owners (Owner.email, in the record)", () => {
  let fake: ZohoFake;
  let http: HttpClient;

  before(async () => {
    fake = await ZohoFake.start({ eu: { accounts: ZOHO_DATA_CENTRES.eu.accounts, api: 'https://www.zohoapis.eu' } });
    http = testHttpClient();
    fake.add('eu', 'Contacts', { id: '4150868000000224005', Modified_Time: '2024-03-01T10:00:00+01:00', Last_Name: 'Smith', Phone: '+1 (202) 555-0101', Owner: { name: 'Ana Reception', id: '4150868000000225013', email: 'ana@example.com' } });
  });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  const connector = () => {
    const settings = zohoDefinition.schema.parse({ region: 'US', dataCentre: 'eu', clientId: fake.clientId, clientSecret: fake.clientSecret, refreshToken: '1000.refresh-eu' });
    const services: ZohoServices = { ...connectorServices(http, new TokenCache()), resolveOrigin: fake.resolveOrigin };
    return zohoDefinition.create(settings, services);
  };
  const request = (fieldName: string) => lookupRequest({ callerId: '+12025550101', fieldName, module: 'Contacts' });

  it('reads the e-mail inside the Owner lookup with the field Owner.email, asking Zoho for Owner only', async () => {
    assert.deepEqual(await lookupByDeadline(connector(), request('Owner.email')), { kind: 'value', value: 'ana@example.com', matches: 1 });
    assert.match(fake.apiRequests('eu').at(-1)!.query.get('fields') ?? '', /^Owner,/);
    assert.deepEqual(await lookupByDeadline(connector(), request('Owner')), { kind: 'value', value: 'Ana Reception', matches: 1 }, 'Owner alone still gives the name');
  });

  it('needs no second read: Zoho records carry the e-mail', () => {
    assert.equal(connector().ownerEmail, undefined);
  });

  it('refuses a path deeper than one part', async () => {
    const answer = await lookupByDeadline(connector(), request('Owner.email.x'));
    assert.equal(answer.kind === 'error' && answer.code, 'CONFIG');
  });
});
