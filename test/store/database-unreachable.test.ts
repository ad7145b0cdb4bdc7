import assert from 'node:assert/strict';
import { isDatabaseUnreachable } from '../../src/store/database-unreachable';

describe('isDatabaseUnreachable', () => {
  it('knows a database that refuses, resets, times out or gives no connection in time', () => {
    const unreachable = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED', fatal: true }),
      Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' }),
      Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }),
      Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }),
      Object.assign(new Error('Defining a timeout on a query'), { name: 'KnexTimeoutError' }),
      new Error('select failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }),
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
    ];
    for (const err of unreachable) assert.equal(isDatabaseUnreachable(err), true, err.message);
  });

  it('leaves errors of the query itself, and anything else, alone', () => {
    const others = [
      Object.assign(new Error("Duplicate entry 'x' for key 'name'"), { code: 'ER_DUP_ENTRY', fatal: false }),
      Object.assign(new Error("Table 'x' doesn't exist"), { code: 'ER_NO_SUCH_TABLE' }),
      new TypeError('Cannot read properties of undefined'),
      'a string', undefined, null, { code: 42 },
    ];
    for (const err of others) assert.equal(isDatabaseUnreachable(err), false, String(err));
  });
});
