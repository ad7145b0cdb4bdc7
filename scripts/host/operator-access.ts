/**
 * Who may read /metrics and /healthz: a request from this machine (a scraper or monitor on the
 * PBX itself), or one carrying `Authorization: Bearer <METRICS_TOKEN>`, the token compared in
 * constant time. A request that came through a proxy (X-Forwarded-For, Forwarded, X-Real-IP) is
 * not local even when the proxy is: behind a reverse proxy on the same box every request would
 * otherwise look local. Anyone else gets 401 (with a token configured) or 403 (without), and no
 * hint of what the page holds.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const PROXY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

export function operatorAccess(token: string | undefined): RequestHandler {
  const expected = token ? digest(token) : undefined;
  return (req, res, next) => {
    if (isLocal(req.socket.remoteAddress) && !PROXY_HEADERS.some((h) => req.headers[h] !== undefined)) return next();
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    // Both sides hashed first: timingSafeEqual needs equal lengths, and the token's length stays hidden too.
    if (expected && presented !== undefined && timingSafeEqual(digest(presented), expected)) return next();
    res.set('Cache-Control', 'no-store');
    if (expected) res.status(401).set('WWW-Authenticate', 'Bearer').type('text').send('A bearer token is required.\n');
    else res.status(403).type('text').send('Only this machine may read this page (set METRICS_TOKEN to allow others with a token).\n');
  };
}

export function isLocal(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
