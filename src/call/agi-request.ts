/**
 * The FastAGI header as the call flow uses it: validated with zod, Asterisk's "unknown" turned
 * into '', dialplan arguments in order. Values reach logs, AGI commands and AMI headers, so any
 * control character (a CR in the middle of a line survives line splitting) makes the header bad.
 */
import { z } from 'zod';
import { AgiError } from './agi-error';

export interface AgiRequest {
  /** `agi_channel`: the channel an AMI Redirect moves, e.g. `Local/5551234@from-did-00000000;2`. */
  channel: string;
  /** `agi_uniqueid`: carried on every log line of the call. */
  uniqueId: string;
  /** `agi_callerid`; '' when Asterisk says "unknown". */
  callerId: string;
  /** `agi_calleridname`; '' when Asterisk says "unknown". */
  callerIdName: string;
  /** `agi_dnid`; '' when Asterisk says "unknown" (Local channels). */
  dnid: string;
  context: string;
  extension: string;
  priority: number;
  /** `agi_network_script`: path and query after host:port, e.g. `crm-routing?rule=1`. */
  networkScript: string;
  /** `agi_request`: the whole URL, e.g. `agi://127.0.0.1:4573/crm-routing?rule=1`. */
  request: string;
  /**
   * `agi_arg_1`, `agi_arg_2`, ... in order: the dialplan's `AGI(url,arg1,arg2)`. The other header
   * fields are not kept: a call holds its request while in flight, and the whole header (20 and
   * more lines) would stay in memory with it.
   */
  args: string[];
}

// Tab, CR, NUL and the rest of C0, plus DEL.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const text = z.string().max(1024).refine((value) => !CONTROL_CHARS.test(value), 'holds a control character');
const required = text.refine((value) => value !== '', 'is empty');
const unknownAsEmpty = text.default('unknown').transform((value) => (value === 'unknown' ? '' : value));

const HeaderSchema = z.object({
  agi_channel: required,
  agi_uniqueid: required,
  agi_callerid: unknownAsEmpty,
  agi_calleridname: unknownAsEmpty,
  agi_dnid: unknownAsEmpty,
  agi_context: required,
  agi_extension: required,
  agi_priority: z.string().regex(/^[1-9]\d{0,8}$/, 'is not a priority number'),
  agi_network_script: text,
  agi_request: required,
});

const SCHEMA_FIELDS = Object.keys(HeaderSchema.shape);

/**
 * The header fields the schema reads, as a plain object of those keys only: a whole header (20
 * and more fields, any names Asterisk or a stranger sends) would make an object in dictionary
 * mode, slow for the schema to read. Absent fields stay absent, so the schema names them.
 */
function schemaInput(fields: ReadonlyMap<string, string>): Record<string, string> {
  const input: Record<string, string> = {};
  for (const name of SCHEMA_FIELDS) {
    const value = fields.get(name);
    if (value !== undefined) input[name] = value;
  }
  return input;
}

/** Validates a parsed header; throws AgiError('BAD_REQUEST') naming the fields that are wrong. */
export function parseAgiRequest(fields: ReadonlyMap<string, string>): AgiRequest {
  const parsed = HeaderSchema.safeParse(schemaInput(fields));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new AgiError('BAD_REQUEST', `The AGI header is not usable: ${problems.join('; ')}.`, { cause: parsed.error });
  }
  const args: string[] = [];
  for (let n = 1; fields.has(`agi_arg_${n}`); n += 1) {
    const arg = fields.get(`agi_arg_${n}`) ?? '';
    if (CONTROL_CHARS.test(arg)) throw new AgiError('BAD_REQUEST', `The AGI header is not usable: agi_arg_${n} holds a control character.`);
    args.push(arg);
  }
  const header = parsed.data;
  return {
    channel: header.agi_channel,
    uniqueId: header.agi_uniqueid,
    callerId: header.agi_callerid,
    callerIdName: header.agi_calleridname,
    dnid: header.agi_dnid,
    context: header.agi_context,
    extension: header.agi_extension,
    priority: Number(header.agi_priority),
    networkScript: header.agi_network_script,
    request: header.agi_request,
    args,
  };
}
