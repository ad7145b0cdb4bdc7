/**
 * HostContext.usage for the reference host: the DIDs and IVR keys that send calls to a page of
 * rules, in one read of the DIDs and one query of the IVR options, so the plugin can say
 * "Used by" and warn before a rule in use is removed.
 */
import type { HostDestinations, HostRuleUsage, RuleUses } from '../../src/host';
import { RULE_PREFIX } from './destination-picker';
import type { Did } from './host-store';
import type { IvrMenus } from './ivr-menus';

export function referenceRuleUsage(dids: (tenantId: string) => Promise<Did[]>, menus: IvrMenus, destinations: HostDestinations): HostRuleUsage {
  return async (tenantId, ruleIds) => {
    const uses: RuleUses = {};
    const add = (destination: string, use: { label: string; href: string }) => {
      const id = Number(destination.slice(RULE_PREFIX.length));
      (uses[id] ??= []).push(use);
    };
    const wanted = new Set(ruleIds.map((id) => `${RULE_PREFIX}${id}`));
    for (const did of await dids(tenantId)) if (wanted.has(did.destination)) add(did.destination, { label: `DID ${did.number}`, href: '/dids' });
    const ivrs = destinations.list(tenantId).filter((e) => e.kind === 'ivr');
    for (const option of await menus.optionsTo(tenantId, [...wanted])) {
      add(option.destination, { label: `IVR ${ivrs.find((e) => e.id === option.ivr)?.label ?? option.ivr}, key ${option.digit}`, href: `/ivrs#ivr-${option.ivr}` });
    }
    return uses;
  };
}
