/**
 * The settings of a Proprietary CRM connector (the syntax is documented in index.ts),
 * declared once for the Integration page and checked with zod: every template, line and path
 * is parsed here, so a mistake is reported when the settings are saved, not on a live call.
 */
import { z } from 'zod';
import { regionField, regionSchema } from '../shared/common-settings';
import type { SettingField } from '../integration';
import { parsePath, PathSyntaxError, type PathSegment } from '../shared/json-path';
import { AUTH_TYPES, type AuthSettings } from './auth';
import { checkUrlTemplate, parseBodyTemplate, parseHeaderLines, parseQueryLines, TemplateError, unknownMessage, unknownPlaceholders, type HeaderLine, type QueryLine } from '../shared/request-template';
import type { CountryCode } from '../../domain/phone';
import { LOG_PLACEHOLDERS, DEFAULT_LOG_BODY } from './call-log-template';

export interface ProprietarySettings extends AuthSettings, Record<string, unknown> {
  username: string;
  password: string;
  method: 'GET' | 'POST';
  url: string;
  queryParams: string;
  headers: string;
  body: string;
  valuePath: string;
  phonePath: string;
  notFoundStatuses: number[];
  notFoundPath: string;
  modules: string[];
  sampleCallerId: string;
  region: CountryCode;
  /** The call log request (empty logUrl: calls are not written). */
  logMethod: 'POST' | 'PUT';
  logUrl: string;
  logHeaders: string;
  logBody: string;
  logIdPath: string;
  logRecordUrl: string;
}

/** The settings parsed into what a request needs. */
export interface CompiledRequest {
  query: QueryLine[];
  headers: HeaderLine[];
  body: unknown;
  valuePath: PathSegment[];
  phonePath: PathSegment[] | undefined;
  notFoundPath: PathSegment[] | undefined;
}

const text = (name: string, label: string, help: string, extra: Partial<SettingField> = {}): SettingField => ({ name, label, help, type: 'text', secret: false, required: false, ...extra });

export const proprietaryFields: SettingField[] = [
  {
    name: 'authType', label: 'Authentication', type: 'select', secret: false, required: true, defaultValue: 'none', help: 'How the CRM checks who is asking.',
    options: [
      { value: 'none', label: 'None' }, { value: 'basic', label: 'HTTP Basic (username + password)' }, { value: 'bearer', label: 'Bearer token' },
      { value: 'api_key', label: 'API key header' }, { value: 'oauth2_client_credentials', label: 'OAuth2 client credentials' }, { value: 'oauth2_password', label: 'OAuth2 password grant' },
    ],
  },
  text('username', 'Default username', 'Basic and OAuth2 password grant: the CRM user, unless a rule gives its own CRM Username.'),
  { name: 'password', label: 'Default password, token or API key', help: 'Basic / password grant: the password; Bearer: the token; API key: the key. A rule\'s CRM Password replaces it.', type: 'secret', secret: true, required: false },
  text('apiKeyHeader', 'API key header', 'Name of the header that carries the API key.', { defaultValue: 'X-API-Key' }),
  { name: 'tokenUrl', label: 'OAuth2 token URL', help: 'Where access tokens are requested (form POST), e.g. https://crm.example.com/oauth/token.', type: 'url', secret: false, required: false },
  text('clientId', 'OAuth2 client ID', 'The client ID (client credentials: a rule\'s CRM Username replaces it).'),
  { name: 'clientSecret', label: 'OAuth2 client secret', help: 'The client secret (client credentials: a rule\'s CRM Password replaces it).', type: 'secret', secret: true, required: false },
  text('scope', 'OAuth2 scope', 'Space-separated scopes to ask for; empty to ask for none.'),
  { name: 'clientAuth', label: 'OAuth2 client authentication', help: 'Send the client ID and secret in the form body or as an HTTP Basic header.', type: 'select', secret: false, required: false, defaultValue: 'body', options: [{ value: 'body', label: 'In the form body' }, { value: 'basic', label: 'HTTP Basic header' }] },
  { name: 'method', label: 'Lookup method', help: 'GET, or POST with the JSON body below.', type: 'select', secret: false, required: true, defaultValue: 'GET', options: [{ value: 'GET', label: 'GET' }, { value: 'POST', label: 'POST' }] },
  { name: 'url', label: 'Lookup URL', help: 'https:// URL; placeholders such as {e164} or {national} may appear in its path and query, e.g. https://crm.example.com/api/contacts?phone={e164}.', type: 'url', secret: false, required: true },
  { name: 'queryParams', label: 'Query parameters', help: 'One name=value per line, placeholders allowed, e.g. fields={field}.', type: 'textarea', secret: false, required: false },
  { name: 'headers', label: 'Headers', help: 'One Name: value per line, placeholders allowed, e.g. X-Tenant: acme.', type: 'textarea', secret: false, required: false },
  { name: 'body', label: 'JSON body (POST)', help: 'Valid JSON with placeholders inside strings, e.g. {"phone": "{e164}", "fields": ["{field}"]}.', type: 'textarea', secret: false, required: false },
  text('valuePath', 'Value path', 'Where the value sits in the answer, e.g. data[*].{field} or records[0].fields.tier; * marks the list of matching records.', { required: true, placeholder: 'data[*].{field}' }),
  text('phonePath', 'Phone path', 'Optional: where each record\'s phone number(s) sit, relative to the record, e.g. phones[*].number; records whose number is not the caller\'s are dropped.'),
  text('notFoundStatuses', 'Not-found statuses', 'Comma-separated HTTP statuses that mean "no record", e.g. 404. Empty: such statuses are errors.'),
  text('notFoundPath', 'Not-found path', 'Optional: a path that is empty (missing, null, false, 0, "" or []) when there is no record, e.g. meta.total.'),
  text('modules', 'Modules', 'Optional comma-separated names offered for a rule\'s module and sent as {module}.'),
  text('sampleCallerId', 'Sample caller number', 'A number of a real record: a rule\'s "Fetch fields" button (CRM > Routing) looks it up and lists the keys of the record it finds.'),
  regionField,
  { name: 'logMethod', label: 'Call log method', help: 'How a finished call is sent to the CRM: POST (create) or PUT (e.g. to a URL ending in {external_id}).', type: 'select', secret: false, required: false, defaultValue: 'POST', options: [{ value: 'POST', label: 'POST' }, { value: 'PUT', label: 'PUT' }] },
  { name: 'logUrl', label: 'Call log URL', help: `Optional: the https:// URL a finished call is sent to (with the authentication above), e.g. https://crm.example.com/api/calls; empty: calls are not written. Placeholders: ${LOG_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}.`, type: 'url', secret: false, required: false },
  { name: 'logHeaders', label: 'Call log headers', help: 'One Name: value per line, placeholders allowed. Idempotency-Key: {external_id} is always sent.', type: 'textarea', secret: false, required: false },
  { name: 'logBody', label: 'Call log JSON body', help: `Valid JSON with placeholders inside strings. Empty: ${DEFAULT_LOG_BODY}`, type: 'textarea', secret: false, required: false },
  text('logIdPath', 'Call log id path', 'Optional: where the created record\'s id sits in the answer, e.g. data.id; shown on the Call log page.'),
  text('logRecordUrl', 'Call log record link', 'Optional: an https:// link to the created record, with {id}, e.g. https://crm.example.com/calls/{id}.'),
];

