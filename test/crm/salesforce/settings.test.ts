import assert from 'node:assert/strict';
import { salesforceDefinition, salesforceSignsInAlone } from '../../../src/crm/salesforce';

const base = { region: 'US', clientId: '3MVG9key', clientSecret: 'secret' };
const parse = (settings: Record<string, unknown>) => salesforceDefinition.schema.safeParse({ ...base, ...settings });

describe('Salesforce settings', () => {
  it('defaults to client credentials, which needs the My Domain URL', () => {
    const field = salesforceDefinition.fields.find((f) => f.name === 'authFlow')!;
    assert.equal(field.defaultValue, 'client_credentials');
    assert.deepEqual(field.options!.map((o) => o.value), ['client_credentials', 'refresh_token', 'password']);
    assert.match(field.options!.find((o) => o.value === 'password')!.label, /legacy: blocked by default in orgs created since Summer '23/);
    const generic = parse({ authFlow: 'client_credentials', loginUrl: 'https://login.salesforce.com' });
    assert.equal(generic.success, false);
    assert.deepEqual(generic.error!.issues[0]!.path, ['loginUrl']);
    assert.match(generic.error!.issues[0]!.message, /Client credentials work only at your My Domain URL/);
    const connect = parse({ authFlow: 'refresh_token', loginUrl: 'https://test.salesforce.com' });
    assert.match(connect.error!.issues[0]!.message, /Connect works only at your My Domain URL/);
    assert.equal(parse({ authFlow: 'client_credentials', loginUrl: 'https://acme--dev.sandbox.my.salesforce.com/' }).data?.loginUrl, 'https://acme--dev.sandbox.my.salesforce.com');
  });

  it('reads settings stored without a flow as they were meant: username and password when they hold one, else client credentials', () => {
    const legacy = parse({ username: 'router@acme.example', password: 'Passw0rd!', securityToken: 'TOKEN' });
    assert.equal(legacy.success, true, JSON.stringify(legacy.error?.issues));
    assert.equal(legacy.data!.authFlow, 'password');
    assert.equal(legacy.data!.loginUrl, 'https://login.salesforce.com', 'the old default login URL');
    const stored = parse({ loginUrl: 'https://acme.my.salesforce.com' });
    assert.equal(stored.data!.authFlow, 'client_credentials');
    const explicit = parse({ authFlow: 'password', loginUrl: 'https://test.salesforce.com', username: 'u', password: 'p' });
    assert.equal(explicit.data!.loginUrl, 'https://test.salesforce.com', 'a stored flow and URL are kept as they are');
    assert.equal(parse({}).success, false, 'no flow, no credentials, no URL: the My Domain URL is asked for');
  });

  it('tells the rule form when the integration signs in without a rule\'s credentials', () => {
    assert.equal(salesforceSignsInAlone({ authFlow: 'client_credentials' }, new Set()), true);
    assert.equal(salesforceSignsInAlone({ authFlow: 'refresh_token' }, new Set()), false);
    assert.equal(salesforceSignsInAlone({ authFlow: 'refresh_token' }, new Set(['refreshToken'])), true);
    assert.equal(salesforceSignsInAlone({ username: 'u' }, new Set(['password'])), true, 'legacy settings without a flow');
    assert.equal(salesforceSignsInAlone({ authFlow: 'password' }, new Set(['password'])), false);
  });

  it('keeps the legacy fields\' help about the legacy flow only, and says what a rule\'s credentials are for', () => {
    for (const name of ['username', 'password', 'securityToken']) assert.match(salesforceDefinition.fields.find((f) => f.name === name)!.help, /^Legacy username and password only/);
    assert.match(salesforceDefinition.credentialsHelp, /Not used with client credentials or Connect/);
    assert.equal(salesforceDefinition.fields.find((f) => f.name === 'loginUrl')!.label, 'My Domain URL');
  });
});
