/**
 * Salesforce's section of CRM > Integration. Three ways to sign in:
 * - client credentials (the default): the External Client App's "Run As" user; Salesforce serves
 *   this flow only at the org's My Domain (https://{domain}.my.salesforce.com);
 * - Connect: the web server flow with PKCE, leaving a refresh token;
 * - username and password: a legacy choice only. Salesforce blocks it by default in orgs created
 *   since Summer '23, External Client Apps do not offer it, and it is being deprecated (help
 *   article 000886201, "Migrate from OAuth Username-Password to Client Credentials Flow").
 *
 * Settings stored before client credentials became the default keep working: the Integration
 * page always stored the chosen flow, and settings without one (written by a script or an older
 * host) are read as they were meant: the username-password flow (and login.salesforce.com) when
 * they hold a username, password or security token, client credentials otherwise.
 */
import { z } from 'zod';
import { regionField, regionSchema } from '../shared/common-settings';
import type { SettingField } from '../integration';

export const SALESFORCE_FLOWS = ['client_credentials', 'refresh_token', 'password'] as const;
export type SalesforceFlow = (typeof SALESFORCE_FLOWS)[number];

const GENERIC_LOGIN = /^https:\/\/(login|test)\.salesforce\.com$/i;
const LEGACY_LOGIN_URL = 'https://login.salesforce.com';

const filled = (value: unknown) => typeof value === 'string' && value.trim() !== '';

/** The flow settings sign in with, reading settings stored without one as they were meant. */
export function salesforceFlowOf(settings: Record<string, unknown>): SalesforceFlow {
  if (filled(settings.authFlow)) return String(settings.authFlow).trim() as SalesforceFlow;
  return ['username', 'password', 'securityToken'].some((name) => filled(settings[name])) ? 'password' : 'client_credentials';
}

/** Settings as stored, with the flow (and the legacy login URL) made explicit. */
function withExplicitFlow(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object') return raw;
  const settings = raw as Record<string, unknown>;
  const authFlow = salesforceFlowOf(settings);
  const loginUrl = !filled(settings.loginUrl) && authFlow === 'password' ? LEGACY_LOGIN_URL : settings.loginUrl;
  return { ...settings, authFlow, loginUrl };
}

export const salesforceSettingsSchema = z.preprocess(
  withExplicitFlow,
  z
    .object({
      region: regionSchema,
      loginUrl: z
        .string({ message: 'Enter your My Domain URL, e.g. https://acme.my.salesforce.com.' })
        .trim()
        .refine((v) => /^https:\/\/[^/?#\s]+\/?$/.test(v), { message: 'Enter your My Domain URL, starting with https:// and without a path, e.g. https://acme.my.salesforce.com.' })
        .transform((v) => v.replace(/\/$/, '')),
      authFlow: z.enum(SALESFORCE_FLOWS, { message: 'Choose how to sign in: client credentials, Connect, or the legacy username and password.' }),
      clientId: z.string().trim().min(1, 'Enter the Consumer Key of your External Client App.'),
      clientSecret: z.string().trim().min(1, 'Enter the Consumer Secret of your External Client App.'),
      username: z.string().trim().default(''),
      password: z.string().default(''),
      securityToken: z.string().trim().default(''),
      refreshToken: z.string().trim().default(''),
    })
    .superRefine((s, ctx) => {
      if (s.authFlow !== 'password' && GENERIC_LOGIN.test(s.loginUrl)) {
        const how = s.authFlow === 'client_credentials' ? 'Client credentials work' : 'Connect works';
        ctx.addIssue({ code: 'custom', path: ['loginUrl'], message: `${how} only at your My Domain URL (Setup > My Domain), e.g. https://acme.my.salesforce.com, not at ${s.loginUrl}.` });
      }
    }),
);
export type SalesforceSettings = z.infer<typeof salesforceSettingsSchema>;

/** Whether the integration signs in by itself (a rule may leave CRM Username and Password empty). */
export function salesforceSignsInAlone(settings: Record<string, unknown>, storedSecrets: ReadonlySet<string>): boolean {
  const flow = salesforceFlowOf(settings);
  if (flow === 'client_credentials') return true;
  if (flow === 'refresh_token') return storedSecrets.has('refreshToken');
  return filled(settings.username) && storedSecrets.has('password');
}

export const salesforceFields: SettingField[] = [
  regionField,
  {
    name: 'loginUrl', label: 'My Domain URL', type: 'url', secret: false, required: true, placeholder: 'https://acme.my.salesforce.com',
    help: 'Your org\'s My Domain URL (Setup > My Domain), e.g. https://acme.my.salesforce.com or https://acme--dev.sandbox.my.salesforce.com. Client credentials and Connect work only there; the legacy username and password also accept https://login.salesforce.com.',
  },
  {
    name: 'authFlow', label: 'Sign-in flow', type: 'select', secret: false, required: true, defaultValue: 'client_credentials',
    help: 'Client credentials: the app signs in as its Run As user (enable "Client Credentials Flow" on the External Client App and choose that user). Connect: a Salesforce user approves once in the browser (web server flow with PKCE). Username and password: legacy only.',
    options: [
      { value: 'client_credentials', label: 'Client credentials (Run As user of the app)' },
      { value: 'refresh_token', label: 'Connect (a user approves in the browser)' },
      { value: 'password', label: 'Username and password (legacy: blocked by default in orgs created since Summer \'23, being retired by Salesforce)' },
    ],
  },
  { name: 'clientId', label: 'Consumer Key', type: 'text', secret: false, required: true, help: 'Consumer Key of the External Client App (Setup > External Client App Manager > the app > Settings > OAuth Settings > Consumer Key and Secret), with the OAuth scope "Manage user data via APIs (api)".' },
  { name: 'clientSecret', label: 'Consumer Secret', type: 'secret', secret: true, required: true, help: 'Consumer Secret of the same app.' },
  { name: 'refreshToken', label: 'Refresh token', type: 'secret', secret: true, required: false, help: 'Connect only: filled by Connect (scopes api and refresh_token). Leave refresh token rotation off on the app.' },
  { name: 'username', label: 'Default username', type: 'text', secret: false, required: false, help: 'Legacy username and password only: used when a rule leaves CRM Username empty.' },
  { name: 'password', label: 'Default password', type: 'secret', secret: true, required: false, help: 'Legacy username and password only: that user\'s password, used when a rule leaves CRM Password empty.' },
  { name: 'securityToken', label: 'Security token', type: 'secret', secret: true, required: false, help: 'Legacy username and password only: appended to the default password; leave empty if your org trusts this server\'s IP range.' },
];

export const salesforceCredentialsHelp = 'Only with the legacy username and password: Username is the Salesforce username, Password the password followed by the security token. Not used with client credentials or Connect.';
