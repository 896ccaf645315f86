// npm run docs: regenerates docs/asyncapi.yaml from libs/contracts (a test fails when the
// committed file is out of date).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { run } from './lib/services.mjs';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
await run('npm', ['run', '--silent', 'build']);
require('reflect-metadata');
const { renderAsyncApiYaml } = require(`${root}dist/libs/contracts/src/index.js`);
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
mkdirSync(`${root}docs`, { recursive: true });
writeFileSync(`${root}docs/asyncapi.yaml`, renderAsyncApiYaml(version));
console.log('written docs/asyncapi.yaml');

// The README's role matrix, from the gateway's route table (test/gateway-roles compares them).
const { roleMatrixMarkdown, MATRIX_START, MATRIX_END } = require(
  `${root}dist/apps/gateway/src/api/role-matrix.js`,
);
const readme = readFileSync(`${root}README.md`, 'utf8');
const start = readme.indexOf(MATRIX_START);
const end = readme.indexOf(MATRIX_END);
if (start === -1 || end === -1) {
  console.error('README.md has no role-matrix markers: the matrix was not written');
  process.exit(1);
}
writeFileSync(
  `${root}README.md`,
  readme.slice(0, start) + roleMatrixMarkdown() + readme.slice(end + MATRIX_END.length),
);
await run('npx', ['prettier', '--write', 'README.md']);
console.log('written the role matrix in README.md');
