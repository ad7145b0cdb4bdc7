/**
 * The dialplan a DID or IVR option needs to use a rule: the AGI() line, then a fallback to the
 * rule's default destination. The fallback runs only when the plugin did not move the call:
 * it could not be reached (AGISTATUS=FAILURE) or ended the session early (CRM_ROUTING_STATUS
 * says why). A routed call never comes back here (redirected or sent on by SET CONTEXT).
 */
import type { HostDestinations } from '../host';
import type { Rule } from '../domain/rule';
import type { PluginConfig } from '../config';

export function agiUrl(rule: Pick<Rule, 'id' | 'tenantId'>, config: Pick<PluginConfig, 'agi' | 'manifest'>): string {
  const host = config.agi.publicHost.includes(':') && !config.agi.publicHost.startsWith('[') ? `[${config.agi.publicHost}]` : config.agi.publicHost;
  const query = new URLSearchParams({ rule: String(rule.id), tenant: rule.tenantId });
  return `agi://${host}:${config.agi.port}/${config.manifest.agiPath}?${query.toString()}`;
}

/** Lines for `same => n,...` after the DID's or IVR option's first priority. */
export function dialplanFor(rule: Rule, config: Pick<PluginConfig, 'agi' | 'manifest'>, destinations: HostDestinations): string[] {
  const target = destinations.target(rule.tenantId, rule.defaultDestination, { voicemail: rule.defaultVoicemail });
  const lines = [`AGI(${agiUrl(rule, config)})`];
  if (target) {
    for (const [name, value] of Object.entries(target.variables ?? {})) lines.push(`Set(${name}=${value})`);
    lines.push(`Goto(${target.context},${target.exten},${target.priority})`);
  } else {
    lines.push('NoOp(CRM Routing: the default destination no longer exists; fix the rule)', 'Hangup()');
  }
  return lines;
}
