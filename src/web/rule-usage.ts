/**
 * What the host says uses a rule (its DIDs and IVR options, through the optional
 * HostContext.usage): shown in the Routing list, added to the delete question and to the notice
 * after a delete, so a rule in use never disappears silently. A host without `usage`, or one
 * whose answer fails, gives `undefined`: the pages then say nothing rather than "not used".
 */
import type { HostContext, RuleUse } from '../host';

/** At most this many uses are named; the rest are counted. */
const MAX_NAMED_USES = 20;

export class RuleUsage {
  constructor(private readonly host: Pick<HostContext, 'usage' | 'logger'>) {}

  /** Whether the host tells what uses a rule at all. */
  get known(): boolean {
    return this.host.usage !== undefined;
  }

  async of(tenantId: string, ruleId: number): Promise<RuleUse[] | undefined> {
    return (await this.ofEach(tenantId, [ruleId])).get(ruleId);
  }

  /** Uses of each rule of a page, in one question to the host. */
  async ofEach(tenantId: string, ruleIds: number[]): Promise<Map<number, RuleUse[] | undefined>> {
    const unknown = new Map(ruleIds.map((id) => [id, undefined]));
    if (!this.host.usage || ruleIds.length === 0) return unknown;
    try {
      const answer = await this.host.usage(tenantId, ruleIds);
      return new Map(ruleIds.map((id) => [id, (answer[id] ?? []).slice(0, 1000).map(cleanUse)]));
    } catch (err) {
      this.host.logger.warn('crm-routing: the host could not say what uses its rules', { ruleIds, error: (err as Error)?.message ?? String(err) });
      return unknown;
    }
  }
}

function cleanUse(use: RuleUse): RuleUse {
  return { label: String(use.label), ...(safeHref(use.href) ? { href: use.href } : {}) };
}

/** "DID 5551234, IVR 200 - Main menu (option 2)", with "and 3 more" past the first twenty. */
export function describeUses(uses: RuleUse[]): string {
  const named = uses.slice(0, MAX_NAMED_USES).map((u) => u.label).join(', ');
  return uses.length > MAX_NAMED_USES ? `${named} and ${uses.length - MAX_NAMED_USES} more` : named;
}

/** The delete question: exactly "Are you sure you want to remove 'XYZ'?", then what still uses the rule. */
export function deleteQuestion(name: string, uses: RuleUse[] | undefined): string {
  const question = `Are you sure you want to remove '${name}'?`;
  if (!uses || uses.length === 0) return question;
  return `${question}\n\nIt is still used by: ${describeUses(uses)}. Calls there will go to the fallback line of their dialplan until you choose another destination.`;
}

/** The notice after a delete, naming what still points at the removed rule. */
export function removedNotice(name: string, uses: RuleUse[] | undefined): string {
  const removed = `Rule '${name}' was removed.`;
  if (!uses || uses.length === 0) return removed;
  return `${removed} Still pointing at it: ${describeUses(uses)}. Their calls now take the fallback line of their dialplan; choose another destination there.`;
}

/** Only links within an admin or to an http(s) page: a host's label must never become a script link. */
function safeHref(href: unknown): href is string {
  return typeof href === 'string' && href.length <= 2000 && /^(\/(?!\/)|https?:\/\/)/.test(href);
}