const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : String(v ?? '').split(',')).map((s) => s.trim()).filter((s) => s !== '');

function parsePathSetting(value: string, ctx: z.RefinementCtx, path: string, options: { allowField: boolean; maxStars: number }): void {
  if (value === '') return;
  try {
    const segments = parsePath(value);
    const stars = segments.filter((s) => s.kind === 'all').length;
    if (stars > options.maxStars) ctx.addIssue({ code: 'custom', path: [path], message: options.maxStars === 0 ? 'This path takes no *: name one value, e.g. data.id.' : `Use * at most ${options.maxStars === 1 ? 'once' : `${options.maxStars} times`} in this path.` });
    const tokens = [...value.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]);
    if (options.allowField ? tokens.some((t) => t !== 'field') : tokens.length > 0) {
      ctx.addIssue({ code: 'custom', path: [path], message: options.allowField ? 'The value path takes one placeholder, {field}.' : 'This path takes no placeholders.' });
    }
  } catch (err) {
    if (err instanceof PathSyntaxError) ctx.addIssue({ code: 'custom', path: [path], message: `${err.message}. Paths look like data[*].{field} or records[0].fields.tier.` });
    else throw err;
  }
}

export const proprietarySchema = z.object({
  authType: z.enum(AUTH_TYPES, { message: 'Choose how the CRM authenticates.' }).default('none'),
  username: z.string().trim().default(''),
  password: z.string().default(''),
  apiKeyHeader: z.string().trim().default('X-API-Key').refine((h) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(h), 'Enter a header name such as X-API-Key.'),
  tokenUrl: z.string().trim().default(''),
  clientId: z.string().trim().default(''),
  clientSecret: z.string().default(''),
  scope: z.string().trim().default(''),
  clientAuth: z.enum(['body', 'basic']).default('body'),
  method: z.enum(['GET', 'POST'], { message: 'Choose GET or POST.' }).default('GET'),
  url: z.string().trim(),
  queryParams: z.string().default(''),
  headers: z.string().default(''),
  body: z.string().default(''),
  valuePath: z.string().trim().min(1, 'Enter the value path, e.g. data[*].{field}.'),
  phonePath: z.string().trim().default(''),
  notFoundStatuses: z.union([z.string(), z.array(z.union([z.string(), z.number()]))]).default('').transform((v) => list(v).map(Number))
    .refine((codes) => codes.every((c) => Number.isInteger(c) && (c === 204 || (c >= 400 && c < 500 && ![401, 403, 429].includes(c)))), 'Not-found statuses are 204 or 4xx codes other than 401, 403 and 429, e.g. 404.'),
  notFoundPath: z.string().trim().default(''),
  modules: z.union([z.string(), z.array(z.string())]).default('').transform(list),
  sampleCallerId: z.string().trim().default(''),
  region: regionSchema,
  logMethod: z.enum(['POST', 'PUT']).default('POST'),
  logUrl: z.string().trim().default(''),
  logHeaders: z.string().default(''),
  logBody: z.string().default(''),
  logIdPath: z.string().trim().default(''),
  logRecordUrl: z.string().trim().default(''),
}).superRefine((s, ctx) => {
  checkLogTemplate(s as unknown as Record<string, string>, ctx);
  const urlProblem = checkUrlTemplate(s.url);
  if (urlProblem) ctx.addIssue({ code: 'custom', path: ['url'], message: urlProblem });
  if ((s.authType === 'oauth2_client_credentials' || s.authType === 'oauth2_password') && !/^https:\/\/[^{}\s]+$/.test(s.tokenUrl)) {
    ctx.addIssue({ code: 'custom', path: ['tokenUrl'], message: 'Enter the OAuth2 token URL, starting with https://' });
  }
  if (s.authType === 'oauth2_password' && s.clientId === '') ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'Enter the OAuth2 client ID of the password grant.' });
  for (const [name, value] of [['queryParams', s.queryParams], ['headers', s.headers], ['body', s.body]] as const) {
    const unknown = unknownPlaceholders(value);
    if (unknown.length > 0) ctx.addIssue({ code: 'custom', path: [name], message: unknownMessage(unknown) });
  }
  const parts: Array<[string, () => unknown]> = [
    ['queryParams', () => parseQueryLines(s.queryParams)],
    ['headers', () => parseHeaderLines(s.headers)],
    ['body', () => (s.method === 'POST' && s.body.trim() !== '' ? parseBodyTemplate(s.body) : undefined)],
  ];
  for (const [name, parse] of parts) {
    try {
      parse();
    } catch (err) {
      if (err instanceof TemplateError) ctx.addIssue({ code: 'custom', path: [name], message: err.message });
      else throw err;
    }
  }
  parsePathSetting(s.valuePath, ctx, 'valuePath', { allowField: true, maxStars: 1 });
  parsePathSetting(s.phonePath, ctx, 'phonePath', { allowField: false, maxStars: 2 });
  parsePathSetting(s.notFoundPath, ctx, 'notFoundPath', { allowField: false, maxStars: 1 });
}) as unknown as z.ZodType<ProprietarySettings>;

