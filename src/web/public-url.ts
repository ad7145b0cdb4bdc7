/**
 * The absolute redirect URL a CRM's "Connect" registers at the vendor:
 * `{public URL}{basePath}/integration/{crm}/connect/callback`. The public URL is the host's
 * `HostContext.publicUrl`; without it, only a request that reached the host over loopback at
 * localhost / 127.0.0.1 / [::1] (the reference host on a laptop) gives its own address. Any other
 * Host header is never trusted: a forged one would send the vendor's code elsewhere.
 */
import type { Request } from 'express';
import type { CrmKind } from '../domain/crm-kinds';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

export const PUBLIC_URL_MISSING =
  'The host does not say its public address, so no redirect URL can be given: set the host\'s publicUrl (PUBLIC_URL in the reference host), e.g. https://pbx.example.com, or open this page at http://localhost. Meanwhile, paste a refresh token in the fields above.';

/** Checks a host's publicUrl once, at register: throws a message saying what is wrong. */
export function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`HostContext.publicUrl "${value}" is not an absolute URL: give the host's address as browsers reach it, e.g. https://pbx.example.com.`);
  }
  if (url.username || url.password || url.search || url.hash) throw new Error(`HostContext.publicUrl "${value}" must not carry a user, password, query or fragment.`);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_NAMES.has(url.hostname))) {
    throw new Error(`HostContext.publicUrl "${value}" must use https (vendors accept http only for localhost).`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The callback URL for `crm`, or why there is none. `basePath` is where the plugin is mounted. */
export function connectRedirectUri(publicUrl: string | undefined, basePath: string, req: Request, crm: CrmKind): { uri: string } | { error: string } {
  const path = `${basePath.replace(/\/+$/, '')}/integration/${crm}/connect/callback`;
  if (publicUrl !== undefined) return { uri: `${publicUrl}${path}` };
  const origin = loopbackOrigin(req);
  return origin ? { uri: `${origin}${path}` } : { error: PUBLIC_URL_MISSING };
}

/** http://localhost:port when the request reached this server over loopback by a loopback name. */
function loopbackOrigin(req: Request): string | undefined {
  const host = req.headers.host ?? '';
  const match = /^(localhost|127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?$/i.exec(host);
  if (!match) return undefined;
  const local = req.socket.localAddress ?? '';
  if (!(local === '::1' || local.startsWith('127.') || local === '::ffff:127.0.0.1')) return undefined;
  const protocol = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return `${protocol}://${match[1]!.toLowerCase()}${match[2] ? `:${match[2]}` : ''}`;
}
