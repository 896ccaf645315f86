import type { DsgError } from '@dsg/contracts';

/** The error a call that must be refused was refused with (a call that succeeds fails the test). */
export function refusal(promise: Promise<unknown>): Promise<DsgError> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err as DsgError,
  );
}
