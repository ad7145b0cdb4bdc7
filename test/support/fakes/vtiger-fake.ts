/**
 * A fake Vtiger webservice.php: getchallenge, login (md5 of challenge token + access key, the
 * token used once; an unknown user name is ACCESS_DENIED "username does not exists", as
 * vtws_getchallenge answers), query (a strict parser for the one VTQL shape the connector may
 * send, LIKE evaluated like SQL; without ORDER BY, rows come in the order they were stored, oldest
 * first, as the real Vtiger 8.0 showed, so LIMIT 0,10 keeps the ten oldest), listtypes and describe. Like Vtiger, failures come back with HTTP 200 and
 * `{"success":false,"error":{"code","message"}}`. Requests outside the documented shapes are
 * answered with an error and written to `violations`.
 */
import { createHash } from 'node:crypto';
import type { FakeReply, RecordedRequest } from '../fake-https';
import { formProblem } from './request-checks';
import { VendorFake } from './vendor-fake';

export type VtigerRow = { id: string; modifiedtime: string } & Record<string, string>;

export class VtigerFake extends VendorFake {
  username = 'admin';
  accessKey = 'Xk9qAccessKey';
  rows: Record<string, VtigerRow[]> = { Contacts: [], Leads: [], Accounts: [] };
  /** Users by webservice id ("19x5") -> email1 (record owners), as retrieve answers them. */
  readonly users = new Map<string, string>();
  readonly counts = { challenges: 0, logins: 0, queries: 0 };
  /** Statements the query operation received, as Vtiger saw them. */
  readonly statements: string[] = [];
  private readonly challenges = new Map<string, string>();
  private readonly sessions = new Set<string>();
  private serial = 0;

  static start(): Promise<VtigerFake> {
    return VendorFake.serve((server) => new VtigerFake(server));
  }

  expireSessions(): void {
    this.sessions.clear();
  }

  protected handle(req: RecordedRequest): FakeReply {
    if (req.path !== '/crm/webservice.php') return { status: 404, body: '<html>Not Found</html>', headers: { 'content-type': 'text/html' } };
    if (req.method === 'POST') return this.login(req);
    const operation = req.query.get('operation');
    if (operation === 'getchallenge') return this.challenge(req);
    if (!this.exact(req, operation === 'describe' ? ['operation', 'sessionName', 'elementType'] : operation === 'query' ? ['operation', 'sessionName', 'query'] : operation === 'retrieve' ? ['operation', 'sessionName', 'id'] : ['operation', 'sessionName'])) return this.fail('INVALID_REQUEST', this.violations.at(-1)!);
    if (!this.sessions.has(req.query.get('sessionName')!)) return this.fail('INVALID_SESSIONID', 'Session Identifier provided is Invalid');
    if (operation === 'query') return this.query(req.query.get('query')!);
    if (operation === 'retrieve') return this.retrieve(req.query.get('id')!);
    if (operation === 'listtypes') return this.ok({ types: ['Accounts', 'Contacts', 'Documents', 'Leads', 'Users'], information: {} });
    if (operation === 'describe') return this.describe(req.query.get('elementType')!);
    return this.violation(`operation ${operation} is not one the connector should use`);
  }

  private challenge(req: RecordedRequest): FakeReply {
    this.counts.challenges += 1;
    if (!this.exact(req, ['operation', 'username'])) return this.fail('INVALID_REQUEST', this.violations.at(-1)!);
    if (req.query.get('username') !== this.username) return this.fail('ACCESS_DENIED', 'username does not exists');
    const token = `ch${++this.serial}${Date.now().toString(16)}`;
    this.challenges.set(req.query.get('username')!, token);
    return this.ok({ token, serverTime: Math.floor(Date.now() / 1000), expireTime: Math.floor(Date.now() / 1000) + 300 });
  }

  private login(req: RecordedRequest): FakeReply {
    this.counts.logins += 1;
    const problem = formProblem(req, ['operation', 'username', 'accessKey'], { operation: 'login' });
    if (problem) return this.violation(`login: ${problem}`);
    const form = new URLSearchParams(req.body);
    const username = form.get('username')!;
    const token = this.challenges.get(username);
    this.challenges.delete(username); // a challenge token is spent by one login attempt
    const expected = token && createHash('md5').update(token + this.accessKey).digest('hex');
    if (username !== this.username || !expected || form.get('accessKey') !== expected) return this.fail('INVALID_USER_CREDENTIALS', 'Invalid username or password');
    const sessionName = `${(++this.serial).toString(16)}5f1a2b3c`;
    this.sessions.add(sessionName);
    return this.ok({ sessionName, userId: '19x1', version: '0.22', vtigerVersion: '7.5.0' });
  }

