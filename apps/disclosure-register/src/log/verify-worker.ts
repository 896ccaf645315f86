import { parentPort } from 'node:worker_threads';
import { type BatchJob, checkBatch } from './verify-batch';

/** A worker thread of `verify`: checks the batches it is sent, one at a time, in order. */
parentPort!.on('message', (job: BatchJob) => parentPort!.postMessage(checkBatch(job)));
