import assert from 'node:assert/strict';
import { possessive } from '../../../src/crm/shared/crm-error';

describe('possessive', () => {
  it("writes \"Zoho CRM's\" but \"Zoho Accounts'\"", () => {
    assert.equal(possessive('Zoho CRM'), "Zoho CRM's");
    assert.equal(possessive('Zoho Accounts'), "Zoho Accounts'");
    assert.equal(possessive('SugarCRM'), "SugarCRM's");
  });
});
