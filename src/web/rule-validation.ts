/**
 * Validates the Routing form against the host's catalog and the tenant's integrations. Every
 * error is keyed by the field it belongs to and says what to do; warnings never block a save.
 * Pure: the one check that needs the database (unique name) is done by the route.
 */
import isSafeRegex from 'safe-regex2';
import { z } from 'zod';
import { customCrmSettingsSchema } from '../crm/custom-crm';
import type { CatalogEntry } from '../host';
import { isCrmKind, type CrmKind } from '../domain/crm-kinds';
import { DESTINATION_TYPE_LABELS, isOwnerKey, type DefaultVoicemail, type DestinationRef } from '../domain/destination';
import { OWNER_FIELDS } from '../crm/owner-fields';
import { OPERATOR_INFO, type Operator } from '../domain/operators';
import { parseNumber } from '../domain/evaluate';
import { DEADLINE_MAX_SECONDS, type Greeting, type OutcomeBranches, type RuleDraft, type RuleRow } from '../domain/rule';
import { isDefaultVoicemail, isDestinationType, isOperator, MAX_HEADERS, MAX_ROWS, type RuleFormValues } from './rule-form';

export interface RuleFormContext {
  catalog: CatalogEntry[];
  /** The tenant's enabled integrations, and whether each stores default credentials. */
  integrations: Array<{ crm: CrmKind; hasDefaultCredentials: boolean; usesUsername: boolean }>;
  /** The rule being edited, for secrets left blank (kept). */
  stored?: { hasPassword: boolean; secretHeaders: string[] };
}

export type FieldErrors = Record<string, string>;

export interface RuleValidation {
  draft?: RuleDraft;
  errors: FieldErrors;
  warnings: FieldErrors;
}

export const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** Pipedrive's custom field keys: 40 hex digits, which often begin with a digit. */
const PIPEDRIVE_FIELD_KEY = /^[0-9a-f]{40}$/;
const CONTROL = /[\r\n\0]/;

export function validateRuleForm(v: RuleFormValues, ctx: RuleFormContext): RuleValidation {
  const errors: FieldErrors = {};
  const warnings: FieldErrors = {};
  const fail = (field: string, message: string) => { errors[field] ??= message; };

  const name = v.name.trim();
  if (name === '') fail('name', 'Enter a rule name; it is how DIDs and IVRs list this rule.');
  else if (name.length > 100) fail('name', 'Keep the rule name to 100 characters or fewer.');
  else if (CONTROL.test(name)) fail('name', 'The rule name cannot contain line breaks.');

  const fieldName = v.fieldName.trim();
  if (fieldName === '') fail('fieldName', "Enter the CRM field's API name, e.g. Account_Name.");
  else if (fieldName.length > 100 || !(FIELD_NAME_PATTERN.test(fieldName) || PIPEDRIVE_FIELD_KEY.test(fieldName))) {
    fail('fieldName', 'Use the API name: letters, digits and underscores (a dot reaches a related record, e.g. Account.Name).');
  }

  const location = v.location === 'ivr' ? 'ivr' : v.location === 'did' ? 'did' : undefined;
  if (!location) fail('location', 'Choose DID or IVR.');
  const greeting = location === 'ivr' ? readGreeting(v, ctx, fail) : null;

  const source = readSource(v, ctx, fail);
  const deadline = integerIn(v.deadlineSeconds, 1, DEADLINE_MAX_SECONDS);
  if (deadline === undefined) fail('deadlineSeconds', `Enter whole seconds from 1 to ${DEADLINE_MAX_SECONDS}; 3 suits most CRMs.`);

  const defaultDestination = readCatalogChoice(v.defaultDestination, ctx.catalog);
  if (!defaultDestination) fail('defaultDestination', 'Choose where calls go when no row matches or the CRM fails.');
  if (!isDefaultVoicemail(v.defaultVoicemail)) fail('defaultVoicemail', 'Choose Yes, No or Not Set.');

  const branches = readBranches(v, location, greeting, ctx.catalog, fail, warnings);
  const rows = readRows(v, ctx, fail, warnings);
  ownerWarnings(v, rows, warnings);

  if (Object.keys(errors).length > 0 || !location || !source || deadline === undefined || !defaultDestination) {
    return { errors, warnings };
  }
  return {
    errors,
    warnings,
    draft: {
      name, fieldName, location, greeting, source, deadlineSeconds: deadline, defaultDestination,
      defaultVoicemail: v.defaultVoicemail as DefaultVoicemail, branches, rows,
    },
  };
}

