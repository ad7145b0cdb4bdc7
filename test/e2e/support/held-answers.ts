/**
 * A fake CRM route whose answers wait until the test lets them go: calls stay in their lookup
 * for as long as a test needs, and the test knows when each request has arrived.
 */
export class HeldAnswers {
  /** Requests that have arrived so far. */
  arrived = 0;
  private readonly waiters: Array<{ count: number; resolve(): void }> = [];
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  readonly handler = async () => {
    this.arrived += 1;
    for (const w of this.waiters.filter((x) => this.arrived >= x.count)) w.resolve();
    await this.released;
    return { body: { value: 'gold' } };
  };

  /** Resolves once `count` requests have arrived. */
  untilArrived(count: number): Promise<void> {
    if (this.arrived >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Every held request, and every later one, answers {"value": "gold"}. */
  answer(): void {
    this.release();
  }
}
