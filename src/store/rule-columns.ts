/**
 * How a Rule is laid out in the rules and rule_rows tables, and how its secrets are sealed there:
 * the integration password in `crm_password`, each secret custom header's value inside the
 * `custom_headers` JSON. Knows nothing of queries; the store decides when to read and write.
 */
import type { CrmKind } from '../domain/crm-kinds';
import type { DefaultVoicemail, DestinationRef, DestinationType } from '../domain/destination';
import type { Operator } from '../domain/operators';
import type { CrmSource, CustomHeader, Location, OutcomeBranches, Rule, RuleDraft, RuleRow } from '../domain/rule';
import { toBoolean, toNullableNumber, toNumber } from './db-values';
import type { SealContext, Sealer } from './sealing';
import { MissingSecretError } from './store-errors';

/** A draft's CRM source: secrets may be null, meaning "keep the stored one". */
export type CrmSourceDraft = RuleDraft['source'];

/** A row of the rules table as the database returns it. */
export interface RuleColumns {
  id: unknown;
  tenant_id: string;
  name: string;
  field_name: string;
  location: string;
  greeting_recording: string | null;
  greeting_max_digits: unknown;
  greeting_timeout_seconds: unknown;
  greeting_retries: unknown;
  greeting_pattern: string | null;
  source: string;
  crm: string | null;
  crm_module: string | null;
  crm_username: string | null;
  crm_password: string | null;
  custom_url: string | null;
  custom_post: unknown;
  custom_headers: string | null;
  deadline_seconds: unknown;
  default_dest_type: string;
  default_dest_target: string;
  default_voicemail: string;
  /** "When the lookup fails" (migration 20261207000001); null: the default destination. */
  not_found_dest_type?: string | null;
  not_found_dest_target?: string | null;
  crm_error_dest_type?: string | null;
  crm_error_dest_target?: string | null;
  invalid_digits_dest_type?: string | null;
  invalid_digits_dest_target?: string | null;
  version: unknown;
}

/** Each branch of OutcomeBranches and the column prefix it is stored under. */
const BRANCH_COLUMNS: ReadonlyArray<[keyof OutcomeBranches, 'not_found' | 'crm_error' | 'invalid_digits']> = [
  ['notFound', 'not_found'], ['crmError', 'crm_error'], ['invalidDigits', 'invalid_digits'],
];

/** A row of the rule_rows table as the database returns it. */
export interface RuleRowColumns {
  rule_id: unknown;
  position: unknown;
  operator: string;
  value: string;
  dest_type: string;
  dest_target: string;
}

/** How a custom header sits inside the custom_headers JSON; a secret's value is sealed. */
interface StoredHeader {
  name: string;
  secret: boolean;
  value: string;
}

const PASSWORD_PURPOSE = 'rules.crm_password';

/** Header names compare ignoring case (HTTP), and the seal is bound to the header it belongs to. */
function headerContext(tenantId: string, headerName: string): SealContext {
  return { tenantId, purpose: `rules.custom_headers:${headerName.toLowerCase()}` };
}

export class RuleColumnMapper {
  constructor(private readonly sealer: Sealer) {}

  /**
   * Turns a draft's source into a full one: a null secret takes the value stored in `stored`
   * (the rule's current row). A kept password with nothing stored is empty (CRMs that need none);
   * a kept header with nothing stored under that name (ignoring case) is a MissingSecretError.
   */
  resolveSource(tenantId: string, draft: CrmSourceDraft, stored: RuleColumns | undefined): CrmSource {
    if (draft.kind === 'integration') {
      const password = draft.password ?? this.storedPassword(tenantId, stored);
      return { kind: 'integration', crm: draft.crm, module: draft.module, username: draft.username, password };
    }
    const storedHeaders = parseHeaders(stored?.custom_headers ?? null);
    const headers = draft.headers.map((header): CustomHeader => {
      if (header.value !== null) return { name: header.name, secret: header.secret, value: header.value };
      // Only kept values are opened, so replacing every secret works even after a key change.
      const kept = storedHeaders.find((h) => h.name.toLowerCase() === header.name.toLowerCase());
      if (kept === undefined) throw new MissingSecretError(header.name);
      const value = kept.secret ? this.sealer.open(kept.value, headerContext(tenantId, kept.name)) : kept.value;
      return { name: header.name, secret: header.secret, value };
    });
    return { kind: 'custom', url: draft.url, post: draft.post, headers };
  }

