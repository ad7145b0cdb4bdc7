/**
 * The shapes of Zoho CRM's answers the connector reads, checked with zod at the edge. Zoho adds
 * keys freely, so objects are loose; only what the connector uses is required.
 */
import { z } from 'zod';

export const searchAnswer = z.looseObject({ data: z.array(z.record(z.string(), z.unknown())) });
export const modulesAnswer = z.looseObject({
  modules: z.array(z.looseObject({ api_name: z.string(), api_supported: z.boolean().optional(), generated_type: z.string().optional() })),
});
export const fieldsAnswer = z.looseObject({
  fields: z.array(z.looseObject({ api_name: z.string(), field_label: z.string().optional(), data_type: z.string().optional() })),
});
