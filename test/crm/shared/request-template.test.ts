import assert from 'node:assert/strict';
import { phoneVariants } from '../../../src/domain/phone';
import { checkUrlTemplate, parseHeaderLines, parseQueryLines, placeholderValues, renderBody, renderHeaders, renderUrl, unknownPlaceholders, usedPlaceholders } from '../../../src/crm/shared/request-template';

describe('request templates', () => {
  const values = placeholderValues(phoneVariants('+44 20 7123 4567', 'US'), { field: 'Account Name', module: 'Contacts', dtmf: `1'2"3&x=y`, did: '' });

  it('derives the phone placeholders from the caller', () => {
    assert.equal(values.e164, '+442071234567');
    assert.equal(values.national, '2071234567');
    assert.equal(values.international, '442071234567');
    assert.equal(values.digits, '442071234567');
    assert.equal(values.last7, '1234567');
  });

  it('percent-encodes placeholders in the URL and query, quotes and parentheses included', () => {
    const url = renderUrl('https://crm.example.com/api/{module}/{e164}?q=1', parseQueryLines('fields={field}\ntyped={dtmf}'), values);
    assert.equal(url.pathname, '/api/Contacts/%2B442071234567');
    assert.equal(url.search, '?q=1&fields=Account%20Name&typed=1%272%223%26x%3Dy');
    assert.equal(url.searchParams.get('typed'), `1'2"3&x=y`);
  });

  it('keeps placeholders out of the host and catches unknown names', () => {
    assert.equal(checkUrlTemplate('https://crm.example.com/{e164}'), undefined);
    assert.match(checkUrlTemplate('https://{did}.example.com/') ?? '', /not in its host/);
    assert.match(checkUrlTemplate('https://crm.example.com/{phone}') ?? '', /Unknown placeholder \{phone\}/);
    assert.deepEqual(unknownPlaceholders('{e164} {Field} {x_1}'), ['Field', 'x_1']);
    assert.deepEqual([...usedPlaceholders(['{e164}', 'a={dtmf}&b={e164}'])].sort(), ['dtmf', 'e164']);
  });

  it('fills headers without control characters and refuses reserved or malformed lines', () => {
    assert.deepEqual(renderHeaders(parseHeaderLines('X-Typed: {dtmf}\r\n\nX-Field: {field}'), { ...values, dtmf: 'a\r\nX-Evil: 1' }), { 'X-Typed': 'aX-Evil: 1', 'X-Field': 'Account Name' });
    assert.throws(() => parseHeaderLines('Content-Length: 5'), /set by the request/);
    assert.throws(() => parseHeaderLines('no colon here'), /Name: value/);
    assert.throws(() => parseQueryLines('=x'), /name=value/);
  });

  it('JSON-escapes placeholders inside strings of the body', () => {
    const body = renderBody({ phone: '{e164}', note: 'typed {dtmf}', '{field}': ['{module}'], n: 5 }, values);
    assert.deepEqual(JSON.parse(body), { phone: '+442071234567', note: `typed 1'2"3&x=y`, 'Account Name': ['Contacts'], n: 5 });
  });
});
