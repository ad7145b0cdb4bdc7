/**
 * The Routing form as data: what the browser posts (flat names, repeated for rows and headers,
 * so it works without JavaScript), what is rendered back (every typed value kept), and the
 * validation that turns it into a rule draft or a list of errors keyed by field.
 */
import { z } from 'zod';
import { DEFAULT_VOICEMAIL, DESTINATION_TYPES, type DestinationType } from '../domain/destination';
import { OPERATORS } from '../domain/operators';

export interface RowValues {
  operator: string;
  value: string;
  destType: string;
  destTarget: string;
}

export interface HeaderValues {
  name: string;
  /** Empty for a stored secret left unchanged. */
  value: string;
  secret: string;
}

/** Everything the form holds, as strings, exactly as typed. */
export interface RuleFormValues {
  name: string;
  fieldName: string;
  location: string;
  greetingRecording: string;
  dtmfMaxDigits: string;
  dtmfTimeout: string;
  dtmfRetries: string;
  dtmfPattern: string;
  source: string;
  crm: string;
  crmModule: string;
  crmUsername: string;
  crmPassword: string;
  customUrl: string;
  customPost: string;
  headers: HeaderValues[];
  deadlineSeconds: string;
  defaultDestination: string;
  defaultVoicemail: string;
  /** "When the lookup fails": catalog choices ("kind:id"); empty sends that outcome to the default destination. */
  notFoundDestination: string;
  crmErrorDestination: string;
  invalidDigitsDestination: string;
  rows: RowValues[];
  /** The rule's version when the form was opened (stale-save detection). */
  version: string;
  /** Secrets typed earlier in this form, sealed (see secret-drafts.ts); never a secret in clear. */
  secretDraft: string;
}

export const MAX_ROWS = 100;
export const MAX_HEADERS = 20;

export function emptyRuleForm(): RuleFormValues {
  return {
    name: '', fieldName: '', location: 'did', greetingRecording: '', dtmfMaxDigits: '4', dtmfTimeout: '5',
    dtmfRetries: '2', dtmfPattern: '', source: 'integration', crm: '', crmModule: '', crmUsername: '',
    crmPassword: '', customUrl: '', customPost: 'no', headers: [], deadlineSeconds: '3',
    defaultDestination: '', defaultVoicemail: 'unset', notFoundDestination: '', crmErrorDestination: '', invalidDigitsDestination: '',
    rows: [emptyRow()], version: '', secretDraft: '',
  };
}

export function emptyRow(): RowValues {
  return { operator: 'eq', value: '', destType: 'queue', destTarget: '' };
}

const text = (max: number) => z.preprocess((v) => (Array.isArray(v) ? v[0] : v), z.string().max(max * 4).catch('').default(''));
const list = z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.string().catch('')).catch([]));

/** The posted body: anything missing or of the wrong shape becomes empty, never a crash. */
const postedForm = z.object({
  name: text(200), fieldName: text(200), location: text(10), greetingRecording: text(200),
  dtmfMaxDigits: text(10), dtmfTimeout: text(10), dtmfRetries: text(10), dtmfPattern: text(200),
  source: text(20), crm: text(40), crmModule: text(100), crmUsername: text(200), crmPassword: text(1000),
  customUrl: text(2000), customPost: text(5), deadlineSeconds: text(10), defaultDestination: text(300),
  defaultVoicemail: text(10), version: text(20), secretDraft: text(6000),
  notFoundDestination: text(300), crmErrorDestination: text(300), invalidDigitsDestination: text(300),
  header_name: list, header_value: list, header_secret: list,
  row_operator: list, row_value: list, row_dest_type: list, row_dest_target: list,
});

/** Reads a posted form (express.urlencoded, extended: false) into form values. */
export function readRuleForm(body: unknown): RuleFormValues {
  const f = postedForm.parse(body ?? {});
  const rows = f.row_operator.slice(0, MAX_ROWS + 1).map((operator, i) => ({
    operator, value: f.row_value[i] ?? '', destType: f.row_dest_type[i] ?? '', destTarget: f.row_dest_target[i] ?? '',
  }));
  const headers = f.header_name.slice(0, MAX_HEADERS + 1).map((name, i) => ({
    name, value: f.header_value[i] ?? '', secret: f.header_secret[i] ?? 'no',
  }));
  return {
    name: f.name, fieldName: f.fieldName, location: f.location, greetingRecording: f.greetingRecording,
    dtmfMaxDigits: f.dtmfMaxDigits, dtmfTimeout: f.dtmfTimeout, dtmfRetries: f.dtmfRetries, dtmfPattern: f.dtmfPattern,
    source: f.source, crm: f.crm, crmModule: f.crmModule, crmUsername: f.crmUsername, crmPassword: f.crmPassword,
    customUrl: f.customUrl, customPost: f.customPost, deadlineSeconds: f.deadlineSeconds,
    defaultDestination: f.defaultDestination, defaultVoicemail: f.defaultVoicemail, version: f.version, secretDraft: f.secretDraft,
    notFoundDestination: f.notFoundDestination, crmErrorDestination: f.crmErrorDestination, invalidDigitsDestination: f.invalidDigitsDestination,
    // Blank trailing header lines are what an empty "add header" slot looks like: not an error.
    headers: headers.filter((h) => h.name.trim() !== '' || h.value.trim() !== ''),
    rows,
  };
}