  private query(statement: string): FakeReply {
    this.counts.queries += 1;
    this.statements.push(statement);
    const shape = /^SELECT ([A-Za-z0-9_,]+) FROM ([A-Za-z]+) WHERE (.+?)( ORDER BY modifiedtime DESC)? LIMIT 0,10;$/.exec(statement);
    if (!shape) return this.violation(`query "${statement}" is not SELECT ... FROM ... WHERE ... [ORDER BY modifiedtime DESC] LIMIT 0,10;`, 'QUERY_SYNTAX_ERROR');
    const [, columnList, module, where, ordered] = shape;
    if (!ordered) this.violations.push(`query "${statement}" limits rows without ORDER BY: Vtiger returns the oldest ten`);
    const conditions = where!.split(' OR ').map((part) => /^([a-z]+) LIKE '([0-9%]+)'$/.exec(part));
    if (conditions.some((c) => c === null)) return this.violation(`WHERE "${where}" is not "{column} LIKE '{digits and %}'" joined by OR`, 'QUERY_SYNTAX_ERROR');
    const rows = this.rows[module!];
    if (!rows) return this.fail('ACCESS_DENIED', 'Permission to perform the operation is denied');
    const columns = columnList!.split(',');
    const known = new Set(['id', 'modifiedtime', 'phone', 'mobile', 'homephone', 'otherphone', ...rows.flatMap((r) => Object.keys(r))]);
    const unknown = columns.find((c) => !known.has(c));
    if (unknown) return this.fail('QUERY_SYNTAX_ERROR', `Unknown column ${unknown}`);
    const matches = rows.filter((row) => conditions.some((c) => likeToRegExp(c![2]!).test(row[c![1]!] ?? '')));
    if (ordered) matches.sort((a, b) => b.modifiedtime.localeCompare(a.modifiedtime));
    return this.ok(matches.slice(0, 10).map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? '']))));
  }

  /** retrieve: a user's record, or the errors Vtiger answers for another module's id or an unknown one. */
  private retrieve(id: string): FakeReply {
    const [prefix] = id.split('x');
    if (prefix !== '19') return this.fail('ACCESS_DENIED', 'Permission to perform the operation is denied');
    const email = this.users.get(id);
    if (email === undefined) return this.fail('RECORD_NOT_FOUND', 'Record you are trying to access is not found');
    return this.ok({ id, user_name: email.split('@')[0], first_name: 'Ana', last_name: 'Reception', email1: email, status: 'Active', is_admin: 'off' });
  }

  private describe(module: string): FakeReply {
    if (!this.rows[module]) return this.fail('ACCESS_DENIED', 'Permission to perform the operation is denied');
    return this.ok({
      label: module, name: module, createable: true, updateable: true, deleteable: true, retrieveable: true, idPrefix: '12', isEntity: true, labelFields: 'firstname,lastname',
      fields: [
        { name: 'firstname', label: 'First Name', mandatory: false, type: { name: 'string' }, nullable: true, editable: true },
        { name: 'mobile', label: 'Mobile Phone', mandatory: false, type: { name: 'phone' }, nullable: true, editable: true },
        { name: 'cf_853', label: 'Customer tier', mandatory: false, type: { name: 'picklist' }, nullable: true, editable: true },
      ],
    });
  }

  private exact(req: RecordedRequest, keys: string[]): boolean {
    const sent = [...req.query.keys()];
    if (sent.length === keys.length && keys.every((k) => req.query.get(k))) return true;
    this.violations.push(`${req.query.get('operation')}: query must be exactly ${keys.join(', ')} (got ${sent.join(', ')})`);
    return false;
  }

  private ok(result: unknown): FakeReply {
    return { body: { success: true, result } };
  }

  private fail(code: string, message: string): FakeReply {
    return { body: { success: false, error: { code, message, xdebug_message: '' } } };
  }

  private violation(message: string, code = 'INVALID_REQUEST'): FakeReply {
    this.violations.push(message);
    return this.fail(code, message);
  }
}

/** SQL LIKE with % only, anchored, as MySQL evaluates it (case-insensitive). */
function likeToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('%').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}
