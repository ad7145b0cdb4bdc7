/**
 * Which REST API version a Sugar instance accepts, found once per integration.
 *
 * Each Sugar release serves the versions from 10 up to its own maximum (Sugar 12.0: 11.16,
 * `include/api/metadata.php`; the 26.1 Developer Guide documents up to 11.27). Before anything
 * else, even before authentication, `RestService::execute` answers a version outside that range
 * with `SugarApiExceptionIncorrectVersion`: HTTP **301** without a Location, and
 * `{"error":"incorrect_version","error_message":"Please change your requested API version to
 * value between 10 and 11.16."}` (older releases: "Please change your url to reflect version
 * between 10 and 11"). So the negotiation asks `GET {site}/rest/{version}/ping` without a token,
 * starting from the newest known version (or the one the settings name): 401 `need_login` (or
 * any answer but 301) means the version is served; on `incorrect_version` it steps down to the
 * maximum the message names, or to v10 when the message names none. The answer is kept for the
 * connector's life (one integration's settings); a failed negotiation is asked again next time.
 */
import { z } from 'zod';
import { CrmError, errorForStatus } from '../shared/crm-error';
import type { HttpClient } from '../shared/http-client';
import { retryAfterMs } from '../shared/vendor-call';

/** The newest REST version Sugar documents (Developer Guide 26.1: v10 to v11_27). */
export const NEWEST_SUGAR_API = 'v11_27';
/** Every Sugar with the v10+ REST API serves v10. */
const OLDEST_SUGAR_API = 'v10';
const PROBE_TIMEOUT_MS = 10_000;

const incorrectVersionSchema = z.object({ error: z.literal('incorrect_version'), error_message: z.string().optional() });

/** 'v11_16' -> [11, 16]; 'v10' -> [10, 0]. */
function versionNumbers(version: string): [number, number] {
  const match = /^v(\d+)(?:_(\d+))?$/.exec(version);
  return match ? [Number(match[1]), Number(match[2] ?? 0)] : [0, 0];
}

function isLower(a: string, b: string): boolean {
  const [am, an] = versionNumbers(a);
  const [bm, bn] = versionNumbers(b);
  return am < bm || (am === bm && an < bn);
}

/** The highest version an incorrect_version message names ("between 10 and 11.16" -> 'v11_16'). */
export function maximumNamed(message: string | undefined): string | undefined {
  const match = /between\s+v?(\d+)(?:[._](\d+))?\s+and\s+v?(\d+)(?:[._](\d+))?/i.exec(message ?? '');
  if (!match) return undefined;
  return match[4] === undefined || match[4] === '0' ? `v${match[3]}` : `v${match[3]}_${match[4]}`;
}

/** Whether a Sugar answer is its incorrect_version refusal (301 + that error label). */
export function incorrectVersion(status: number, body: string): { maximum?: string } | undefined {
  if (status !== 301) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const checked = incorrectVersionSchema.safeParse(parsed);
  if (!checked.success) return undefined;
  const maximum = maximumNamed(checked.data.error_message);
  return maximum ? { maximum } : {};
}

export class SugarApiVersion {
  private answer?: Promise<string>;

  /** `start`: 'auto' (the newest known) or the version the settings name, e.g. v11_20. */
  constructor(private readonly http: HttpClient, private readonly siteUrl: string, private readonly start: string) {}

  /** The version to use: negotiated on first use, then remembered. */
  resolve(signal: AbortSignal): Promise<string> {
    if (!this.answer) {
      const pending = this.negotiate(AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]));
      pending.catch(() => { if (this.answer === pending) this.answer = undefined; });
      this.answer = pending;
    }
    return this.answer;
  }

  /** The version the negotiation starts from. */
  get startedAt(): string {
    return this.start === 'auto' ? NEWEST_SUGAR_API : this.start;
  }

  private async negotiate(signal: AbortSignal): Promise<string> {
    let version = this.startedAt;
    const tried: string[] = [];
    for (;;) {
      tried.push(version);
      const res = await this.http.request({
        method: 'GET', url: `${this.siteUrl}/rest/${version}/ping`, signal, what: 'SugarCRM',
        headers: { accept: 'application/json' }, returnRedirects: true, timeoutMs: PROBE_TIMEOUT_MS,
      });
      const refused = incorrectVersion(res.status, res.body);
      if (!refused) return accepted(res.status, res.headers, version);
      const next = refused.maximum && isLower(refused.maximum, version) ? refused.maximum : OLDEST_SUGAR_API;
      if (tried.includes(next)) {
        throw new CrmError('CONFIG', `SugarCRM refused every REST API version tried (${tried.join(', ')}: incorrect_version); set the version your Sugar serves on the Integration page.`, { status: 301 });
      }
      version = next;
    }
  }
}

/** Any answer but incorrect_version shows the version is served, except those that say the URL is wrong. */
function accepted(status: number, headers: Record<string, string>, version: string): string {
  if (status === 404) throw new CrmError('NOT_FOUND_URL', `SugarCRM answered 404 for /rest/${version}/ping: check the Sugar URL (the address you log in at, without /rest/...).`, { status });
  if (status >= 300 && status < 400) {
    throw new CrmError('BAD_RESPONSE', `The Sugar URL answered with a redirect (${status}) to ${headers.location ?? 'an address it did not give'}: enter the address Sugar is served at.`, { status });
  }
  if (status === 429 || status >= 500) throw errorForStatus(status, 'SugarCRM', retryAfterMs({ headers }));
  return version;
}
