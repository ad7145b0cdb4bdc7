/**
 * HostContext.usage for the reference host: the DIDs and IVR keys that send calls to a rule, so
 * the plugin can say "Used by" and warn before a rule in use is removed.
 */
import type { HostDestinations, HostRuleUsage, RuleUse } from '../../src/host';
import { RULE_PREFIX } from './destination-picker';
import type { Did } from './host-store';
import type { IvrMenus } from './ivr-menus';

export function referenceRuleUsage(dids: () => Promise<Did[]>, menus: IvrMenus, destinations: HostDestinations): HostRuleUsage {
  return async (tenantId, ruleId) => {
    const choice = `${RULE_PREFIX}${ruleId}`;
    const fromDids: RuleUse[] = (await dids()).filter((d) => d.destination === choice).map((d) => ({ label: `DID ${d.number}`, href: '/dids' }));
    const ivrs = destinations.list(tenantId).filter((e) => e.kind === 'ivr');
    const fromIvrs: RuleUse[] = (await menus.optionsTo(tenantId, choice)).map((o) => ({
      label: `IVR ${ivrs.find((e) => e.id === o.ivr)?.label ?? o.ivr}, key ${o.digit}`,
      href: `/ivrs#ivr-${o.ivr}`,
    }));
    return [...fromDids, ...fromIvrs];
  };
}
