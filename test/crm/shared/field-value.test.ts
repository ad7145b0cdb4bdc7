import assert from 'node:assert/strict';
import { fieldValueToText } from '../../../src/crm/shared/field-value';

describe('fieldValueToText', () => {
  const cases: Array<[string, unknown, string]> = [
    ['plain text', 'Gold', 'Gold'],
    ['number', 42.5, '42.5'],
    ['zero', 0, '0'],
    ['boolean true', true, 'true'],
    ['boolean false', false, 'false'],
    ['null', null, ''],
    ['missing', undefined, ''],
    ['multi-select', ['Gold', 'VIP'], 'Gold; VIP'],
    ['Zoho lookup {name, id}', { name: 'Acme Ltd', id: '4150868000000225013' }, 'Acme Ltd'],
    ['Dynamics 2015 lookup {Id, LogicalName, Name}', { Id: 'x', LogicalName: 'account', Name: 'Contoso' }, 'Contoso'],
    ['Dynamics 2015 option set {Value}', { Value: 3 }, '3'],
    ['object without a name', { id: 7 }, ''],
    ['NaN', Number.NaN, ''],
  ];
  for (const [what, input, expected] of cases) {
    it(`reads ${what} as ${JSON.stringify(expected)}`, () => assert.equal(fieldValueToText(input), expected));
  }
});
