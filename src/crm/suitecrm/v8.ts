/**
 * SuiteCRM's V8 JSON:API (7.10+ and 8.x): OAuth2 password grant at `{site}/Api/access_token`
 * (7.x) or `{site}/legacy/Api/access_token` (8.x); "auto" tries 7.x first and keeps whichever
 * answers. Filters only match exactly, so each phone field and stored format gets its own request.
 */
import { z } from 'zod';
import { CrmError } from '../shared/crm-error';
import type { HttpClient } from '../shared/http-client';
import type { CrmField, Credentials } from '../integration';
import type { CachedToken } from '../shared/token-cache';
import { requestJson } from '../shared/vendor-call';
import { META_LIMITS, SUITECRM, type SuiteCrmProtocol, type SuiteCrmSearch } from './protocol';
import type { SuiteCrmSettings } from './settings';

const MAX_VARIANTS = 10;
const MAX_IN_FLIGHT = 8;

interface V8Session extends CachedToken {
  accessToken: string;
  /** `{site}/Api` or `{site}/legacy/Api`, whichever issued the token. */
  apiBase: string;
}

const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive().default(3600) });
const recordsSchema = z.object({ data: z.array(z.object({ id: z.string(), attributes: z.record(z.string(), z.unknown()).default({}) })).default([]) });
const metaSchema = z.object({ data: z.object({ attributes: z.record(z.string(), z.unknown()) }) });

/** The V8 JSON:API: Bearer token, one exact-match request per phone field and stored format. */
export class SuiteCrmV8Protocol implements SuiteCrmProtocol<V8Session> {
  constructor(private readonly settings: SuiteCrmSettings, private readonly http: HttpClient) {}

  async login(credentials: Credentials, signal: AbortSignal): Promise<V8Session> {
    const paths = this.settings.apiPath === 'auto' ? ['Api', 'legacy/Api'] : [this.settings.apiPath];
    const body = new URLSearchParams({ grant_type: 'password', client_id: this.settings.clientId, client_secret: this.settings.clientSecret, username: credentials.username, password: credentials.password });
    for (const [index, path] of paths.entries()) {
      const apiBase = `${this.settings.site}/${path}`;
      const what = `${SUITECRM} token endpoint`;
      try {
        const res = await requestJson(this.http, { method: 'POST', url: `${apiBase}/access_token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString(), signal, what }, { accept: [400, 401] });
        if (res.status === 400 || res.status === 401) throw tokenRefusal(res.body, what);
        const token = tokenSchema.safeParse(res.body);
        if (!token.success) throw new CrmError('BAD_RESPONSE', `${what} answered without an access token.`);
        return { accessToken: token.data.access_token, apiBase, expiresAt: Date.now() + token.data.expires_in * 1000 };
      } catch (err) {
        // Auto: a 404 or a page that is not JSON means "not this layout"; try the 8.x one.
        const wrongPlace = err instanceof CrmError && (err.code === 'NOT_FOUND_URL' || err.code === 'BAD_RESPONSE');
        if (!wrongPlace || index === paths.length - 1) throw err;
      }
    }
    throw new CrmError('CONFIG', 'No SuiteCRM API location to try.');
  }

  async search(session: V8Session, search: SuiteCrmSearch): Promise<Array<Record<string, unknown>>> {
    const { module, field, phoneFields, phone, signal } = search;
    const columns = [...new Set([field, 'date_modified', ...phoneFields])].join(',');
    const variants = phone.exactForms.slice(0, MAX_VARIANTS);
    const requests = phoneFields.flatMap((phoneField) => variants.map((variant) => new URLSearchParams({ [`fields[${module}]`]: columns, [`filter[${phoneField}][eq]`]: variant, 'page[size]': '5', 'page[number]': '1' })));
    const pages = await inBatches(requests, MAX_IN_FLIGHT, (query) => this.get(session, `V8/module/${module}?${query}`, recordsSchema, signal));
    const byId = new Map<string, Record<string, unknown>>();
    for (const page of pages) for (const record of page.data) byId.set(record.id, { ...record.attributes, id: record.id });
    return [...byId.values()];
  }

  async listModules(session: V8Session, signal: AbortSignal): Promise<string[]> {
    return Object.keys((await this.get(session, 'V8/meta/modules', metaSchema, signal, META_LIMITS)).data.attributes);
  }

  async listFields(session: V8Session, module: string, signal: AbortSignal): Promise<CrmField[]> {
    const fields = (await this.get(session, `V8/meta/fields/${module}`, metaSchema, signal, META_LIMITS)).data.attributes;
    return Object.entries(fields).map(([name, def]) => ({ name, label: name, type: typeof (def as { type?: unknown })?.type === 'string' ? (def as { type: string }).type : '' }));
  }

  private async get<T>(session: V8Session, path: string, schema: z.ZodType<T>, signal: AbortSignal, limits = {}): Promise<T> {
    const headers = { authorization: `Bearer ${session.accessToken}`, accept: 'application/vnd.api+json', 'content-type': 'application/vnd.api+json' };
    const res = await requestJson(this.http, { method: 'GET', url: `${session.apiBase}/${path}`, headers, signal, what: SUITECRM, ...limits }, { schema });
    if (res.body === null) throw new CrmError('BAD_RESPONSE', `${SUITECRM} answered ${path} with an empty body.`);
    return res.body;
  }
}

/** league/oauth2-server answers 400/401 with {error, error_description|message, hint}. */
function tokenRefusal(body: unknown, what: string): CrmError {
  const parsed = z.object({ error: z.string().optional(), error_description: z.string().optional(), message: z.string().optional() }).safeParse(body);
  const detail = parsed.success ? parsed.data.error_description ?? parsed.data.message ?? parsed.data.error : undefined;
  const hint = parsed.success && parsed.data.error === 'invalid_client' ? 'check the OAuth2 client id and secret' : 'check the user name and password';
  return new CrmError('AUTH', `${what} refused the sign-in (${detail ?? 'no reason given'}): ${hint}.`);
}

/** Runs `run` over `items` with at most `limit` in flight, none started after a failure. */
async function inBatches<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await run(items[index]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
