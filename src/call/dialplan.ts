/**
 * The dialplan a DID or IVR option needs to use a rule: the AGI() line, then a fallback to the
 * rule's default destination. The fallback runs only when the plugin did not move the call:
 * it could not be reached (AGISTATUS=FAILURE) or ended the session early (CRM_ROUTING_STATUS
 * says why). A routed call never comes back here (redirected or sent on by SET CONTEXT).
 * The AGI URL is signed for the rule and its tenant (dialplan-signature.ts).
 */
import type { HostDestinations } from '../host';
import type { Rule } from '../domain/rule';
import type { PluginConfig } from '../config';
import type { DialplanSigner } from './dialplan-signature';

/** Path and query of the rule's AGI URL (agi_network_script): `crm-routing?rule=7&tenant=t&sig=...`. */
export function agiScript(rule: Pick<Rule, 'id' | 'tenantId'>, agiPath: string, signer: DialplanSigner): string {
  const query = new URLSearchParams({ rule: String(rule.id), tenant: rule.tenantId, sig: signer.sign(rule.id, rule.tenantId) });
  return `${agiPath}?${query.toString()}`;
}

export function agiUrl(rule: Pick<Rule, 'id' | 'tenantId'>, config: Pick<PluginConfig, 'agi' | 'manifest'>, signer: DialplanSigner): string {
  const host = config.agi.publicHost.includes(':') && !config.agi.publicHost.startsWith('[') ? `[${config.agi.publicHost}]` : config.agi.publicHost;
  return `agi://${host}:${config.agi.port}/${agiScript(rule, config.manifest.agiPath, signer)}`;
}

/** Lines for `same => n,...` after the DID's or IVR option's first priority. */
export function dialplanFor(rule: Rule, config: Pick<PluginConfig, 'agi' | 'manifest'>, destinations: HostDestinations, signer: DialplanSigner): string[] {
  const target = destinations.target(rule.tenantId, rule.defaultDestination, { voicemail: rule.defaultVoicemail });
  const lines = [`AGI(${agiUrl(rule, config, signer)})`];
  if (target) {
    for (const [name, value] of Object.entries(target.variables ?? {})) lines.push(`Set(${name}=${value})`);
    lines.push(`Goto(${target.context},${target.exten},${target.priority})`);
  } else {
    lines.push('NoOp(CRM Routing: the default destination no longer exists; fix the rule)', 'Hangup()');
  }
  return lines;
}