function checkLogTemplate(s: Record<string, string>, ctx: z.RefinementCtx): void {
  if (s.logUrl !== '') {
    const problem = checkUrlTemplate(s.logUrl!, LOG_PLACEHOLDERS, 'Call log URL');
    if (problem) ctx.addIssue({ code: 'custom', path: ['logUrl'], message: problem });
  }
  for (const name of ['logHeaders', 'logBody'] as const) {
    const unknown = unknownPlaceholders(s[name]!, LOG_PLACEHOLDERS);
    if (unknown.length > 0) ctx.addIssue({ code: 'custom', path: [name], message: unknownMessage(unknown, LOG_PLACEHOLDERS) });
  }
  try {
    parseHeaderLines(s.logHeaders!);
  } catch (err) {
    if (err instanceof TemplateError) ctx.addIssue({ code: 'custom', path: ['logHeaders'], message: err.message });
    else throw err;
  }
  if (s.logBody!.trim() !== '') {
    try {
      parseBodyTemplate(s.logBody!);
    } catch (err) {
      if (err instanceof TemplateError) ctx.addIssue({ code: 'custom', path: ['logBody'], message: err.message });
      else throw err;
    }
  }
  parsePathSetting(s.logIdPath!, ctx, 'logIdPath', { allowField: false, maxStars: 0 });
  if (s.logRecordUrl !== '' && !/^https:\/\/[^{}\s/]+(\/\S*)?$/.test(s.logRecordUrl!.replace('{id}', 'x'))) {
    ctx.addIssue({ code: 'custom', path: ['logRecordUrl'], message: 'Enter an https:// link with {id} only in its path or query, e.g. https://crm.example.com/calls/{id}.' });
  }
}

/** Parses the (already validated) settings into a request's parts. */
export function compileRequest(s: ProprietarySettings): CompiledRequest {
  return {
    query: parseQueryLines(s.queryParams),
    headers: parseHeaderLines(s.headers),
    body: s.method === 'POST' && s.body.trim() !== '' ? parseBodyTemplate(s.body) : undefined,
    valuePath: parsePath(s.valuePath),
    phonePath: s.phonePath === '' ? undefined : parsePath(s.phonePath),
    notFoundPath: s.notFoundPath === '' ? undefined : parsePath(s.notFoundPath),
  };
}
