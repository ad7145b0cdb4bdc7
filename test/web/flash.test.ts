import assert from 'node:assert/strict';
import express from 'express';
import cookieParser from 'cookie-parser';
import request from 'supertest';
import { createFlash } from '../../src/web/flash';

/** A tiny app: /set?m= stores a notice for the user named in x-user, /take shows it. */
function app() {
  const flash = createFlash({ secretKey: 'flash-test-secret-key-0123456789abcdef', sessionOf: (req) => String(req.headers['x-user'] ?? ''), path: '/', secureCookie: false });
  const a = express();
  a.use(cookieParser());
  a.get('/set', (req, res) => { flash.set(req, res, String(req.query.m)); res.end(); });
  a.get('/take', (req, res) => { res.send(flash.take(req, res)); });
  return a;
}

describe('Flash notices', () => {
  it('shows a notice once, to the user it was set for', async () => {
    const agent = request.agent(app());
    await agent.get('/set?m=Rule%20saved.').set('x-user', 'alice');
    assert.equal((await agent.get('/take').set('x-user', 'alice')).text, 'Rule saved.');
    assert.equal((await agent.get('/take').set('x-user', 'alice')).text, '', 'read once');
  });

  it("never shows another user's notice or a cookie made by hand", async () => {
    const agent = request.agent(app());
    await agent.get('/set?m=For%20alice').set('x-user', 'alice');
    assert.equal((await agent.get('/take').set('x-user', 'bob')).text, '');
    const forged = Buffer.from(JSON.stringify({ m: 'Call this number', exp: Date.now() + 60_000 })).toString('base64url');
    const res = await request(app()).get('/take').set('x-user', 'alice').set('cookie', `crm_routing_flash=${forged}.AAAA`);
    assert.equal(res.text, '');
  });
});
