import assert from 'node:assert/strict';
import express from 'express';
import request from 'supertest';
import { hostErrorHandler } from '../../scripts/host/error-pages';
import { localPath } from '../../scripts/host/host-auth';
import { recordingLogger } from '../support/agi-fake-asterisk';
import { ADMIN, csrfTokenOf, OTHER_TENANT_USER, startTestHost, type TestHost } from '../support/test-host';

/** Signs in with a fresh agent; returns the agent and the session cookie it was given. */
async function signIn(url: string, user: { name: string; password: string }, next = '/'): Promise<{ agent: request.Agent; location: string; sessionCookie: string }> {
  const agent = request.agent(url);
  const login = await agent.get('/login');
  const res = await agent.post('/login').type('form').send({ _csrf: csrfTokenOf(login.text), username: user.name, password: user.password, next });
  assert.equal(res.status, 303, res.text.slice(0, 300));
  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('pbx_sid='));
  assert.ok(cookie, 'a session cookie');
  return { agent, location: res.headers.location ?? '', sessionCookie: cookie.split(';')[0]! };
}

describe('Reference host: sign-in, sessions, DIDs per tenant, errors', function () {
  this.timeout(20_000);
  let t: TestHost;

  before(async () => {
    t = await startTestHost();
  });
  after(async () => t?.close());

  describe('where sign-in leads (next=)', () => {
    it('keeps local paths, and sends anything that could leave the site to /', () => {
      assert.equal(localPath('/dids?x=1#top'), '/dids?x=1#top');
      assert.equal(localPath('/crm/routing/7/edit'), '/crm/routing/7/edit');
      for (const next of ['/\\evil.example/', '//evil.example/', '/\\/evil.example', '/\t/evil.example', '/\n/evil.example', 'https://evil.example/', 'evil.example', '', undefined, ['/dids'], '/ /evil', `/${'a'.repeat(3000)}`]) {
        assert.equal(localPath(next), '/', JSON.stringify(next));
      }
    });

    it('redirects after sign-in to the local path asked for, never off-site', async () => {
      assert.equal((await signIn(t.host.url, ADMIN, '/dids')).location, '/dids');
      assert.equal((await signIn(t.host.url, ADMIN, '/\\evil.example/')).location, '/');
      assert.equal((await signIn(t.host.url, ADMIN, '//evil.example/')).location, '/');
    });
  });

  describe('sessions', () => {
    it('logout ends the session on the server: a copied cookie no longer signs anyone in', async () => {
      const { agent, sessionCookie } = await signIn(t.host.url, ADMIN);
      assert.equal((await request(t.host.url).get('/dids').set('Cookie', sessionCookie)).status, 200, 'the copied cookie works while signed in');
      const home = await agent.get('/');
      const logout = await agent.post('/logout').type('form').send({ _csrf: csrfTokenOf(home.text) });
      assert.equal(logout.status, 303);
      const replay = await request(t.host.url).get('/dids').set('Cookie', sessionCookie);
      assert.equal(replay.status, 303);
      assert.match(replay.headers.location ?? '', /^\/login/);
      assert.equal((await request(t.host.url).get('/crm/routing').set('Cookie', sessionCookie)).status, 303, 'the plugin pages too');
    });

    it('gives a new session id at every sign-in and keeps only a hash of it in the database', async () => {
      const first = await signIn(t.host.url, ADMIN);
      const second = await signIn(t.host.url, ADMIN);
      assert.notEqual(first.sessionCookie, second.sessionCookie);
      const id = second.sessionCookie.split('=')[1]!;
      const rows = await t.database.db('host_sessions').select('key');
      assert.ok(rows.length >= 2);
      assert.ok(rows.every((r: { key: string }) => r.key !== id && /^[0-9a-f]{64}$/.test(r.key)));
    });

    it("binds the plugin's CSRF token to the login session: a token from before a logout is refused after the next sign-in", async () => {
      const { agent } = await signIn(t.host.url, ADMIN);
      const form = await agent.get('/crm/routing/new');
      const oldToken = [...form.text.matchAll(/name="_csrf" value="([^"]+)"/g)].at(-1)![1]!;
      const oldCookies = ([] as string[]).concat(form.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).filter((c) => c.startsWith('crm_routing_csrf='));
      const home = await agent.get('/');
      await agent.post('/logout').type('form').send({ _csrf: csrfTokenOf(home.text) });
      const again = await signIn(t.host.url, ADMIN);
      // The attacker replays the old token with its cookie in the new session.
      const replayed = await request(t.host.url).post('/crm/routing/new').set('Cookie', [again.sessionCookie, ...oldCookies].join('; '))
        .type('form').send({ _csrf: oldToken, name: 'Replayed', action: 'save' });
      assert.equal(replayed.status, 403, replayed.text.slice(0, 300));
      const fresh = await again.agent.get('/crm/routing/new');
      const token = [...fresh.text.matchAll(/name="_csrf" value="([^"]+)"/g)].at(-1)![1]!;
      assert.notEqual(token, oldToken);
      const posted = await again.agent.post('/crm/routing/new').type('form').send({ _csrf: token, name: '', action: 'save' });
      assert.equal(posted.status, 422, 'the new session\'s own token is accepted (the form then reports its errors)');
    });
  });

  describe('DIDs per tenant', () => {
    it("shows, changes and deletes only the tenant's own DIDs, and refuses another tenant's number or rule", async () => {
      const admin = await t.signIn(ADMIN);
      const bob = await t.signIn(OTHER_TENANT_USER);
      await admin.get('/crm/routing/new');
      const saved = await admin.post('/crm/routing/new', {
        name: 'Admin rule', fieldName: 'tier', location: 'did', source: 'custom', customUrl: 'https://crm.example.com/lookup', customPost: 'no',
        deadlineSeconds: '3', defaultDestination: 'extension:100', defaultVoicemail: 'unset', row_operator: ['eq'], row_value: ['Gold'], row_dest_type: ['queue'], row_dest_target: ['103'], action: 'save',
      });
      assert.equal(saved.status, 303, saved.text.slice(0, 500));
      const ruleId = (await t.host.plugin.routingDestinations(ADMIN.tenantId)).find((r) => r.name === 'Admin rule')!.ruleId;

      await admin.get('/dids');
      assert.equal((await admin.post('/dids', { number: '5550100', destination: `crm-routing:${ruleId}` })).status, 303);
      const adminDids = await admin.get('/dids');
      assert.match(adminDids.text, /5550100/);
      const didId = /action="\/dids\/(\d+)\/delete"/.exec(adminDids.text)![1]!;

      const bobPage = await bob.get('/dids');
      assert.doesNotMatch(bobPage.text, /5550100/);
      assert.doesNotMatch(bobPage.text, /Admin rule/, "another tenant's rules are not offered");
      const taken = await bob.post('/dids', { number: '5550100', destination: 'extension:100' });
      assert.equal(taken.status, 409);
      assert.match(taken.text, /belongs to another account; nothing was changed/);
      await bob.get('/dids');
      const foreignRule = await bob.post('/dids', { number: '5550199', destination: `crm-routing:${ruleId}` });
      assert.equal(foreignRule.status, 422);
      await bob.get('/dids');
      await bob.post(`/dids/${didId}/delete`, {});
      assert.match((await admin.get('/dids')).text, /5550100/, "bob could not delete the admin's DID");
      assert.match((await admin.get('/dids')).text, /AGI\(agi:\/\/127\.0\.0\.1:\d+\/crm-routing\?rule=\d+&amp;tenant=default&amp;sig=[A-Za-z0-9_-]{22}\)/);
    });
  });

  describe('the error handler', () => {
    it('answers a failure with an id to quote and no stack trace; the log has both', async () => {
      const { logger, lines } = recordingLogger();
      const app = express();
      app.get('/boom', () => { throw new Error('secret internals at /srv/pbx/db.ts:12'); });
      app.use(hostErrorHandler(logger, async (_req, res, page, status) => void res.status(status).type('html').send(`<h1>${page.title}</h1><p>${page.message}</p>`)));
      const res = await request(app).get('/boom');
      assert.equal(res.status, 500);
      const id = /error id ([0-9a-f]{8})/.exec(res.text)?.[1];
      assert.ok(id, res.text);
      assert.doesNotMatch(res.text, /secret internals|at |\.ts:/);
      const logged = lines.find((l) => l.level === 'error');
      assert.equal(logged?.fields.errorId, id);
      assert.match(String(logged?.fields.error), /secret internals[\s\S]*at /);
    });

    it('keeps what the request got wrong as 4xx (a bad body type, a stale token)', async () => {
      const admin = await t.signIn(ADMIN);
      await admin.get('/dids');
      const json = await admin.agent.post('/dids').set('x-csrf-token', admin.token).send({ number: { toString: 'x' } });
      assert.equal(json.status, 415);
      const stale = await admin.post('/dids', { number: '5550111', destination: 'extension:100' }, 'not-a-token');
      assert.equal(stale.status, 403);
    });
  });
});
