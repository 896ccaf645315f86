import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Worker threads running one script, as many as the machine has cores (at most four): jobs go
 * round-robin, each worker answers its jobs in order. A job's `bytes` are moved to the worker,
 * not copied (they are unusable in the caller after). Used where hashing is the cost: the
 * register's `verify` and the offline export verifier.
 */
export class WorkerPool<Job extends { bytes: Uint8Array }, Result> {
  readonly count = Math.max(1, Math.min(4, availableParallelism()));
  private readonly workers: {
    worker: Worker;
    waiting: { resolve: (result: Result) => void; reject: (err: unknown) => void }[];
  }[] = [];
  private next = 0;

  constructor(script: string) {
    for (let i = 0; i < this.count; i++) {
      const slot = {
        worker: new Worker(script),
        waiting: [] as (typeof this.workers)[0]['waiting'],
      };
      slot.worker.on('message', (result: Result) => slot.waiting.shift()?.resolve(result));
      slot.worker.on('error', (err) => {
        for (const pending of slot.waiting.splice(0)) pending.reject(err);
      });
      this.workers.push(slot);
    }
  }

  run(job: Job): Promise<Result> {
    const slot = this.workers[this.next++ % this.count];
    // A small Buffer may be a view of Node's shared pool, which must not be moved.
    const whole =
      job.bytes.byteOffset === 0 && job.bytes.byteLength === job.bytes.buffer.byteLength;
    const bytes = whole ? job.bytes : new Uint8Array(job.bytes);
    const result = new Promise<Result>((resolve, reject) => slot.waiting.push({ resolve, reject }));
    slot.worker.postMessage({ ...job, bytes }, [bytes.buffer as ArrayBuffer]);
    // Awaited in order by the caller, who may stop early: no rejection goes unhandled.
    result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((slot) => slot.worker.terminate()));
  }
}