type Fail = (field: string, message: string) => void;

function readGreeting(v: RuleFormValues, ctx: RuleFormContext, fail: Fail): Greeting | null {
  // Greeting Instructions are the one optional part: no recording means no greeting.
  if (v.greetingRecording.trim() === '') return null;
  const recording = ctx.catalog.find((e) => e.kind === 'recording' && e.id === v.greetingRecording);
  if (!recording) fail('greetingRecording', 'Choose a recording from the list.');
  const maxDigits = integerIn(v.dtmfMaxDigits, 1, 20);
  if (maxDigits === undefined) fail('dtmfMaxDigits', 'Enter how many digits to collect, from 1 to 20.');
  const timeoutSeconds = integerIn(v.dtmfTimeout, 1, 30);
  if (timeoutSeconds === undefined) fail('dtmfTimeout', 'Enter the seconds to wait for digits, from 1 to 30.');
  const retries = integerIn(v.dtmfRetries, 0, 5);
  if (retries === undefined) fail('dtmfRetries', 'Enter how many extra attempts to allow, from 0 to 5.');
  const pattern = v.dtmfPattern.trim();
  const patternError = regexProblem(pattern);
  if (pattern !== '' && patternError) fail('dtmfPattern', patternError);
  if (!recording || maxDigits === undefined || timeoutSeconds === undefined || retries === undefined) return null;
  return { recording: recording.id, maxDigits, timeoutSeconds, retries, pattern };
}

function readSource(v: RuleFormValues, ctx: RuleFormContext, fail: Fail): RuleDraft['source'] | undefined {
  if (v.source === 'custom') return readCustomSource(v, ctx, fail);
  if (v.source !== 'integration') return void fail('source', 'Choose a CRM from CRM > Integration or Custom CRM.');
  const integration = isCrmKind(v.crm) ? ctx.integrations.find((i) => i.crm === v.crm) : undefined;
  if (!integration) {
    fail('crm', ctx.integrations.length === 0
      ? 'No CRM is enabled yet: enable one under CRM > Integration, or use Custom CRM.'
      : 'Choose one of the CRMs enabled under CRM > Integration.');
  }
  const module = v.crmModule.trim();
  if (module === '') fail('crmModule', 'Enter the CRM module to search, e.g. Contacts, Accounts or Leads.');
  else if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(module)) fail('crmModule', 'Use the module API name: letters, digits and underscores, e.g. Contacts.');
  const username = v.crmUsername.trim();
  const needsCredentials = !integration?.hasDefaultCredentials;
  if (username === '' && needsCredentials && integration?.usesUsername !== false) fail('crmUsername', "Enter the CRM username (or store default credentials in the CRM's Integration section).");
  if (CONTROL.test(username)) fail('crmUsername', 'The username cannot contain line breaks.');
  const passwordTyped = v.crmPassword !== '';
  if (!passwordTyped && needsCredentials && !ctx.stored?.hasPassword) fail('crmPassword', 'Enter the CRM password or token.');
  if (!integration) return undefined;
  return { kind: 'integration', crm: integration.crm, module, username, password: passwordTyped ? v.crmPassword : null };
}

