import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LinesJob, LinesResult } from './exports';

const WORKER = join(__dirname, 'export-verify-worker.js');

/**
 * Worker threads for the offline verifier's line checks (export-verify-worker), as many as the
 * machine has cores (at most four); jobs go round-robin and each worker answers in order. Only
 * where the compiled worker is at hand (the built contracts, as `npm run verify-export` runs
 * them): from TypeScript sources the checks run in the calling thread.
 */
export class ExportVerifyWorkers {
  readonly count = Math.max(1, Math.min(4, availableParallelism()));
  private readonly workers: {
    worker: Worker;
    waiting: { resolve: (r: LinesResult) => void; reject: (e: unknown) => void }[];
  }[] = [];
  private next = 0;

  static start(): ExportVerifyWorkers | undefined {
    return existsSync(WORKER) ? new ExportVerifyWorkers() : undefined;
  }

  private constructor() {
    for (let i = 0; i < this.count; i++) {
      const slot = {
        worker: new Worker(WORKER),
        waiting: [] as (typeof this.workers)[number]['waiting'],
      };
      slot.worker.on('message', (result: LinesResult) => slot.waiting.shift()?.resolve(result));
      slot.worker.on('error', (err) => {
        for (const pending of slot.waiting.splice(0)) pending.reject(err);
      });
      this.workers.push(slot);
    }
  }

  /** Checks a job's lines; its bytes are moved to the worker (unusable here after). */
  run(job: LinesJob): Promise<LinesResult> {
    const slot = this.workers[this.next++ % this.count];
    const result = new Promise<LinesResult>((resolve, reject) =>
      slot.waiting.push({ resolve, reject }),
    );
    const whole =
      job.bytes.byteOffset === 0 && job.bytes.byteLength === job.bytes.buffer.byteLength;
    const bytes = whole ? job.bytes : new Uint8Array(job.bytes);
    slot.worker.postMessage({ ...job, bytes }, [bytes.buffer as ArrayBuffer]);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
