/**
 * HubSpot's section of CRM > Integration. Two ways to sign in, as HubSpot offers them today:
 * - a static token: a service key (Development > Keys > Service keys), which replaces legacy
 *   private apps (no longer creatable since 2026-10-26), or the static access token of an app on
 *   HubSpot's developer platform. Tokens of existing legacy private apps keep working.
 * - an OAuth app: a HubSpot user approves it with Connect (or a refresh token is pasted).
 */
import { z } from 'zod';
import { regionField, regionSchema } from '../shared/common-settings';
import type { SettingField } from '../integration';
import { HUBSPOT_SCOPES } from './api-version';

export const DEFAULT_BASE_URL = 'https://api.hubapi.com';
const SCOPES = `${HUBSPOT_SCOPES.slice(0, -1).join(', ')} and ${HUBSPOT_SCOPES.at(-1)}`;

const baseUrlSchema = z
  .string()
  .trim()
  .default(DEFAULT_BASE_URL)
  .transform((value) => value || DEFAULT_BASE_URL)
  .refine((value) => /^https:\/\/[^/?#\s]+\/?$/.test(value), { message: 'Enter the API base URL, starting with https:// and without a path (normally https://api.hubapi.com).' })
  .transform((value) => value.replace(/\/$/, ''));

export const hubspotSettingsSchema = z
  .object({
    region: regionSchema,
    baseUrl: baseUrlSchema,
    authMode: z.enum(['token', 'oauth'], { message: 'Choose how to sign in: a service key (or app access token), or an OAuth app.' }).default('token'),
    accessToken: z.string().trim().default(''),
    clientId: z.string().trim().default(''),
    clientSecret: z.string().trim().default(''),
    refreshToken: z.string().trim().default(''),
  })
  .superRefine((s, ctx) => {
    if (s.authMode !== 'oauth') return;
    if (!s.clientId) ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'Enter the Client ID of your HubSpot app (its Auth page).' });
    if (!s.clientSecret) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'Enter the Client secret of your HubSpot app.' });
  });
export type HubSpotSettings = z.infer<typeof hubspotSettingsSchema>;

export const hubspotFields: SettingField[] = [
  regionField,
  {
    name: 'authMode', label: 'Sign in with', type: 'select', secret: false, required: true, defaultValue: 'token',
    help: 'A service key or an app\'s static access token (one HubSpot account), or an OAuth app that a HubSpot user approves with Connect.',
    options: [{ value: 'token', label: 'Service key or app access token' }, { value: 'oauth', label: 'OAuth app (Connect)' }],
  },
  {
    name: 'accessToken', label: 'Access token', type: 'secret', secret: true, required: false,
    help: `A service key (Development > Keys > Service keys) or the static access token of an app, with the scopes ${SCOPES}. Tokens of legacy private apps still work, but such apps can no longer be created.`,
  },
  { name: 'clientId', label: 'Client ID', type: 'text', secret: false, required: false, help: `OAuth app only: the Client ID of your app (its Auth page), whose required scopes are ${SCOPES} and whose redirect URL is the one shown on this page.` },
  { name: 'clientSecret', label: 'Client secret', type: 'secret', secret: true, required: false, help: 'OAuth app only: the Client secret of the same app.' },
  { name: 'refreshToken', label: 'Refresh token', type: 'secret', secret: true, required: false, help: 'OAuth app only: filled by Connect (or paste the refresh token of an installation of the app).' },
  { name: 'baseUrl', label: 'API base URL', type: 'url', secret: false, required: false, defaultValue: DEFAULT_BASE_URL, placeholder: DEFAULT_BASE_URL, help: 'Leave as https://api.hubapi.com unless your requests go through a proxy.' },
];

export const hubspotCredentialsHelp = 'Username: not used. Password: a service key or app access token, used instead of the integration\'s sign-in.';
