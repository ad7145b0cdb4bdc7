/**
 * Which rule a FastAGI request asks for, and whether the dialplan line it came from was signed
 * for that rule and tenant: `agi://host:port/crm-routing?rule=<id>&tenant=<tenant>&sig=<sig>`
 * (agi_network_script). Nothing else selects a rule: the old `AGI(agi://host/crm-routing,<id>)`
 * form (rule id in agi_arg_1) carries no signature and is refused like any unsigned line.
 *
 * A line that names rule, tenant or sig twice is refused too, whatever the values: which one a
 * reader takes is exactly the ambiguity an altered line would live on.
 */
import type { DialplanSigner, SignatureCheck } from './dialplan-signature';

export type RuleRequest =
  | { kind: 'signed'; ruleId: number; tenantId: string; key: Exclude<SignatureCheck, 'invalid'> }
  /** BAD_REQUEST: not the plugin's AGI path. FORBIDDEN: no valid signature for the rule and tenant named. */
  | { kind: 'refused'; status: 'BAD_REQUEST' | 'FORBIDDEN'; reason: string; ruleId?: string };

const ID = /^[1-9]\d{0,9}$/;
const SIGNED = ['rule', 'tenant', 'sig'] as const;

export function readRuleRequest(networkScript: string, agiPath: string, signer: DialplanSigner): RuleRequest {
  const mark = networkScript.indexOf('?');
  const path = mark === -1 ? networkScript : networkScript.slice(0, mark);
  if (trimSlashes(path) !== agiPath) return { kind: 'refused', status: 'BAD_REQUEST', reason: `the AGI path is not /${agiPath}` };
  const params = signedParams(mark === -1 ? '' : networkScript.slice(mark + 1));
  if ('repeated' in params) return forbidden(`"${params.repeated}" appears more than once in the line`, params.rule);
  const { rule, tenant, sig } = params;
  if (rule === undefined) return forbidden('the line names no rule (rule=)');
  if (tenant === undefined || tenant === '') return forbidden('the line names no tenant (tenant=)', rule);
  if (sig === undefined) return forbidden('the line carries no signature (sig=)', rule);
  if (!ID.test(rule)) return forbidden('the rule id is not a number', rule);
  const key = signer.verify(rule, tenant, sig);
  if (key === 'invalid') return forbidden('the signature does not match the rule and tenant (an altered line, or one signed with another key)', rule);
  return { kind: 'signed', ruleId: Number(rule), tenantId: tenant, key };
}

function forbidden(reason: string, ruleId?: string): RuleRequest {
  return { kind: 'refused', status: 'FORBIDDEN', reason, ...(ruleId === undefined ? {} : { ruleId: ruleId.slice(0, 20) }) };
}

type SignedParams = { rule?: string; tenant?: string; sig?: string } | { repeated: string; rule?: string };

/**
 * rule, tenant and sig of a query string, decoded as URLSearchParams decodes them. A plain query
 * (no `%` or `+`) is read directly: it is every call's, and URLSearchParams costs more than the
 * rest of this file.
 */
export function signedParams(query: string): SignedParams {
  const found: Record<string, string> = {};
  const keep = (key: string, value: string): string | undefined => {
    if (!(SIGNED as readonly string[]).includes(key)) return undefined;
    if (key in found) return key;
    found[key] = value;
    return undefined;
  };
  if (query.includes('%') || query.includes('+')) {
    for (const [key, value] of new URLSearchParams(query)) {
      const repeated = keep(key, value);
      if (repeated) return { repeated, rule: found.rule };
    }
    return found;
  }
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    if (end > start) {
      const equals = query.indexOf('=', start);
      const keyEnd = equals === -1 || equals > end ? end : equals;
      const repeated = keep(query.slice(start, keyEnd), keyEnd === end ? '' : query.slice(keyEnd + 1, end));
      if (repeated) return { repeated, rule: found.rule };
    }
    start = end + 1;
  }
  return found;
}

function trimSlashes(path: string): string {
  let start = 0;
  let end = path.length;
  while (start < end && path.charCodeAt(start) === 0x2f) start += 1;
  while (end > start && path.charCodeAt(end - 1) === 0x2f) end -= 1;
  return start === 0 && end === path.length ? path : path.slice(start, end);
}
