// npm test: lint, type-check, unit tests, then end-to-end tests against real PostgreSQL and NATS
// (the e2e setup builds the code, and creates and drops a database of the run's own).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';

const results = '.tmp/jest-results.json';
const steps = [
  ['lint', ['npm', ['run', '--silent', 'lint']]],
  ['type-check', ['npm', ['run', '--silent', 'typecheck']]],
  [
    'tests',
    [
      'npx',
      ['jest', '--config', 'jest.config.js', '--runInBand', '--json', `--outputFile=${results}`],
    ],
  ],
];

mkdirSync('.tmp', { recursive: true });
rmSync(results, { force: true });
let failed = false;
for (const [name, [command, args]] of steps) {
  console.log(`\n== ${name}`);
  const { status } = spawnSync(command, args, { stdio: 'inherit' });
  if (status !== 0) {
    console.error(`== ${name} failed`);
    failed = true;
    if (name !== 'tests') break;
  }
}
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  console.log(
    `\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`,
  );
}
process.exit(failed ? 1 : 0);
