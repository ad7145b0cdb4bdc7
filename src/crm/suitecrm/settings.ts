/** SuiteCRM's integration settings, shared by the connector and the V8 protocol. */
import { z } from 'zod';
import { isHttpsUrl, regionSchema } from '../shared/common-settings';

const httpsSite = z.string({ error: 'Enter the SuiteCRM address, starting with https://.' }).trim().refine(isHttpsUrl, { message: 'Enter the SuiteCRM address, starting with https:// (e.g. https://crm.example.com).' });
export const suitecrmSchema = z
  .object({
    site: httpsSite.transform((url) => url.replace(/\/+$/, '')),
    apiVersion: z.enum(['v8', 'v4_1'], { error: 'Choose the API: V8 (SuiteCRM 7.10+ and 8) or legacy v4_1.' }).default('v8'),
    apiPath: z.enum(['auto', 'Api', 'legacy/Api'], { error: 'Choose where the V8 API lives: auto, Api (7.x) or legacy/Api (8.x).' }).default('auto'),
    clientId: z.string().trim().default(''),
    clientSecret: z.string().trim().default(''),
    username: z.string().trim().default(''),
    password: z.string().default(''),
    region: regionSchema,
  })
  .superRefine((s, ctx) => {
    if (s.apiVersion !== 'v8') return;
    if (!s.clientId) ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'The V8 API needs the OAuth2 client id (Admin > OAuth2 Clients and Tokens).' });
    if (!s.clientSecret) ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'The V8 API needs the OAuth2 client secret.' });
  });
export type SuiteCrmSettings = z.infer<typeof suitecrmSchema>;
