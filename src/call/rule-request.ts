/**
 * Which rule a FastAGI request asks for: `agi://host:port/crm-routing?rule=<id>` (the id in
 * agi_network_script's query), or the first dialplan argument, `AGI(agi://host/crm-routing,<id>)`.
 */
import type { AgiRequest } from './agi-request';

const ID = /^[1-9]\d{0,9}$/;

export function ruleIdOf(request: Pick<AgiRequest, 'networkScript' | 'args'>, agiPath: string): number | undefined {
  const [path = '', query] = request.networkScript.split('?', 2);
  if (path.replace(/^\/+|\/+$/g, '') !== agiPath) return undefined;
  const fromQuery = query === undefined ? null : new URLSearchParams(query).get('rule');
  const id = fromQuery ?? request.args[0] ?? '';
  return ID.test(id) ? Number(id) : undefined;
}
