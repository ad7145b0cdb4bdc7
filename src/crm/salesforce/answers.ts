/**
 * The shapes of Salesforce's REST answers the connector reads, checked with zod at the edge.
 */
import { z } from 'zod';

const record = z.record(z.string(), z.unknown());
export const searchAnswer = z.looseObject({ searchRecords: z.array(record) });
export const sobjectsAnswer = z.looseObject({
  sobjects: z.array(z.looseObject({ name: z.string(), searchable: z.boolean().optional(), custom: z.boolean().optional() })),
});
export const describeAnswer = z.looseObject({
  fields: z.array(z.looseObject({ name: z.string(), label: z.string().optional(), type: z.string().optional(), relationshipName: z.string().nullable().optional() })),
});
