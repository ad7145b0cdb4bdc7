import assert from 'node:assert/strict';
import { parseAmiUrl } from '../../src/ami/ami-url';

describe('parseAmiUrl', () => {
  it('reads user, secret, host and port', () => {
    assert.deepEqual(parseAmiUrl('ami://crm:crmsecret@127.0.0.1:5038'), { host: '127.0.0.1', port: 5038, username: 'crm', secret: 'crmsecret' });
  });

  it('defaults the port to 5038 and decodes %-escapes', () => {
    assert.deepEqual(parseAmiUrl('ami://cr%40m:p%3Ass%2Fw%25rd@pbx.example.com'), {
      host: 'pbx.example.com',
      port: 5038,
      username: 'cr@m',
      secret: 'p:ss/w%rd',
    });
  });

  it('takes an IPv6 address without its brackets', () => {
    assert.equal(parseAmiUrl('ami://crm:x@[::1]:5039').host, '::1');
  });

  const wrong: Array<[string, RegExp]> = [
    ['not a url', /it is not a URL/],
    ['http://crm:x@host:5038', /starts with http:\/\/ instead of ami:\/\//],
    ['ami://host:5038', /the user name is missing; the secret is missing/],
    ['ami://crm@host:5038', /the secret is missing/],
    ['ami://crm:x@host:0', /the port must be between 1 and 65535/],
    ['ami://crm:x@host:5038/path', /it has a path, query or fragment/],
    ['ami://crm:x%0d%0aAction%3a%20Hangup@host', /the secret contains a line break/],
    ['ami://crm:%E0%A4%A@host', /the secret has a broken %-escape/],
  ];
  for (const [url, message] of wrong) {
    it(`refuses ${url} saying why`, () => {
      assert.throws(
        () => parseAmiUrl(url),
        (err: Error) =>
          err.name === 'AmiSettingsError' && message.test(err.message) && err.message.startsWith('AMI_URL is not valid: ') && err.message.endsWith('(expected ami://user:secret@host:5038).'),
      );
    });
  }

  it('never repeats the secret in its message', () => {
    assert.throws(() => parseAmiUrl('ami://crm:topsecret%0A@host'), (err: Error) => !err.message.includes('topsecret'));
  });
});
