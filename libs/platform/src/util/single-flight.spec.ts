import { SingleFlight } from './single-flight';

describe('SingleFlight', () => {
  const deferred = <T>() => {
    let resolve!: (value: T) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  it('shares one run among the callers that ask while it runs', async () => {
    const flight = new SingleFlight<number>();
    const gate = deferred<number>();
    let runs = 0;
    const task = () => {
      runs++;
      return gate.promise;
    };
    const answers = [flight.run(task), flight.run(task), flight.run(task)];
    gate.resolve(7);
    expect(await Promise.all(answers)).toEqual([7, 7, 7]);
    expect(runs).toBe(1);
  });

  it('starts a new run once the last has settled, failed or not', async () => {
    const flight = new SingleFlight<number>();
    const first = deferred<number>();
    const failed = flight.run(() => first.promise);
    const shared = flight.run(() => Promise.resolve(0));
    first.reject(new Error('disk gone'));
    await expect(failed).rejects.toThrow('disk gone');
    await expect(shared).rejects.toThrow('disk gone');
    let runs = 0;
    await expect(
      flight.run(() => {
        runs++;
        return Promise.resolve(2);
      }),
    ).resolves.toBe(2);
    expect(runs).toBe(1);
  });
});
