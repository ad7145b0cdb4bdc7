/**
 * SugarCRM's OAuth2 token endpoint: the password grant, and the refresh grant that replaces it
 * near expiry. A Sugar refresh token works once, so refreshes must never overlap: the token
 * cache runs one fetch at a time per key, and this fetcher is only ever called through it. A
 * refused refresh (revoked, already used, expired) falls back to a password login.
 */
import { z } from 'zod';
import { CrmError, errorForStatus } from '../shared/crm-error';
import type { HttpClient } from '../shared/http-client';
import type { Credentials } from '../integration';
import type { CachedToken, TokenFetcher } from '../shared/token-cache';
import { parseJsonBody, retryAfterMs } from '../shared/vendor-call';

const WHAT = 'SugarCRM';

export interface SugarToken extends CachedToken {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms after which the refresh token is not tried. */
  refreshExpiresAt: number;
}

export interface SugarSessionOptions {
  /** `{site}/rest/{version}` */
  base: string;
  platform: string;
  clientId: string;
  clientSecret: string;
}

const tokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive().default(3600),
  refresh_token: z.string().optional(),
  refresh_expires_in: z.coerce.number().positive().optional(),
});

const errorSchema = z.object({ error: z.string().optional(), error_message: z.string().optional() }).passthrough();

export class SugarSession {
  constructor(private readonly http: HttpClient, private readonly options: SugarSessionOptions) {}

  fetcher(credentials: Credentials): TokenFetcher<SugarToken> {
    return async (previous, signal) => {
      if (previous?.refreshToken && previous.refreshExpiresAt > Date.now()) {
        const refreshed = await this.grant({ grant_type: 'refresh_token', refresh_token: previous.refreshToken }, signal, true);
        if (refreshed) return refreshed;
      }
      const token = await this.grant({ grant_type: 'password', username: credentials.username, password: credentials.password }, signal, false);
      if (!token) throw new CrmError('AUTH', 'SugarCRM refused the login.');
      return token;
    };
  }

  /** One token request. For a refresh, a 400/401 answer is "use the password instead" (undefined). */
  private async grant(grant: Record<string, string>, signal: AbortSignal, isRefresh: boolean): Promise<SugarToken | undefined> {
    const { base, platform, clientId, clientSecret } = this.options;
    const res = await this.http.request({
      method: 'POST', url: `${base}/oauth2/token`, signal, what: WHAT,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...grant, client_id: clientId, client_secret: clientSecret, platform }),
    });
    if (res.status >= 200 && res.status < 300) {
      const body = parseJsonBody(res, `${WHAT}'s token endpoint`, tokenSchema);
      if (!body) throw new CrmError('BAD_RESPONSE', "SugarCRM's token endpoint answered with an empty body.");
      const now = Date.now();
      return {
        accessToken: body.access_token,
        refreshToken: body.refresh_token,
        expiresAt: now + body.expires_in * 1000,
        // Sugar's default refresh lifetime is two weeks; without the field, try it and fall back.
        refreshExpiresAt: now + (body.refresh_expires_in ?? 1_209_600) * 1000,
      };
    }
    if (isRefresh && (res.status === 400 || res.status === 401)) return undefined;
    throw loginError(res.status, res.body, platform, retryAfterMs(res));
  }
}

/** Sugar's own error label and message (never our secrets) in words an administrator can act on. */
function loginError(status: number, body: string, platform: string, retryAfter: number | undefined): CrmError {
  let detail: z.infer<typeof errorSchema> = {};
  try {
    detail = errorSchema.parse(JSON.parse(body));
  } catch {
    // Not Sugar's JSON (a proxy page, say): the status alone speaks.
  }
  const said = detail.error_message ? ` Sugar said: "${detail.error_message.slice(0, 160)}"` : '';
  if (status === 422 || /platform/i.test(detail.error_message ?? '')) {
    return new CrmError('CONFIG', `SugarCRM refused the API platform "${platform}" (${status}): register it under Admin > Developer Tools > Configure API Platforms.${said}`, { status });
  }
  if (status === 400 || status === 401) {
    return new CrmError('AUTH', `SugarCRM rejected the username or password (${status}${detail.error ? ` ${detail.error}` : ''}).${said}`, { status });
  }
  if (status === 404) return new CrmError('NOT_FOUND_URL', 'SugarCRM answered 404 for /oauth2/token: check the Sugar URL and the REST API version.', { status });
  if (status === 429) return errorForStatus(429, "SugarCRM's token endpoint", retryAfter);
  if (status === 403) return new CrmError('FORBIDDEN', `SugarCRM refused the login (403): the user may be inactive or lack API access.${said}`, { status });
  return new CrmError('HTTP_ERROR', `SugarCRM's token endpoint answered HTTP ${status}.${said}`, { status });
}
