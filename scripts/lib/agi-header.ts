/**
 * The environment Asterisk 22.10.1 sends first on a FastAGI connection, field by field in the
 * measured order (shared/reference/asterisk.md), each line ended by LF, then an empty line.
 */

export interface AgiHeaderFields {
  /** The URL as the dialplan wrote it: `agi://127.0.0.1:4573/crm-routing?rule=1`. */
  request: string;
  /** What follows host:port/ in the URL, query string included. */
  script: string;
  channel: string;
  language: string;
  /** Channel technology: `Local`, `PJSIP`. */
  type: string;
  uniqueid: string;
  version: string;
  /** Absent or empty: `unknown`, and presentation 67. */
  callerId?: string;
  callerName?: string;
  dnid?: string;
  rdnis?: string;
  context: string;
  extension: string;
  priority: number;
  accountcode: string;
  threadId: string;
  /** AGI(url,arg1,arg2...): `agi_arg_1` onwards, after agi_threadid. */
  args: readonly string[];
}

/** AST_PRES_UNAVAILABLE | AST_PRES_NETWORK_NUMBER: what a call without caller ID presents. */
const PRESENTATION_UNAVAILABLE = 67;

export function formatAgiHeader(f: AgiHeaderFields): string {
  const orUnknown = (value: string | undefined) => (value === undefined || value === '' ? 'unknown' : value);
  const lines: Array<[string, string | number]> = [
    ['agi_network', 'yes'],
    ['agi_network_script', f.script],
    ['agi_request', f.request],
    ['agi_channel', f.channel],
    ['agi_language', f.language],
    ['agi_type', f.type],
    ['agi_uniqueid', f.uniqueid],
    ['agi_version', f.version],
    ['agi_callerid', orUnknown(f.callerId)],
    ['agi_calleridname', orUnknown(f.callerName)],
    ['agi_callingpres', f.callerId || f.callerName ? 0 : PRESENTATION_UNAVAILABLE],
    ['agi_callingani2', 0],
    ['agi_callington', 0],
    ['agi_callingtns', 0],
    ['agi_dnid', orUnknown(f.dnid)],
    ['agi_rdnis', orUnknown(f.rdnis)],
    ['agi_context', f.context],
    ['agi_extension', f.extension],
    ['agi_priority', f.priority],
    ['agi_enhanced', '0.0'],
    // Empty, so the line ends in ": " (measured).
    ['agi_accountcode', f.accountcode],
    ['agi_threadid', f.threadId],
    ...f.args.map((arg, i): [string, string] => [`agi_arg_${i + 1}`, arg]),
  ];
  return lines.map(([name, value]) => `${name}: ${value}\n`).join('') + '\n';
}