function readCustomSource(v: RuleFormValues, ctx: RuleFormContext, fail: Fail): RuleDraft['source'] | undefined {
  const url = v.customUrl.trim();
  if (url === '') fail('customUrl', 'Enter the URL of your CRM middleware.');
  if (v.customPost !== 'yes' && v.customPost !== 'no') fail('customPost', 'Choose Yes or No.');
  if (v.headers.length > MAX_HEADERS) fail('headers', `At most ${MAX_HEADERS} custom headers.`);
  const headers = v.headers.slice(0, MAX_HEADERS).map((h, i) => {
    const secret = h.secret === 'yes';
    const kept = secret && h.value === '' && ctx.stored?.secretHeaders.includes(h.name.trim());
    if (h.value === '' && !kept) fail(`headers.${i}.value`, 'Enter the header value.');
    return { name: h.name.trim(), value: kept ? null : h.value, secret };
  });
  // The connector's own check, so the form never saves what every call would refuse.
  const checked = customCrmSettingsSchema.safeParse({ url, post: v.customPost === 'yes', headers: headers.map((h) => ({ ...h, value: h.value ?? '' })) });
  for (const issue of checked.success ? [] : checked.error.issues) {
    if (issue.path[0] === 'url' && url !== '') fail('customUrl', issue.message);
    if (issue.path[0] === 'headers') fail(issue.path.length > 1 ? `headers.${String(issue.path[1])}.name` : 'headers', issue.message);
  }
  if (url === '' || !checked.success) return undefined;
  return { kind: 'custom', url, post: v.customPost === 'yes', headers };
}

function readRows(v: RuleFormValues, ctx: RuleFormContext, fail: Fail, warnings: FieldErrors): RuleRow[] {
  if (v.rows.length === 0) fail('rows', 'Add at least one row: it is what routes the call.');
  if (v.rows.length > MAX_ROWS) fail('rows', `At most ${MAX_ROWS} rows.`);
  const rows: RuleRow[] = [];
  v.rows.slice(0, MAX_ROWS).forEach((row, i) => {
    const at = (f: string) => `rows.${i}.${f}`;
    if (!isOperator(row.operator)) return void fail(at('operator'), 'Choose an operator.');
    const operator = row.operator as Operator;
    const info = OPERATOR_INFO[operator];
    const value = row.value.trim();
    if (!info.unary && value === '') fail(at('value'), 'Enter the value to compare with.');
    if (value.length > 200) fail(at('value'), 'Keep the value to 200 characters or fewer.');
    if (operator === 'regex') { const problem = regexProblem(value); if (problem) fail(at('value'), problem); }
    if (info.ordering && value !== '' && parseNumber(value) === undefined) {
      warnings[at('value')] = `"${info.symbol}" compares numbers; with "${value}" this row never matches. Use "=" or "contains" for text.`;
    }
    const destination = readRowDestination(row.destType, row.destTarget, ctx.catalog);
    if (typeof destination === 'string') fail(at('destTarget'), destination);
    else rows.push({ operator, value: info.unary ? '' : value, destination });
  });
  return rows;
}

/**
 * A "When the lookup fails" choice: empty (the Default Destination takes that outcome) or a
 * destination of the host's catalog, posted as "kind:id" like the Default Destination.
 */
export function branchDestinationSchema(catalog: readonly CatalogEntry[]) {
  return z.string().trim().max(300).transform((choice, ctx): DestinationRef | null => {
    if (choice === '') return null;
    const destination = readCatalogChoice(choice, catalog);
    if (!destination) {
      ctx.addIssue({ code: 'custom', message: 'This destination is not on this PBX; choose one from the list, or "Default Destination".' });
      return z.NEVER;
    }
    return destination;
  });
}

/** The form field of each branch. */
export const BRANCH_FIELDS = { notFound: 'notFoundDestination', crmError: 'crmErrorDestination', invalidDigits: 'invalidDigitsDestination' } as const satisfies Record<keyof OutcomeBranches, keyof RuleFormValues>;

