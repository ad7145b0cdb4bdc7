import assert from 'node:assert/strict';
import { SEEDED_CATALOG } from '../../scripts/host/catalog';
import { emptyRuleForm, readRuleForm, type RuleFormValues } from '../../src/web/rule-form';
import { formOptions } from '../../src/web/rule-form-options';
import { validateRuleForm, type RuleFormContext } from '../../src/web/rule-validation';

const context: RuleFormContext = {
  catalog: SEEDED_CATALOG,
  integrations: [
    { crm: 'hubspot', hasDefaultCredentials: true, usesUsername: false },
    { crm: 'salesforce', hasDefaultCredentials: true, usesUsername: true },
  ],
};

function ownerForm(overrides: Partial<RuleFormValues> = {}, destTarget = 'user_id'): RuleFormValues {
  return {
    ...emptyRuleForm(),
    name: 'Owners', fieldName: 'hubspot_owner_id', location: 'did', source: 'integration', crm: 'hubspot', crmModule: 'contacts',
    defaultDestination: 'queue:105',
    rows: [{ operator: 'regex', value: '.', destType: 'owner', destTarget }],
    ...overrides,
  };
}

describe("Routing form: \"Owner's extension\" rows", () => {
  it('saves a row that sends the call to the owner named by a CRM user id, as posted by the browser', () => {
    const posted = readRuleForm({
      name: 'Owners', fieldName: 'hubspot_owner_id', location: 'did', source: 'integration', crm: 'hubspot', crmModule: 'contacts',
      deadlineSeconds: '3', defaultDestination: 'queue:105', defaultVoicemail: 'unset',
      row_operator: 'regex', row_value: '.', row_dest_type: 'owner', row_dest_target: 'user_id',
    });
    const { draft, errors, warnings } = validateRuleForm(posted, context);
    assert.deepEqual(errors, {});
    assert.deepEqual(warnings, {});
    assert.deepEqual(draft?.rows, [{ operator: 'regex', value: '.', destination: { type: 'owner', target: 'user_id' } }]);
  });

  it('accepts each way of naming the owner, and nothing else', () => {
    for (const key of ['email', 'extension', 'user_id']) assert.deepEqual(validateRuleForm(ownerForm({ fieldName: 'Owner' }, key), context).errors, {}, key);
    for (const bad of ['', 'name', 'queue:103', 'e-mail']) {
      assert.match(validateRuleForm(ownerForm({}, bad), context).errors['rows.0.destTarget'] ?? '', /owner's e-mail, extension number or CRM user id/, JSON.stringify(bad));
    }
  });

  it('never takes "Owner\'s extension" as the default destination (where an unknown owner goes)', () => {
    const { errors } = validateRuleForm(ownerForm({ defaultDestination: 'owner:email' }), context);
    assert.match(errors.defaultDestination ?? '', /Choose where calls go/);
    const options = formOptions(SEEDED_CATALOG, []);
    assert.ok(!options.defaults.some((group) => group.entries.some((e) => e.value.startsWith('owner:'))));
    assert.deepEqual(options.targets.owner.map((t) => t.id), ['email', 'extension', 'user_id']);
  });

  it('warns, without refusing, when the CRM gives the e-mail itself but the row expects a user id', () => {
    const form = ownerForm({ crm: 'salesforce', crmModule: 'Contact', fieldName: 'Owner.Email' });
    const { draft, warnings } = validateRuleForm(form, context);
    assert.ok(draft, 'the rule is saved');
    assert.match(warnings['rows.0.destTarget'] ?? '', /Salesforce gives the owner's e-mail in the record \(field Owner\.Email\)/);
  });

  it("warns when a CRM's owner id field is read as an e-mail", () => {
    const { warnings } = validateRuleForm(ownerForm({}, 'email'), context);
    assert.match(warnings['rows.0.destTarget'] ?? '', /HubSpot's hubspot_owner_id holds a user id: choose "CRM user id"/);
  });

  it('warns that a Custom CRM cannot look a user id up', () => {
    const form = ownerForm({ source: 'custom', customUrl: 'https://crm.example.com/owner', customPost: 'no', crm: '' });
    const { draft, warnings } = validateRuleForm(form, context);
    assert.ok(draft);
    assert.match(warnings['rows.0.destTarget'] ?? '', /A Custom CRM cannot look users up/);
  });
});
