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