function readBranches(v: RuleFormValues, location: 'did' | 'ivr' | undefined, greeting: Greeting | null, catalog: CatalogEntry[], fail: Fail, warnings: FieldErrors): OutcomeBranches {
  const schema = branchDestinationSchema(catalog);
  const read = (key: keyof OutcomeBranches): DestinationRef | null => {
    const field = BRANCH_FIELDS[key];
    const parsed = schema.safeParse(v[field]);
    if (!parsed.success) {
      fail(field, parsed.error.issues[0]?.message ?? 'Choose a destination from the list.');
      return null;
    }
    return parsed.data;
  };
  const notFound = read('notFound');
  const crmError = read('crmError');
  // A DID rule collects no digits: the choice stays in the form (the location may change back) but is not saved.
  const invalidDigits = location === 'ivr' ? read('invalidDigits') : null;
  if (invalidDigits && location === 'ivr' && v.greetingRecording.trim() === '' && !greeting) {
    warnings[BRANCH_FIELDS.invalidDigits] = 'This rule has no greeting, so it never collects digits: "No or invalid digits" is never used.';
  }
  return { notFound, crmError, invalidDigits };
}

function readRowDestination(type: string, target: string, catalog: CatalogEntry[]): DestinationRef | string {
  if (!isDestinationType(type)) return 'Choose a destination type.';
  if (type === 'hangup') return { type, target: '' };
  if (type === 'owner') return isOwnerKey(target.trim()) ? { type, target: target.trim() } : 'Choose what the CRM value holds: the owner\'s e-mail, extension number or CRM user id.';
  const label = DESTINATION_TYPE_LABELS[type];
  if (target.trim() === '') return `Choose the ${label.toLowerCase()} to send the call to.`;
  const entry = catalog.find((e) => e.kind === type && e.id === target.trim());
  return entry ? { type, target: entry.id } : `${label} "${target}" does not exist on this PBX; choose one from the list.`;
}

/**
 * "Owner's extension" rows a call could never follow: a user id where the CRM (or a Custom CRM)
 * cannot turn one into an e-mail, and each CRM's usual owner field read the wrong way.
 */
function ownerWarnings(v: RuleFormValues, rows: RuleRow[], warnings: FieldErrors): void {
  const crm = v.source === 'integration' && isCrmKind(v.crm) ? v.crm : undefined;
  const known = crm ? OWNER_FIELDS[crm] : undefined;
  rows.forEach((row, i) => {
    if (row.destination.type !== 'owner') return;
    const at = `rows.${i}.destTarget`;
    if (row.destination.target === 'user_id' && (v.source === 'custom' || (known && !known.resolvesUserId))) {
      warnings[at] = v.source === 'custom'
        ? 'A Custom CRM cannot look users up: have it answer with the owner\'s e-mail or extension, or these calls go to the default destination (OWNER_UNKNOWN).'
        : `${known!.label} gives the owner's e-mail in the record (field ${known!.field}): read that field and choose "e-mail", or these calls go to the default destination (OWNER_UNKNOWN).`;
    } else if (known && known.key !== row.destination.target && v.fieldName.trim().toLowerCase() === known.field.toLowerCase()) {
      warnings[at] = `${known.label}'s ${known.field} holds ${known.key === 'email' ? 'an e-mail address' : 'a user id'}: choose "${known.key === 'email' ? 'e-mail' : 'CRM user id'}".`;
    }
  });
}

/** A catalog choice posted as "kind:id". */
export function readCatalogChoice(choice: string, catalog: readonly CatalogEntry[]): DestinationRef | undefined {
  const at = choice.indexOf(':');
  if (at < 0) return undefined;
  const kind = choice.slice(0, at);
  const id = choice.slice(at + 1);
  if (kind === 'hangup') return { type: 'hangup', target: '' };
  const entry = catalog.find((e) => e.kind === kind && e.id === id);
  return entry && isDestinationType(entry.kind) ? { type: entry.kind, target: entry.id } : undefined;
}

export function catalogChoice(dest: DestinationRef): string {
  return `${dest.type}:${dest.target}`;
}

/** Why a pattern cannot be used, or undefined when it is fine. */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > 200) return 'Keep the pattern to 200 characters or fewer.';
  try {
    new RegExp(pattern);
  } catch (err) {
    return `Not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  // Nested repetition can take exponential time on some inputs and stall every call in progress.
  if (!isSafeRegex(pattern)) return 'This pattern could take too long on some values (nested repetition such as (a+)+). Simplify it.';
  return undefined;
}

function integerIn(text: string, min: number, max: number): number | undefined {
  if (!/^\s*\d{1,3}\s*$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}
