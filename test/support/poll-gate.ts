/**
 * A `sleep` for the engine's long polls (`ShardlogOptions.sleep`, LogService's wait between probes) that lets
 * a test order events instead of timing them. Armed, the next poll that finds nothing waits until {@link wake}:
 * the test knows the poll is waiting, makes a record arrive, then wakes it, so the test proves that a waiting
 * poll sees the record (a real-time sleep can let the record land before the poll even looks). Unarmed, it
 * sleeps for real, so an engine shared by a whole file behaves as usual in its other tests.
 *
 * @example
 * const gate = new PollGate();
 * const engine = createShardlog(clients, config, { sleep: gate.sleep });
 * const asleep = gate.arm();
 * const polling = engine.log.read(topic, 0, { ...options, waitMs: 5_000 });
 * await asleep;
 * await engine.log.produce(topic, { records });
 * gate.wake();
 * expect((await polling).records).toHaveLength(1);
 */
export class PollGate {
  private armed: (() => void) | undefined;
  private sleepers: Array<() => void> = [];

  readonly sleep = (ms: number): Promise<void> => {
    const asleep = this.armed;
    if (asleep === undefined) return new Promise((resolve) => setTimeout(resolve, ms));
    return new Promise((resolve) => {
      this.sleepers.push(resolve);
      asleep();
    });
  };

  /** From now until {@link wake}, polls that find nothing wait; resolves once one does. */
  arm(): Promise<void> {
    return new Promise((resolve) => (this.armed = resolve));
  }

  /** Wakes every waiting poll and disarms: later waits sleep for real again. */
  wake(): void {
    this.armed = undefined;
    const sleepers = this.sleepers;
    this.sleepers = [];
    for (const resolve of sleepers) resolve();
  }
}
