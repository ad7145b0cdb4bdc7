/**
 * HubSpot's refusals as codes the call flow records and messages an administrator can act on.
 * API errors are {"status":"error","message","category",...}; a 403 MISSING_SCOPES lists the
 * scopes that would do in `errors[].context.requiredGranularScopes` (any one of them), which the
 * message names. The token endpoint answers {"error","error_description"} and, for backward
 * compatibility, HubSpot's own {"status","message"}; a refusal there is a sign-in error.
 */
import { CrmError, errorForStatus } from '../shared/crm-error';
import type { HttpResponse } from '../shared/http-client';
import { retryAfterMs } from '../shared/vendor-call';
import { HUBSPOT_SCOPES } from './api-version';

interface HubSpotErrorBody {
  category?: unknown;
  status?: unknown;
  error?: unknown;
  error_description?: unknown;
  message?: unknown;
  context?: { requiredGranularScopes?: unknown; requiredScopes?: unknown };
  errors?: Array<{ context?: { requiredGranularScopes?: unknown; requiredScopes?: unknown } }>;
}

function readBody(res: HttpResponse): HubSpotErrorBody {
  try {
    const body = JSON.parse(res.body) as unknown;
    return body !== null && typeof body === 'object' ? (body as HubSpotErrorBody) : {};
  } catch {
    return {};
  }
}

const text = (value: unknown, max = 160) => (typeof value === 'string' ? value.slice(0, max) : '');

/** The scopes a MISSING_SCOPES answer lists (any one of them would do). */
function requiredScopes(body: HubSpotErrorBody): string[] {
  const lists = [body.context, ...(body.errors ?? []).map((e) => e.context)].flatMap((c) => [c?.requiredGranularScopes, c?.requiredScopes]);
  const names = lists.flatMap((list) => (Array.isArray(list) ? list : [])).filter((s): s is string => typeof s === 'string' && /^[a-z0-9._-]{1,80}$/i.test(s));
  return [...new Set(names)].slice(0, 5);
}

/** An API answer that is not a success. `signIn` says what signed in, for a 401. */
export function hubSpotError(res: HttpResponse, what: string, signIn: 'token' | 'oauth'): CrmError {
  const body = readBody(res);
  const category = text(body.category) || (body.status !== 'error' ? text(body.status) : '') || text(body.error);
  const message = text(body.message);
  const said = category || message ? ` HubSpot said: ${[category, message].filter(Boolean).join(': ')}` : '';
  if (res.status === 401) {
    const advice = signIn === 'oauth' ? 'the app was uninstalled or its tokens revoked: press Connect again' : 'check the service key or access token (revoked, rotated, or of another account?)';
    return new CrmError('AUTH', `Sign-in to HubSpot failed: it refused the access token (401${category ? ` ${category}` : ''}): ${advice}.`, { status: 401 });
  }
  if (category === 'MISSING_SCOPES') {
    const named = requiredScopes(body);
    const missing = named.length > 0 ? `one of ${named.join(', ')}` : listed(HUBSPOT_SCOPES);
    return new CrmError('FORBIDDEN', `${what} refused the request (403 MISSING_SCOPES): the token lacks ${missing}. Give the service key or app the scopes ${listed(HUBSPOT_SCOPES)}.`, { status: res.status });
  }
  const base = errorForStatus(res.status, what, retryAfterMs(res));
  return new CrmError(base.code, `${base.message}${said}`, base.details);
}

/** A refusal of the token endpoint (400 for a bad code, client or refresh token). */
export function tokenError(res: HttpResponse, grant: 'refresh_token' | 'authorization_code'): CrmError {
  const body = readBody(res);
  const code = text(body.error, 60) || text(body.status, 60) || text(body.category, 60);
  const description = text(body.error_description) || text(body.message);
  const said = code || description ? ` (${[code, description].filter(Boolean).join(': ')})` : '';
  if (res.status === 400 || res.status === 401) {
    const advice = grant === 'authorization_code'
      ? 'the authorization code was refused (it works once, with the redirect URL of its consent): press Connect again'
      : 'check the Client ID and Client secret; a refused refresh token means the app was uninstalled: press Connect again';
    return new CrmError('AUTH', `Sign-in to HubSpot failed${said}: ${advice}.`, { status: res.status });
  }
  const base = errorForStatus(res.status, 'HubSpot sign-in', retryAfterMs(res));
  return new CrmError(base.code, `${base.message}${said}`, base.details);
}

/** "a, b and c". */
function listed(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
