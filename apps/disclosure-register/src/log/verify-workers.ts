import { WorkerPool } from '@dsg/contracts/util/worker-pool';
import { join } from 'node:path';
import type { BatchJob, BatchResult, Nodes } from './verify-batch';

/**
 * Worker threads that check `verify`'s batches (verify-worker.ts), as many as the machine has
 * cores (at most four): the hashing is the cost, and it is spread over the cores while this
 * thread reads the COPY stream. Batches go round-robin; each worker answers in order.
 */
export class VerifyWorkers {
  private readonly pool = new WorkerPool<BatchJob, BatchResult>(
    join(__dirname, 'verify-worker.js'),
  );
  readonly count = this.pool.count;

  /** Checks a batch; the bytes are moved to the worker (the buffer is not usable after). */
  run(job: BatchJob): Promise<BatchResult> {
    const result = this.pool.run(job).then((r) => ({
      ...r,
      nodes: asBuffers(r.nodes),
      snapshots: r.snapshots.map((s) => ({ size: s.size, nodes: asBuffers(s.nodes) })),
    }));
    // Awaited in order by the caller, who may stop early: no rejection goes unhandled.
    result.catch(() => undefined);
    return result;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Hashes cross the thread boundary as Uint8Arrays. */
function asBuffers(nodes: Nodes): Nodes {
  return nodes.map((n) => ({
    height: n.height,
    hash: Buffer.from(n.hash.buffer, n.hash.byteOffset, n.hash.byteLength),
  }));
}
