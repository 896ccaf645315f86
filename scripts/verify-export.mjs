#!/usr/bin/env node
// Offline verification of a register export (npm run verify-export -- EXPORT MANIFEST KEYS):
// EXPORT is the CSV or JSON Lines file, MANIFEST the signed manifest (JSON) fetched with it, KEYS
// the register's published public keys (the JWK set `disclosure-register.keys.list` answers, as
// JSON: {"keys": [...]} or a bare array). Needs nothing else: no database, no network. Prints
// "valid" and the number of entries (exit 0), or the first bad line and what is wrong (exit 1);
// exit 2 for a usage or file problem. Uses the built contracts (npm run build).
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [file, manifestFile, keysFile] = process.argv.slice(2);
if (!file || !manifestFile || !keysFile) {
  console.error('usage: npm run verify-export -- EXPORT MANIFEST.json KEYS.json');
  process.exit(2);
}
const contracts = new URL('../dist/libs/contracts/src/register/exports.js', import.meta.url);
if (!existsSync(contracts)) {
  console.error('the contracts are not built: run npm run build first');
  process.exit(2);
}
const { verifyExport } = require(contracts.pathname);
let manifest;
let keys;
try {
  manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const published = JSON.parse(readFileSync(keysFile, 'utf8'));
  keys = Array.isArray(published) ? published : published.keys;
  if (!Array.isArray(keys)) throw new Error(`${keysFile} holds no "keys" array`);
} catch (err) {
  console.error(`cannot read the manifest or the keys: ${err.message}`);
  process.exit(2);
}
try {
  const verdict = await verifyExport(
    createReadStream(file, { highWaterMark: 1 << 20 }),
    manifest,
    keys,
  );
  if (verdict.valid) {
    console.log(
      `valid: ${verdict.entries} entries (${manifest.kind}, tree head of ${manifest.treeHead.treeSize} entries)`,
    );
    console.log(`proves: ${manifest.proves}`);
    process.exit(0);
  }
  console.log(`invalid: line ${verdict.line}: ${verdict.problem}`);
  process.exit(1);
} catch (err) {
  console.error(`cannot read ${file}: ${err.message}`);
  process.exit(2);
}
