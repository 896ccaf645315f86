import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerPool } from '../util/worker-pool';
import type { LinesJob, LinesResult } from './exports';

const WORKER = join(__dirname, 'export-verify-worker.js');

/**
 * Worker threads for the offline verifier's line checks (export-verify-worker), only where the
 * compiled worker is at hand (the built contracts, as `npm run verify-export` runs them): from
 * TypeScript sources the checks run in the calling thread.
 */
export function exportVerifyWorkers(): WorkerPool<LinesJob, LinesResult> | undefined {
  return existsSync(WORKER) ? new WorkerPool<LinesJob, LinesResult>(WORKER) : undefined;
}
