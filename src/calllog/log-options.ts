/**
 * The log options of one integration (CRM > Integration, "Log calls" in each CRM's section):
 * whether and which finished calls are written into the CRM, and how. Validated with zod from
 * the form and from storage alike. Pure: no I/O.
 */
import { z } from 'zod';

/** The kinds of call an administrator switches on one by one. */
export const CALL_KINDS = ['inboundAnswered', 'inboundMissed', 'inboundAbandoned', 'busy', 'outbound'] as const;
export type CallKind = (typeof CALL_KINDS)[number];

export const CALL_KIND_LABELS: Record<CallKind, string> = {
  inboundAnswered: 'Inbound answered',
  inboundMissed: 'Inbound missed',
  inboundAbandoned: 'Inbound abandoned (the caller hung up while waiting)',
  busy: 'Busy',
  outbound: 'Outbound',
};

/** The placeholders of the subject template, with what each becomes. */
export const SUBJECT_PLACEHOLDERS = {
  direction: 'Inbound or Outbound',
  caller: "the outside party's number",
  did: 'the DID an inbound call came in on',
  agent: "the agent's name (or extension)",
  duration: 'talk time, e.g. 2m 05s',
  disposition: 'Answered, Missed, Abandoned, Busy or Failed',
  rule: 'the routing rule that routed the call',
  outcome: "the routing outcome (matched row, the default destination's reason)",
} as const;
export type SubjectPlaceholder = keyof typeof SUBJECT_PLACEHOLDERS;

export const DEFAULT_SUBJECT = '{direction} call {caller} ({disposition}, {duration})';
export const MAX_MIN_SECONDS = 86_400;
export const SUBJECT_MAX_LENGTH = 200;

const TOKEN = /\{([A-Za-z0-9_]+)\}/g;

export const unknownCallerChoices = ['skip', 'contact', 'lead'] as const;
export type UnknownCallerChoice = (typeof unknownCallerChoices)[number];

export const callLogOptionsSchema = z.object({
  enabled: z.boolean(),
  calls: z.object(Object.fromEntries(CALL_KINDS.map((k) => [k, z.boolean()])) as Record<CallKind, z.ZodBoolean>),
  minSeconds: z.number().int('Enter whole seconds.').min(0, 'Enter 0 or more seconds.').max(MAX_MIN_SECONDS, `At most ${MAX_MIN_SECONDS} seconds (a day).`),
  unknownCaller: z.enum(unknownCallerChoices),
  subject: z.string().trim().min(1, 'Enter a subject template, e.g. {direction} call {caller}.').max(SUBJECT_MAX_LENGTH, `At most ${SUBJECT_MAX_LENGTH} characters.`)
    .refine((s) => !/[\r\n]/.test(s), 'The subject is one line.')
    .superRefine((s, ctx) => {
      const unknown = [...s.matchAll(TOKEN)].map((m) => m[1]!).filter((n) => !Object.hasOwn(SUBJECT_PLACEHOLDERS, n));
      if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `Unknown placeholder {${unknown[0]}}: use ${Object.keys(SUBJECT_PLACEHOLDERS).map((p) => `{${p}}`).join(' ')}.` });
    }),
  /** Put the routing decision (rule, value, row, destination) of a routed call in the notes. */
  routingNotes: z.boolean(),
});
export type CallLogOptions = z.infer<typeof callLogOptionsSchema>;

export const DEFAULT_LOG_OPTIONS: CallLogOptions = {
  enabled: false,
  calls: { inboundAnswered: true, inboundMissed: true, inboundAbandoned: true, busy: true, outbound: true },
  minSeconds: 0,
  unknownCaller: 'skip',
  subject: DEFAULT_SUBJECT,
  routingNotes: true,
};

/** Stored options, or the defaults for what is missing or unreadable (an older shape). */
export function storedLogOptions(json: unknown): CallLogOptions {
  const parsed = callLogOptionsSchema.safeParse({ ...DEFAULT_LOG_OPTIONS, ...(typeof json === 'object' && json !== null ? json : {}) });
  return parsed.success ? parsed.data : DEFAULT_LOG_OPTIONS;
}

/** The form's fields as typed (kept on errors), and the options when they are valid. */
export interface LogOptionsForm {
  values: Record<string, string>;
  options?: CallLogOptions;
  errors: Record<string, string>;
}

/** Reads the options form (checkboxes arrive as "yes" or not at all). */
export function readLogOptionsForm(text: (name: string, max?: number) => string): LogOptionsForm {
  const values: Record<string, string> = {
    enabled: text('logEnabled') === 'yes' ? 'yes' : '',
    minSeconds: text('minSeconds', 20).trim(),
    unknownCaller: text('unknownCaller', 20),
    subject: text('subject', 1000),
    routingNotes: text('routingNotes') === 'yes' ? 'yes' : '',
  };
  for (const kind of CALL_KINDS) values[`call_${kind}`] = text(`call_${kind}`) === 'yes' ? 'yes' : '';
  const minSeconds = values.minSeconds === '' ? 0 : /^\d{1,9}$/.test(values.minSeconds!) ? Number(values.minSeconds) : Number.NaN;
  const parsed = callLogOptionsSchema.safeParse({
    enabled: values.enabled === 'yes',
    calls: Object.fromEntries(CALL_KINDS.map((k) => [k, values[`call_${k}`] === 'yes'])),
    minSeconds,
    unknownCaller: values.unknownCaller,
    subject: values.subject,
    routingNotes: values.routingNotes === 'yes',
  });
  if (parsed.success) return { values, options: parsed.data, errors: {} };
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const path = String(issue.path[0] ?? 'form');
    const field = path === 'calls' ? 'calls' : path;
    errors[field] ??= path === 'minSeconds' && Number.isNaN(minSeconds) ? 'Enter whole seconds, e.g. 10.'
      : path === 'unknownCaller' ? 'Choose what to do with calls from unknown numbers.'
      : issue.message;
  }
  return { values, errors };
}

/** The form's fields for stored options. */
export function logOptionsValues(options: CallLogOptions): Record<string, string> {
  const values: Record<string, string> = {
    enabled: options.enabled ? 'yes' : '', minSeconds: String(options.minSeconds), unknownCaller: options.unknownCaller,
    subject: options.subject, routingNotes: options.routingNotes ? 'yes' : '',
  };
  for (const kind of CALL_KINDS) values[`call_${kind}`] = options.calls[kind] ? 'yes' : '';
  return values;
}
