/**
 * Runs a task over a list with a bounded number in flight, answers in the list's order. For
 * metadata probes a page triggers (which modules have a phone field?): a CRM's API sees a few
 * requests at a time, never one per module at once. The first failure fails the whole run.
 */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
