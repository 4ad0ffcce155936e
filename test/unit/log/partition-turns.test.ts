import { describe, expect, it } from 'vitest';
import { PartitionTurns } from '../../../lib/log/partition-turns.js';

/** Lets every queued promise continuation run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PartitionTurns', () => {
  it('gives turns on one partition in arrival order, one at a time', async () => {
    const turns = new PartitionTurns();
    const order: string[] = [];
    const first = await turns.take(['p#t#0']);
    const waiting = ['b', 'c'].map(async (name) => {
      const release = await turns.take(['p#t#0']);
      order.push(name);
      release();
    });
    await settle();
    expect(order).toEqual([]);
    first();
    await Promise.all(waiting);
    expect(order).toEqual(['b', 'c']);
    expect(turns.busy).toBe(0);
  });

  it('does not hold up appends to other partitions', async () => {
    const turns = new PartitionTurns();
    const held = await turns.take(['p#t#0']);
    const other = await turns.take(['p#t#1']);
    other();
    held();
    expect(turns.busy).toBe(0);
  });

  it('gives turns on several partitions in arrival order, so overlapping appends named in any order cannot deadlock', async () => {
    const turns = new PartitionTurns();
    const done: string[] = [];
    const a = turns.take(['p#t#2', 'p#t#0', 'p#t#1']).then((release) => {
      done.push('a');
      return release;
    });
    const b = turns.take(['p#t#1', 'p#t#2']).then((release) => {
      done.push('b');
      release();
    });
    const c = turns.take(['p#t#2']).then((release) => {
      done.push('c');
      release();
    });
    await settle();
    expect(done).toEqual(['a']);
    (await a)();
    await Promise.all([b, c]);
    expect(done).toEqual(['a', 'b', 'c']);
    expect(turns.busy).toBe(0);
  });
});
