/**
 * "The pages changed the rules" between FastAGI workers of one machine (node:cluster). A worker
 * whose pages saved a rule reloads its own cache at once and tells the primary, which passes it
 * on to the other workers (startAgiWorkers); they reload at once instead of at their next poll
 * of the cache-version row (SnapshotCache, every 2 s). The poll stays the rule: a notice is only
 * a shortcut, so a host running its own cluster primary, or several machines, is still correct.
 */
import cluster from 'node:cluster';

/** What changed: the rule cache or the integration cache. */
export type SiblingTopic = 'rules' | 'integrations';

/** The IPC message, namespaced so a host's own messages never look like one. */
export interface SiblingNotice {
  crmRouting: 'changed';
  topic: SiblingTopic;
}

export function isSiblingNotice(message: unknown): message is SiblingNotice {
  if (typeof message !== 'object' || message === null) return false;
  const { crmRouting, topic } = message as Record<string, unknown>;
  return crmRouting === 'changed' && (topic === 'rules' || topic === 'integrations');
}

export interface SiblingNotices {
  /** Tells the other workers (no-op outside a cluster worker). */
  announce(topic: SiblingTopic): void;
  stop(): void;
}

/** Listens for the other workers' notices when this process is a cluster worker; otherwise does nothing. */
export function joinSiblings(reload: Record<SiblingTopic, () => Promise<void>>): SiblingNotices {
  if (!cluster.isWorker || !process.send) return { announce: () => undefined, stop: () => undefined };
  const listener = (message: unknown) => {
    if (isSiblingNotice(message)) void reload[message.topic]();
  };
  process.on('message', listener);
  return {
    announce(topic) {
      // The channel closes while the worker stops; a lost notice is made up by the poll.
      if (process.connected) process.send?.({ crmRouting: 'changed', topic } satisfies SiblingNotice, undefined, {}, () => undefined);
    },
    stop: () => void process.off('message', listener),
  };
}
