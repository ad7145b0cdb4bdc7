/**
 * Zendesk's settings on CRM > Integration and their zod schema: the account, how to sign in
 * (sign-in.ts), and the phone region. Integrations saved before the OAuth modes existed carry an
 * email and API token but no `authMode`: they keep signing in the legacy way.
 */
import { z } from 'zod';
import { regionField, regionSchema } from '../shared/common-settings';
import type { SettingField } from '../integration';
import { ZENDESK_AUTH_MODES } from './sign-in';

export const API_TOKENS_END = '2027-04-30';

/** `acme`, `acme.zendesk.com` or an https:// address -> the API origin; undefined when none of those. */
export function zendeskBaseUrl(value: string): string | undefined {
  const text = value.trim().toLowerCase();
  if (/^[a-z0-9][a-z0-9-]{0,62}$/.test(text)) return `https://${text}.zendesk.com`;
  if (/^[a-z0-9][a-z0-9-]{0,62}\.zendesk\.com$/.test(text)) return `https://${text}`;
  try {
    const url = new URL(value.trim());
    const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
    return url.protocol === 'https:' && bare ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

const fields = z.object({
  subdomain: z
    .string({ error: 'Enter your Zendesk subdomain (acme for acme.zendesk.com).' })
    .trim()
    .refine((value) => zendeskBaseUrl(value) !== undefined, { message: 'Enter your Zendesk subdomain (acme for acme.zendesk.com) or the account\'s https:// address.' }),
  authMode: z.enum(ZENDESK_AUTH_MODES, { message: 'Choose how the plugin signs in to Zendesk.' }).default('client_credentials'),
  clientId: z.string().trim().default(''),
  clientSecret: z.string().trim().default(''),
  refreshToken: z.string().trim().default(''),
  email: z.string().trim().default(''),
  apiToken: z.string().trim().default(''),
  oauthToken: z.string().trim().default(''),
  region: regionSchema,
});

export const zendeskSchema = z.preprocess(legacyMode, fields.superRefine((s, ctx) => {
  if (s.authMode === 'api_token') return;
  if (s.clientId === '') ctx.addIssue({ code: 'custom', path: ['clientId'], message: "Enter the OAuth client's Identifier (Admin Center > Apps and integrations > APIs > OAuth clients)." });
  if (s.clientSecret === '') ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: "Enter the OAuth client's secret (shown once when the client is saved; a confidential client)." });
}));
export type ZendeskSettings = z.infer<typeof fields>;

/** Whether the integration signs in without a rule's CRM Username / CRM Password (the rule form asks). */
export function zendeskSignsInAlone(settings: Record<string, unknown>, stored: ReadonlySet<string>): boolean {
  const hasClient = typeof settings.clientId === 'string' && settings.clientId.trim() !== '';
  const legacy = !hasClient && (stored.has('apiToken') || stored.has('oauthToken'));
  const mode = typeof settings.authMode === 'string' && settings.authMode !== '' ? settings.authMode : legacy ? 'api_token' : 'client_credentials';
  const app = hasClient && stored.has('clientSecret');
  if (mode === 'client_credentials') return app;
  if (mode === 'authorization_code') return app && stored.has('refreshToken');
  return stored.has('oauthToken') || (typeof settings.email === 'string' && settings.email.trim() !== '' && stored.has('apiToken'));
}

/** Settings stored before `authMode` existed (or posted without it), with an API token or OAuth token: the legacy mode; else the default. */
function legacyMode(input: unknown): unknown {
  if (input === null || typeof input !== 'object') return input;
  const s = input as Record<string, unknown>;
  const filled = (name: string) => typeof s[name] === 'string' && (s[name] as string).trim() !== '';
  if (s.authMode !== undefined && s.authMode !== '') return input;
  const { authMode: _empty, ...rest } = s;
  return !filled('clientId') && (filled('apiToken') || filled('oauthToken')) ? { ...rest, authMode: 'api_token' } : rest;
}

export const zendeskFields: SettingField[] = [
  { name: 'subdomain', label: 'Zendesk subdomain', help: 'The acme in acme.zendesk.com (or the account\'s full https:// address).', type: 'text', secret: false, required: true, placeholder: 'acme' },
  {
    name: 'authMode', label: 'Sign-in', type: 'select', secret: false, required: true, defaultValue: 'client_credentials',
    help: `OAuth: a confidential OAuth client (Admin Center > Apps and integrations > APIs > OAuth clients). Client credentials needs no browser; Connect signs in as an agent. API tokens stop working on ${API_TOKENS_END}.`,
    options: [
      { value: 'client_credentials', label: 'OAuth client credentials (client ID and secret)' },
      { value: 'authorization_code', label: 'OAuth as an agent (Connect, refresh token)' },
      { value: 'api_token', label: `Legacy: agent email + API token (stops working on ${API_TOKENS_END})` },
    ],
  },
  { name: 'clientId', label: 'OAuth client ID', help: "The OAuth client's Identifier (Admin Center > Apps and integrations > APIs > OAuth clients).", type: 'text', secret: false, required: false },
  { name: 'clientSecret', label: 'OAuth client secret', help: 'The secret shown once when the OAuth client was saved.', type: 'secret', secret: true, required: false },
  { name: 'refreshToken', label: 'Refresh token (OAuth as an agent)', help: 'Filled by Connect. Without a browser path, paste a refresh token obtained with the same client.', type: 'secret', secret: true, required: false },
  { name: 'email', label: `Default agent email (legacy, until ${API_TOKENS_END})`, help: 'Used with the API token when a rule leaves CRM Username empty.', type: 'text', secret: false, required: false },
  { name: 'apiToken', label: `Default API token (legacy, until ${API_TOKENS_END})`, help: `Used when a rule leaves CRM Password empty. Zendesk issues no new API tokens; every one stops working on ${API_TOKENS_END}.`, type: 'secret', secret: true, required: false },
  regionField,
];
