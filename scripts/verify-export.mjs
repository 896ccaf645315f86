#!/usr/bin/env node
// Offline verification of a register export (npm run verify-export -- EXPORT MANIFEST KEYS):
// EXPORT is the CSV or JSON Lines file, MANIFEST the signed manifest (JSON) fetched with it, KEYS
// the register's published public keys (the JWK set `disclosure-register.keys.list` answers, as
// JSON: {"keys": [...]} or a bare array). Needs nothing else: no database, no network. Prints
// "valid" and the number of entries (exit 0), or the first bad line and what is wrong (exit 1);
// exit 2 for a usage or file problem. Uses the built contracts (npm run build).
//
// `dsg verify-export FILE` (scripts/dsg.mjs) is the same check, with the manifest and keys found
// beside the file as `dsg export` writes them; this command stays for existing scripts.
import { CliError, EXIT } from './lib/dsg/errors.mjs';
import { verifyExportFile } from './lib/dsg/exports.mjs';

const [file, manifestFile, keysFile] = process.argv.slice(2);
if (!file || !manifestFile || !keysFile) {
  console.error('usage: npm run verify-export -- EXPORT MANIFEST.json KEYS.json');
  process.exit(EXIT.USAGE);
}
try {
  const { verdict, manifest } = await verifyExportFile({ file, manifestFile, keysFile });
  if (verdict.valid) {
    console.log(
      `valid: ${verdict.entries} entries (${manifest.kind}, tree head of ${manifest.treeHead.treeSize} entries)`,
    );
    console.log(`proves: ${manifest.proves}`);
    process.exit(EXIT.OK);
  }
  console.log(`invalid: line ${verdict.line}: ${verdict.problem}`);
  process.exit(EXIT.INVALID);
} catch (err) {
  console.error(err instanceof CliError ? err.message : `cannot verify ${file}: ${err.message}`);
  process.exit(err instanceof CliError ? err.exitCode : EXIT.USAGE);
}