/** Where a secret of the rule form is kept in its draft: the CRM Password, and each secret header by name. */
export const RULE_PASSWORD_SECRET = 'crmPassword';
const headerSecret = (name: string) => `header:${name.trim().toLowerCase()}`;

/** The secrets typed in the form: the CRM Password and the values of headers marked secret. */
export function typedRuleSecrets(values: RuleFormValues): Record<string, string> {
  const secrets: Record<string, string> = {};
  if (values.crmPassword !== '') secrets[RULE_PASSWORD_SECRET] = values.crmPassword;
  for (const h of values.headers) if (h.secret === 'yes' && h.value !== '' && h.name.trim() !== '') secrets[headerSecret(h.name)] = h.value;
  return secrets;
}

/** Secret fields left empty take the value kept in the draft; what was typed now wins. */
export function withKeptSecrets(values: RuleFormValues, kept: Record<string, string>): RuleFormValues {
  return {
    ...values,
    crmPassword: values.crmPassword !== '' ? values.crmPassword : (kept[RULE_PASSWORD_SECRET] ?? ''),
    headers: values.headers.map((h) => (h.secret === 'yes' && h.value === '' ? { ...h, value: kept[headerSecret(h.name)] ?? '' } : h)),
  };
}

/** The form as the page may show it: every secret blanked (they travel in the sealed draft). */
export function withoutSecrets(values: RuleFormValues): RuleFormValues {
  return { ...values, crmPassword: '', headers: values.headers.map((h) => (h.secret === 'yes' ? { ...h, value: '' } : h)) };
}

/** Which typed secrets the draft keeps, for the page to say so next to each field. */
export function keptSecretsOf(values: RuleFormValues): { password: boolean; headers: string[] } {
  const typed = typedRuleSecrets(values);
  return {
    password: RULE_PASSWORD_SECRET in typed,
    headers: values.headers.filter((h) => headerSecret(h.name) in typed).map((h) => h.name.trim()),
  };
}

/** Form buttons that change the form without saving it (so rows work without JavaScript). */
export type FormEdit =
  | { kind: 'add_row' }
  | { kind: 'remove_row'; index: number }
  | { kind: 'move_row'; index: number; by: -1 | 1 }
  | { kind: 'add_header' }
  | { kind: 'remove_header'; index: number };

export function readFormEdit(action: unknown): FormEdit | undefined {
  if (typeof action !== 'string') return undefined;
  if (action === 'add_row') return { kind: 'add_row' };
  if (action === 'add_header') return { kind: 'add_header' };
  const m = /^(remove_row|up|down|remove_header):(\d{1,3})$/.exec(action);
  if (!m) return undefined;
  const index = Number(m[2]);
  if (m[1] === 'remove_row') return { kind: 'remove_row', index };
  if (m[1] === 'remove_header') return { kind: 'remove_header', index };
  return { kind: 'move_row', index, by: m[1] === 'up' ? -1 : 1 };
}

export function applyFormEdit(values: RuleFormValues, edit: FormEdit): RuleFormValues {
  const rows = [...values.rows];
  const headers = [...values.headers];
  switch (edit.kind) {
    case 'add_row':
      if (rows.length < MAX_ROWS) rows.push(emptyRow());
      break;
    case 'remove_row':
      rows.splice(edit.index, 1);
      break;
    case 'move_row': {
      const to = edit.index + edit.by;
      if (edit.index < rows.length && to >= 0 && to < rows.length) [rows[edit.index], rows[to]] = [rows[to]!, rows[edit.index]!];
      break;
    }
    case 'add_header':
      if (headers.length < MAX_HEADERS) headers.push({ name: '', value: '', secret: 'no' });
      break;
    case 'remove_header':
      headers.splice(edit.index, 1);
      break;
  }
  return { ...values, rows, headers };
}

export const isOperator = (v: string) => (OPERATORS as readonly string[]).includes(v);
export const isDestinationType = (v: string): v is DestinationType => (DESTINATION_TYPES as readonly string[]).includes(v);
export const isDefaultVoicemail = (v: string) => (DEFAULT_VOICEMAIL as readonly string[]).includes(v);
