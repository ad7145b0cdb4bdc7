/**
 * "Test rule" runs on the form as it stands, saved or not: the validated draft becomes a Rule for
 * the tester, with secrets left blank taken from the stored rule (as Save would keep them), and
 * the page says whether that is the saved rule or unsaved changes.
 */
import { z } from 'zod';
import type { CrmSource, Rule, RuleDraft } from '../domain/rule';
import type { FieldErrors } from './rule-validation';

/** The Test rule fields of the form, as typed (kept across round trips like every other field). */
export interface TestInputValues {
  callerId: string;
  dtmf: string;
  did: string;
}

const testInput = z.object({
  callerId: z.string().trim().max(40, 'Keep the caller number to 40 characters.').regex(/^[+\d\s().-]*$/, 'Enter the caller number as digits, e.g. +15551234567.'),
  dtmf: z.string().trim().max(20, 'At most 20 digits.').regex(/^[\d*#]*$/, 'Digits may only be 0-9, * and #.'),
  did: z.string().trim().max(40, 'Keep the DID to 40 characters.').regex(/^[+\d]*$/, 'Enter the DID as digits.'),
});

/** The posted test fields (testCallerId, testDtmf, testDid), as typed. */
export function readTestValues(body: unknown): TestInputValues {
  const b = (body ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : '');
  return { callerId: text(b.testCallerId), dtmf: text(b.testDtmf), did: text(b.testDid) };
}

/** The test input checked, or its errors keyed by the form's field names. */
export function checkTestValues(values: TestInputValues): { input: TestInputValues } | { errors: FieldErrors } {
  const parsed = testInput.safeParse(values);
  if (parsed.success) return { input: parsed.data };
  const field = (key: PropertyKey | undefined) => `test${String(key).charAt(0).toUpperCase()}${String(key).slice(1)}`;
  return { errors: Object.fromEntries(parsed.error.issues.map((i) => [field(i.path[0]), i.message])) };
}

/** The draft as a rule to test: the id and version of the rule being edited (0 for a new one). */
export function ruleUnderTest(draft: RuleDraft, tenantId: string, saved: Rule | undefined): Rule {
  return { ...draft, id: saved?.id ?? 0, tenantId, version: saved?.version ?? 0, source: sourceWithStoredSecrets(draft.source, saved?.source) };
}

/** True when testing the form tests exactly what is saved (nothing typed differs, secrets included). */
export function sameAsSaved(tested: Rule, saved: Rule | undefined): boolean {
  return saved !== undefined && JSON.stringify(comparable(tested)) === JSON.stringify(comparable(saved));
}

function sourceWithStoredSecrets(source: RuleDraft['source'], stored: CrmSource | undefined): CrmSource {
  if (source.kind === 'integration') {
    const kept = stored?.kind === 'integration' ? stored.password : '';
    return { ...source, password: source.password ?? kept };
  }
  const storedHeaders = stored?.kind === 'custom' ? stored.headers : [];
  return {
    ...source,
    headers: source.headers.map((h) => ({
      ...h,
      value: h.value ?? storedHeaders.find((s) => s.secret && s.name.toLowerCase() === h.name.toLowerCase())?.value ?? '',
    })),
  };
}

/** The parts of a rule that decide a call, in a fixed order. */
function comparable(rule: Rule): unknown[] {
  return [
    rule.name, rule.fieldName, rule.location, rule.greeting, rule.source, rule.deadlineSeconds,
    rule.defaultDestination, rule.defaultVoicemail, rule.branches, rule.rows,
  ].map((part) => JSON.parse(JSON.stringify(part, sortedKeys)) as unknown);
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
}
