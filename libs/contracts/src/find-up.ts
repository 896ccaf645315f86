import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Finds a repository file from source (`libs/x/src`) and from the build (`dist/libs/x/src`)
 * alike, so runtime assets such as .proto files need no copying step.
 */
export function findUp(relativePath: string, from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${relativePath} not found above ${from}`);
    dir = parent;
  }
}

export function protoRoot(): string {
  return findUp('libs/contracts/proto');
}