  /** Columns of the rules table for a rule (identity, version and timestamps are the store's). */
  toColumns(tenantId: string, rule: Omit<Rule, 'id' | 'tenantId' | 'version'>): Record<string, unknown> {
    const { greeting, source } = rule;
    return {
      tenant_id: tenantId,
      name: rule.name,
      field_name: rule.fieldName,
      location: rule.location,
      greeting_recording: greeting?.recording ?? null,
      greeting_max_digits: greeting?.maxDigits ?? null,
      greeting_timeout_seconds: greeting?.timeoutSeconds ?? null,
      greeting_retries: greeting?.retries ?? null,
      greeting_pattern: greeting?.pattern ?? null,
      source: source.kind,
      crm: source.kind === 'integration' ? source.crm : null,
      crm_module: source.kind === 'integration' ? source.module : null,
      crm_username: source.kind === 'integration' ? source.username : null,
      // An empty password is stored as "none" rather than as a sealed empty string.
      crm_password:
        source.kind === 'integration' && source.password !== ''
          ? this.sealer.seal(source.password, { tenantId, purpose: PASSWORD_PURPOSE })
          : null,
      custom_url: source.kind === 'custom' ? source.url : null,
      custom_post: source.kind === 'custom' ? source.post : false,
      custom_headers: source.kind === 'custom' ? JSON.stringify(source.headers.map((h) => this.sealHeader(tenantId, h))) : null,
      deadline_seconds: rule.deadlineSeconds,
      default_dest_type: rule.defaultDestination.type,
      default_dest_target: rule.defaultDestination.target,
      default_voicemail: rule.defaultVoicemail,
      ...branchColumns(rule.branches),
    };
  }

  rowsToColumns(tenantId: string, ruleId: number, rows: readonly RuleRow[]): Array<Record<string, unknown>> {
    return rows.map((row, position) => ({
      tenant_id: tenantId,
      rule_id: ruleId,
      position,
      operator: row.operator,
      value: row.value,
      dest_type: row.destination.type,
      dest_target: row.destination.target,
    }));
  }

  /** A Rule with its secrets opened; `rows` must already be in position order. */
  fromColumns(columns: RuleColumns, rows: readonly RuleRowColumns[]): Rule {
    const tenantId = columns.tenant_id;
    return {
      id: toNumber(columns.id),
      tenantId,
      name: columns.name,
      fieldName: columns.field_name,
      location: columns.location as Location,
      greeting:
        columns.greeting_recording === null
          ? null
          : {
              recording: columns.greeting_recording,
              maxDigits: toNullableNumber(columns.greeting_max_digits) ?? 0,
              timeoutSeconds: toNullableNumber(columns.greeting_timeout_seconds) ?? 0,
              retries: toNullableNumber(columns.greeting_retries) ?? 0,
              pattern: columns.greeting_pattern ?? '',
            },
      source: this.sourceFromColumns(columns),
      deadlineSeconds: toNumber(columns.deadline_seconds),
      defaultDestination: { type: columns.default_dest_type as DestinationType, target: columns.default_dest_target },
      defaultVoicemail: columns.default_voicemail as DefaultVoicemail,
      branches: branchesFromColumns(columns),
      rows: rows.map((row) => ({
        operator: row.operator as Operator,
        value: row.value,
        destination: { type: row.dest_type as DestinationType, target: row.dest_target },
      })),
      version: toNumber(columns.version),
    };
  }

  private sourceFromColumns(columns: RuleColumns): CrmSource {
    const tenantId = columns.tenant_id;
    if (columns.source === 'integration') {
      return {
        kind: 'integration',
        crm: columns.crm as CrmKind,
        module: columns.crm_module ?? '',
        username: columns.crm_username ?? '',
        password: this.storedPassword(tenantId, columns),
      };
    }
    return {
      kind: 'custom',
      url: columns.custom_url ?? '',
      post: toBoolean(columns.custom_post),
      headers: this.openHeaders(tenantId, columns.custom_headers),
    };
  }

  private storedPassword(tenantId: string, stored: RuleColumns | undefined): string {
    const sealed = stored?.crm_password ?? null;
    return sealed === null ? '' : this.sealer.open(sealed, { tenantId, purpose: PASSWORD_PURPOSE });
  }

  private sealHeader(tenantId: string, header: CustomHeader): StoredHeader {
    const value = header.secret ? this.sealer.seal(header.value, headerContext(tenantId, header.name)) : header.value;
    return { name: header.name, secret: header.secret, value };
  }

  private openHeaders(tenantId: string, json: string | null): CustomHeader[] {
    return parseHeaders(json).map((h) => ({
      name: h.name,
      secret: h.secret,
      value: h.secret ? this.sealer.open(h.value, headerContext(tenantId, h.name)) : h.value,
    }));
  }
}

function parseHeaders(json: string | null): StoredHeader[] {
  return json === null || json === '' ? [] : (JSON.parse(json) as StoredHeader[]);
}

function branchColumns(branches: OutcomeBranches): Record<string, string | null> {
  const columns: Record<string, string | null> = {};
  for (const [key, column] of BRANCH_COLUMNS) {
    const destination = branches[key];
    columns[`${column}_dest_type`] = destination?.type ?? null;
    columns[`${column}_dest_target`] = destination === null ? null : destination.target;
  }
  return columns;
}

function branchesFromColumns(columns: RuleColumns): OutcomeBranches {
  const read = (column: string): DestinationRef | null => {
    const type = (columns as unknown as Record<string, string | null | undefined>)[`${column}_dest_type`];
    const target = (columns as unknown as Record<string, string | null | undefined>)[`${column}_dest_target`];
    return type ? { type: type as DestinationType, target: target ?? '' } : null;
  };
  return { notFound: read('not_found'), crmError: read('crm_error'), invalidDigits: read('invalid_digits') };
}
