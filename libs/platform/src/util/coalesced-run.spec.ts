import { CoalescedRun } from './coalesced-run';

describe('CoalescedRun', () => {
  /** A task whose runs are counted and settled by hand, in order. */
  const gated = () => {
    const gates: { resolve: (v: number) => void; reject: (e: unknown) => void }[] = [];
    const task = () =>
      new Promise<number>((resolve, reject) => {
        gates.push({ resolve, reject });
      });
    const settle = async (i: number, value: number | Error) => {
      for (let n = 0; n < 10 && gates.length <= i; n++) await Promise.resolve();
      if (value instanceof Error) gates[i].reject(value);
      else gates[i].resolve(value);
    };
    return { gates, task, settle };
  };

  it('answers calls made during a run from the next run, one for all of them, started after it', async () => {
    const runner = new CoalescedRun<number>();
    const { gates, task, settle } = gated();
    const first = runner.run(task);
    const during = [runner.run(task), runner.run(task), runner.run(task)];
    expect(gates).toHaveLength(1); // the next run waits for the first to end
    await settle(0, 1);
    await expect(first).resolves.toBe(1);
    await settle(1, 2);
    expect(await Promise.all(during)).toEqual([2, 2, 2]);
    expect(gates).toHaveLength(2);
  });

  it('starts the next run after a failed one, and a call with none going at once', async () => {
    const runner = new CoalescedRun<number>();
    const { gates, task, settle } = gated();
    const failing = runner.run(task);
    const after = runner.run(task);
    await settle(0, new Error('disk gone'));
    await expect(failing).rejects.toThrow('disk gone');
    await settle(1, 5);
    await expect(after).resolves.toBe(5);
    const alone = runner.run(task);
    expect(gates).toHaveLength(3);
    await settle(2, 7);
    await expect(alone).resolves.toBe(7);
  });
});
