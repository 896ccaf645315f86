import { findUp } from '@dsg/contracts';
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The product version is the root package.json's; one number for every service. */
export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(findUp('package.json'), 'utf8')) as { version: string })
    .version;
  return cached;
}
