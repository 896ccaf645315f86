import { parentPort } from 'node:worker_threads';
import { checkLines, type LinesJob } from './exports';

/** A worker thread of the offline verifier: checks the jobs it is sent, one at a time, in order. */
parentPort!.on('message', (job: LinesJob) => {
  const result = checkLines(job);
  parentPort!.postMessage(result, [result.hashes.buffer as ArrayBuffer]);
});
