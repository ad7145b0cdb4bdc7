/**
 * Timeouts that end with their owner: a simulated call or a fake AMI session schedules what
 * happens later, and clears whatever is still pending when it ends.
 */
export class PendingTimers {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `run` after `ms`, unless clear() comes first. */
  later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
