import assert from 'node:assert/strict';
import { dynamicsDefinition } from '../../../src/crm/dynamics';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { closeFake, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { Dynamics2015Fake, Dynamics365Fake } from '../../support/fakes/dynamics-fake';

const ANA = 'c0ffee00-0000-4000-8000-000000000101';
const NO_MAIL = 'c0ffee00-0000-4000-8000-000000000102';
const TEAM = 'c0ffee00-0000-4000-8000-000000000900';
const date = (iso: string) => `/Date(${Date.parse(iso)})/`;
const signal = () => AbortSignal.timeout(5000);

describe('Dynamics owners (ownerid -> systemuser e-mail)', () => {
  describe('CRM 2015 on-premises', () => {
    let fake: Dynamics2015Fake;
    let http: HttpClient;
    const connector = () => dynamicsDefinition.create(
      dynamicsDefinition.schema.parse({ deployment: 'onprem2015', orgUrl: fake.orgUrl, username: 'CONTOSO\\crm-routing', password: 'Pa55word!', region: 'US' }),
      connectorServices(http, new TokenCache()),
    );

    beforeEach(async () => {
      fake = await Dynamics2015Fake.start();
      fake.records.Contact = [{
        ContactId: 'a0000000-0000-0000-0000-000000000001', FullName: 'Ann Smith', Telephone1: '(555) 123-4567', ModifiedOn: date('2024-05-01T10:00:00Z'),
        OwnerId: { Id: ANA, LogicalName: 'systemuser', Name: 'Ana Reception' },
      }];
      fake.users.set(ANA, 'ana@example.com');
      fake.users.set(NO_MAIL, null);
      http = testHttpClient();
    });
    afterEach(async () => { await http.close(); await closeFake(fake, 'Dynamics 2015'); });

    it("reads `ownerid` as the owner's GUID (OwnerId.Id), while OwnerId still gives the name", async () => {
      const request = (fieldName: string) => lookupRequest({ callerId: '+15551234567', fieldName, module: 'Contact' });
      assert.deepEqual(await lookupByDeadline(connector(), request('ownerid')), { kind: 'value', value: ANA, matches: 1 });
      assert.deepEqual(await lookupByDeadline(connector(), request('OwnerId')), { kind: 'value', value: 'Ana Reception', matches: 1 });
    });

    it("reads the user's InternalEMailAddress from SystemUserSet(guid'...') over the NTLM connection, once", async () => {
      const c = connector();
      const served = fake.served;
      assert.deepEqual(await c.ownerEmail!(ANA.toUpperCase(), NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
      assert.deepEqual(await c.ownerEmail!(ANA.toUpperCase(), NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
      assert.equal(fake.served - served, 1, 'one read served, the second answer from the cache');
      const reads = fake.requests.filter((r) => r.path.includes('SystemUserSet'));
      assert.equal(reads[0]!.path, `/Contoso/XRMServices/2011/OrganizationData.svc/SystemUserSet(guid'${ANA}')`);
      assert.equal(reads[0]!.query.get('$select'), 'InternalEMailAddress');
    });

    it('answers not found for a team, an unknown id or a user without an e-mail', async () => {
      assert.deepEqual(await connector().ownerEmail!(TEAM, NO_CREDENTIALS, signal()), { kind: 'not_found' });
      assert.deepEqual(await connector().ownerEmail!(NO_MAIL, NO_CREDENTIALS, signal()), { kind: 'not_found' });
    });

    it('reports a refused Windows login as AUTH', async () => {
      const answer = await connector().ownerEmail!(ANA, { username: 'CONTOSO\\crm-routing', password: 'wrong' }, signal());
      assert.equal(answer.kind === 'error' && answer.code, 'AUTH');
    });
  });

  describe('Dynamics 365', () => {
    let fake: Dynamics365Fake;
    let http: HttpClient;
    const connector = () => dynamicsDefinition.create(dynamicsDefinition.schema.parse({
      deployment: 'online365', orgUrl: fake.url, tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-3333-4444-555555555555', clientSecret: 'app~secret', loginHost: fake.url, region: 'US',
    }), connectorServices(http, new TokenCache()));

    beforeEach(async () => {
      fake = await Dynamics365Fake.start();
      fake.records.contacts = [{
        contactid: 'a0000000-0000-0000-0000-000000000001', fullname: 'Ann Smith', telephone1: '(555) 123-4567', modifiedon: '2024-05-01T10:00:00Z',
        _ownerid_value: ANA, formatted: { _ownerid_value: 'Ana Reception' },
      }];
      fake.users.set(ANA, 'ana@example.com');
      http = testHttpClient();
    });
    afterEach(async () => { await http.close(); await closeFake(fake, 'Dynamics 365'); });

    it("reads `ownerid` as the raw GUID of _ownerid_value, while _ownerid_value still gives the name", async () => {
      const request = (fieldName: string) => lookupRequest({ callerId: '+15551234567', fieldName, module: 'contact' });
      assert.deepEqual(await lookupByDeadline(connector(), request('ownerid')), { kind: 'value', value: ANA, matches: 1 });
      assert.match(fake.dataRequests.at(-1)!.query.get('$select') ?? '', /_ownerid_value/);
      assert.deepEqual(await lookupByDeadline(connector(), request('_ownerid_value')), { kind: 'value', value: 'Ana Reception', matches: 1 });
    });

    it('reads internalemailaddress from systemusers({id}) with the app token and OData headers', async () => {
      assert.deepEqual(await connector().ownerEmail!(ANA, NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
      const read = fake.dataRequests.at(-1)!;
      assert.equal(read.method, 'GET');
      assert.equal(read.path, `/api/data/v9.2/systemusers(${ANA})`);
      assert.match(String(read.headers.authorization), /^Bearer /);
    });

    it('answers not found for a team or an unknown id', async () => {
      assert.deepEqual(await connector().ownerEmail!(TEAM, NO_CREDENTIALS, signal()), { kind: 'not_found' });
    });

    it('refuses an id that is not a GUID, without a request', async () => {
      const answer = await connector().ownerEmail!("x') or (1 eq 1", NO_CREDENTIALS, signal());
      assert.equal(answer.kind === 'error' && answer.code, 'CONFIG');
      assert.equal(fake.dataRequests.length, 0);
    });
  });
});
