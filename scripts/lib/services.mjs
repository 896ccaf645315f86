// Runs the built services (dist/) as child processes: migrations, and the stack itself.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const require = createRequire(import.meta.url);

/**
 * Node flags every service runs with (npm start, the benchmark, the image). A 64 MB young
 * generation: a batch's objects (a disclosure batch lives some milliseconds) die young instead of
 * being promoted and collected again with the old generation; in the register benchmark it gave
 * about 6% more throughput and 10% less CPU a disclosure (5 interleaved pairs of runs, 4 won).
 */
export const SERVICE_NODE_ARGS = ['--max-semi-space-size=64'];

export function mainOf(service) {
  return join(root, 'dist', 'apps', service, 'src', 'main.js');
}

/** The service descriptors (names, default ports) from the built contracts library. */
export function descriptors() {
  const path = join(root, 'dist', 'libs', 'contracts', 'src', 'services.js');
  if (!existsSync(path)) throw new Error('dist/ is missing: run `npm run build` first');
  const { SERVICES, SERVICE_NAMES } = require(path);
  return SERVICE_NAMES.map((name) => SERVICES[name]);
}

export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', cwd: root, ...options });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}`)),
    );
  });
}

/** Applies the named services' migrations, one service after another, as the owner role. */
export async function migrateServices(env, names) {
  for (const name of names) {
    await run(process.execPath, [mainOf(name), 'migrate'], { env });
  }
}

/** Applies every service's migrations, one service after another, as the owner role. */
export function migrateAll(env) {
  return migrateServices(
    env,
    descriptors().map(({ name }) => name),
  );
}
