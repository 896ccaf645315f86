import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BatchJob, BatchResult, Nodes } from './verify-batch';

/**
 * Worker threads that check `verify`'s batches (verify-worker.ts), as many as the machine has
 * cores (at most four): the hashing is the cost, and it is spread over the cores while this
 * thread reads the COPY stream. Batches go round-robin; each worker answers in order.
 */
export class VerifyWorkers {
  readonly count = Math.max(1, Math.min(4, availableParallelism()));
  private readonly workers: { worker: Worker; waiting: Pending[] }[] = [];
  private next = 0;

  constructor() {
    for (let i = 0; i < this.count; i++) {
      const slot = {
        worker: new Worker(join(__dirname, 'verify-worker.js')),
        waiting: [] as Pending[],
      };
      slot.worker.on('message', (result: BatchResult) => slot.waiting.shift()?.resolve(result));
      slot.worker.on('error', (err) => {
        for (const pending of slot.waiting.splice(0)) pending.reject(err);
      });
      this.workers.push(slot);
    }
  }

  /** Checks a batch; the bytes are moved to the worker (the buffer is not usable after). */
  run(job: BatchJob): Promise<BatchResult> {
    const slot = this.workers[this.next++ % this.count];
    // A small Buffer may be a view of Node's shared pool, which must not be moved.
    const whole =
      job.bytes.byteOffset === 0 && job.bytes.byteLength === job.bytes.buffer.byteLength;
    const bytes = whole ? job.bytes : new Uint8Array(job.bytes);
    const result = new Promise<BatchResult>((resolve, reject) =>
      slot.waiting.push({ resolve, reject }),
    ).then((r) => ({
      ...r,
      nodes: asBuffers(r.nodes),
      snapshots: r.snapshots.map((s) => ({ size: s.size, nodes: asBuffers(s.nodes) })),
    }));
    slot.worker.postMessage({ ...job, bytes }, [bytes.buffer as ArrayBuffer]);
    // Awaited in order by the caller, who may stop early: no rejection goes unhandled.
    result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((slot) => slot.worker.terminate()));
  }
}

interface Pending {
  resolve: (result: BatchResult) => void;
  reject: (err: unknown) => void;
}

/** Hashes cross the thread boundary as Uint8Arrays. */
function asBuffers(nodes: Nodes): Nodes {
  return nodes.map((n) => ({
    height: n.height,
    hash: Buffer.from(n.hash.buffer, n.hash.byteOffset, n.hash.byteLength),
  }));
}
