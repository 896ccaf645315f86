#!/usr/bin/env node
// npm run check-deploy: renders every kustomize overlay under deploy/k8s/overlays with
// `kubectl kustomize` and validates every object offline against its schema and its model's
// fields (scripts/lib/k8s-validate.mjs).
// Nothing reaches a cluster. `--json` prints the rendered objects and the problems found (the test
// suite reads it); otherwise a summary, and exit code 1 when any object is invalid.
// Exit code 3 (and a message) when kubectl is not installed; 2 when an overlay does not render. `--overlays DIR` checks the overlays
// below another folder (an operator's own, beside ours).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validate } from './lib/k8s-validate.mjs';

const root = new URL('..', import.meta.url).pathname;
const at = process.argv.indexOf('--overlays');
const overlaysRoot =
  at > 0 ? resolve(process.argv[at + 1]) : join(root, 'deploy', 'k8s', 'overlays');

function kubectlVersion() {
  const probe = spawnSync('kubectl', ['version', '--client', '--output=json'], {
    encoding: 'utf8',
  });
  if (probe.error || probe.status !== 0) return undefined;
  return JSON.parse(probe.stdout).clientVersion?.gitVersion ?? 'unknown';
}

/** Every folder below deploy/k8s/overlays that holds a kustomization (dev, dev/migrations, …). */
function overlayDirs(dir = overlaysRoot) {
  const found = existsSync(join(dir, 'kustomization.yaml')) ? [dir] : [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...overlayDirs(join(dir, entry.name)));
  }
  return found;
}

function render(dir) {
  const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${out.stderr.trim()}`);
  return parseAllDocuments(out.stdout).map((doc) => {
    if (doc.errors.length) throw new Error(`${dir}: ${doc.errors[0].message}`);
    return doc.toJS();
  });
}

async function main() {
  const json = process.argv.includes('--json');
  const version = kubectlVersion();
  if (!version) {
    console.error('check-deploy: kubectl is not installed; the manifests were not rendered');
    process.exit(3);
  }
  const overlays = {};
  let invalid = 0;
  for (const dir of overlayDirs()) {
    const name = relative(overlaysRoot, dir);
    const objects = render(dir);
    const problems = [];
    for (const object of objects) {
      for (const problem of await validate(object)) {
        problems.push({ kind: object.kind, name: object.metadata?.name, problem });
      }
    }
    invalid += problems.length;
    overlays[name] = { objects, problems };
    if (!json) {
      console.log(`${name}: ${objects.length} objects, ${problems.length} invalid`);
      for (const p of problems) console.log(`  ${p.kind}/${p.name}: ${p.problem}`);
    }
  }
  if (json) process.stdout.write(JSON.stringify({ kubectl: version, overlays }));
  process.exit(invalid ? 1 : 0);
}

try {
  await main();
} catch (err) {
  // An overlay kustomize refuses (a bad patch, a missing file): its message, not a stack.
  console.error(`check-deploy: ${err.message}`);
  process.exit(2);
}
