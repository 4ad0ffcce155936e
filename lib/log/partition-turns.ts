/**
 * Turns, in arrival order, for one process's concurrent appends to the same partitions.
 *
 * Appends in one process that race each other for a partition's end offset can only waste writes: one wins,
 * the rest lose and retry, and every loss is a billed write (and, on DynamoDB Local, a transaction that waits
 * on the winner's item locks). Queueing them costs nothing — the loser would have waited anyway — and gives
 * first come, first served among them: the process then races only other processes. A Lambda container serves
 * one request at a time, so there this never queues; the local stack (every request in one process) and any
 * other long-running host of the handlers are where it matters.
 *
 * An append that writes several partitions joins all their queues in one synchronous step: every queue is then
 * in the same (arrival) order, an append only ever waits for earlier ones, and two appends with overlapping
 * partitions cannot each hold a turn the other waits for.
 *
 * @example
 * const release = await turns.take(['p#t#0', 'p#t#3']);
 * try { ... } finally { release(); }
 */
export class PartitionTurns {
  /** Per key, the promise that resolves when the last queued holder releases it. */
  private readonly queues = new Map<string, Promise<void>>();

  /** Waits until every earlier taker of any of `keys` has released it, then holds them until `release()`. */
  async take(keys: readonly string[]): Promise<() => void> {
    const earlier: Promise<void>[] = [];
    const releases: Array<() => void> = [];
    for (const key of new Set(keys)) {
      const previous = this.queues.get(key) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      const queue = previous.then(() => mine);
      this.queues.set(key, queue);
      earlier.push(previous);
      releases.push(() => {
        release();
        if (this.queues.get(key) === queue) this.queues.delete(key);
      });
    }
    await Promise.all(earlier);
    return () => {
      for (const release of releases) release();
    };
  }

  /** Keys with a holder or waiters (for tests: an idle process holds nothing). */
  get busy(): number {
    return this.queues.size;
  }
}
