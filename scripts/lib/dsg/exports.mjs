// Register exports on the auditor's side: downloaded from the gateway (GET /v1/register/export)
// into a file with its signed manifest and the register's published keys beside it, and verified
// offline from those three files with the built contracts' verifyExport (nothing else: no
// network, no database). scripts/verify-export.mjs and `dsg verify-export` share the check.
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { rename, stat, unlink, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, EXIT, usageError } from './errors.mjs';
import { ProgressBar } from './print.mjs';

const REGISTER = 'disclosure-register';
const CONTRACTS = new URL('../../../dist/libs/contracts/src/register/exports.js', import.meta.url);

/** The files kept beside an export, by default. */
export const besideExport = (file) => ({
  manifest: `${file}.manifest.json`,
  keys: `${file}.keys.json`,
});

// ---------------------------------------------------------------------------------------------
// Offline verification
// ---------------------------------------------------------------------------------------------

/** The built contracts' verifyExport (npm run build), or a usage error saying so. */
function contracts() {
  if (!existsSync(CONTRACTS)) {
    throw usageError('the contracts are not built: run npm run build first');
  }
  return createRequire(import.meta.url)(CONTRACTS.pathname);
}

async function readJson(path, what) {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw usageError(`cannot read the ${what} ${path}: ${err.code ?? err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw usageError(`the ${what} ${path} is not JSON`);
  }
}

/**
 * Verifies an export file against its manifest and the published keys, offline. Answers
 * `{ verdict, manifest }` (verdict: { valid, entries, line?, problem? }); a file that cannot be
 * read is a usage error (exit 2), never a verdict.
 */
export async function verifyExportFile({ file, manifestFile, keysFile }) {
  const { verifyExport } = contracts();
  try {
    const info = await stat(file);
    if (!info.isFile()) throw usageError(`${file} is not a file`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw usageError(`cannot read the export ${file}: ${err.code ?? err.message}`);
  }
  const manifest = await readJson(manifestFile, 'manifest');
  if (!manifest || typeof manifest !== 'object' || !manifest.treeHead) {
    throw usageError(`${manifestFile} is not an export manifest`);
  }
  const published = await readJson(keysFile, 'keys file');
  const keys = Array.isArray(published) ? published : published?.keys;
  if (!Array.isArray(keys)) throw usageError(`${keysFile} holds no "keys" array`);
  let verdict;
  try {
    verdict = await verifyExport(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      manifest,
      keys,
    );
  } catch (err) {
    throw usageError(`cannot read the export ${file}: ${err.code ?? err.message}`);
  }
  return { verdict, manifest };
}

/**
 * The start of line `n` (1-based) of a file: enough to see its position and leaf hash (a line's
 * personal details come last and are not shown).
 */
export async function lineExcerpt(file, n, max = 80) {
  if (!(n >= 1)) return undefined;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let at = 0;
  try {
    for await (const line of lines) {
      if (++at === n) return line.length > max ? `${line.slice(0, max)}…` : line;
    }
  } catch {
    // unreadable now: the verdict stands without its excerpt
  } finally {
    lines.close();
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Download
// ---------------------------------------------------------------------------------------------

/**
 * The register's published keys (GET /.well-known/signing-keys, no token). The gateway answers
 * 503 when a service's keys could not be fetched: that is fine unless the register is the one
 * missing, since only its keys matter here.
 */
export async function registerKeys(gateway) {
  const { status, body } = await gateway.publicJson('/.well-known/signing-keys');
  const unavailable = Array.isArray(body?.unavailable) ? body.unavailable : [];
  if (status !== 200 && (status !== 503 || unavailable.includes(REGISTER))) {
    throw new CliError(
      `the register's signing keys are not available (HTTP ${status}${unavailable.length ? `: no keys from ${unavailable.join(', ')}` : ''})`,
      EXIT.UNAVAILABLE,
    );
  }
  const keys = (Array.isArray(body?.keys) ? body.keys : []).filter((k) => k?.service === REGISTER);
  if (keys.length === 0) {
    throw new CliError('the gateway publishes no key of the register', EXIT.UNAVAILABLE);
  }
  return keys;
}

function manifestOf(res) {
  const header = res.headers.get('dsg-export-manifest');
  const entries = Number(res.headers.get('dsg-export-entries'));
  let manifest;
  try {
    manifest = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'));
  } catch {
    manifest = undefined;
  }
  if (!header || !manifest?.treeHead || !Number.isInteger(entries) || entries < 0) {
    throw new CliError(
      'the gateway sent no export manifest (Dsg-Export-Manifest) or entry count (Dsg-Export-Entries): is --url the gateway?',
      EXIT.UNAVAILABLE,
    );
  }
  if (manifest.entries !== entries) {
    throw new CliError(
      `the manifest promises ${manifest.entries} entries, Dsg-Export-Entries ${entries}`,
      EXIT.UNAVAILABLE,
    );
  }
  return { manifest, entries };
}

const interruptedError = () => new CliError('interrupted: no export was written', 130);

/** The file name the gateway suggests (Content-Disposition), as a bare name. */
function suggestedName(res, format) {
  const match = /filename="?([^";]+)"?/i.exec(res.headers.get('content-disposition') ?? '');
  const name = match ? basename(match[1]).replace(/[^A-Za-z0-9._-]/g, '_') : '';
  return name && !name.startsWith('.') ? name : `register.${format}`;
}

function refuseToOverwrite(paths, force) {
  if (force) return;
  const there = paths.filter((p) => existsSync(p));
  if (there.length > 0) {
    throw usageError(`${there.join(', ')} already exists: pass --force to replace`);
  }
}

async function writeAtomically(path, text) {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.part`);
  try {
    await writeFile(temp, text, { flag: 'w' });
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw usageError(`cannot write ${path}: ${err.code ?? err.message}`);
  }
}

/**
 * Downloads an export into `out` (or the name the gateway suggests), with `out.manifest.json` and
 * `out.keys.json` beside it. The lines go to a temporary file in the same folder, renamed only
 * once every promised line is in: a stream cut short, stalled for `timeoutMs` or interrupted
 * leaves nothing behind. Answers a summary.
 */
export async function downloadExport(gateway, { out, force, query, timeoutMs, progress }) {
  if (out) refuseToOverwrite([out, ...Object.values(besideExport(out))], force);
  let keys = await registerKeys(gateway);

  const abort = new AbortController();
  let stalled = false;
  let stall;
  const armStall = () => {
    clearTimeout(stall);
    stall = setTimeout(() => {
      stalled = true;
      abort.abort();
    }, timeoutMs);
  };
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  armStall();
  let temp;
  try {
    const res = await gateway.stream('/v1/register/export', { query, signal: abort.signal });
    armStall();
    const { manifest, entries } = manifestOf(res);
    const file = out ?? suggestedName(res, manifest.format);
    if (!out) refuseToOverwrite([file, ...Object.values(besideExport(file))], force);
    const header = manifest.format === 'csv' ? 1 : 0;
    const expected = entries + header;

    temp = join(dirname(file), `.${basename(file)}.${process.pid}.part`);
    let sink;
    try {
      sink = createWriteStream(temp, { flags: 'wx' });
      await new Promise((resolve, reject) => sink.once('open', resolve).once('error', reject));
    } catch (err) {
      temp = undefined;
      throw usageError(`cannot write in ${dirname(file)}: ${err.code ?? err.message}`);
    }
    const bar = new ProgressBar(entries, { enabled: progress });
    let lines = 0;
    let byteCount = 0;
    let last = -1;
    const counter = new Transform({
      transform(chunk, _encoding, done) {
        armStall();
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
        byteCount += chunk.length;
        if (chunk.length > 0) last = chunk[chunk.length - 1];
        bar.update(Math.max(0, lines - header), byteCount);
        done(null, chunk);
      },
    });
    try {
      await pipeline(res.body ? Readable.fromWeb(res.body) : Readable.from([]), counter, sink);
    } catch (err) {
      bar.end();
      if (interrupted) throw interruptedError();
      if (err?.code === 'ENOSPC' || err?.syscall === 'write') {
        throw usageError(`cannot write ${file}: ${err.code ?? err.message}`);
      }
      const wasStalled = stalled;
      stalled = false; // said here, with how far it got, not again below
      throw new CliError(
        wasStalled
          ? `the export stalled: nothing for ${Math.round(timeoutMs / 1000)} s after ${lines} of ${expected} lines; no file was written`
          : `the export broke off after ${lines} of ${expected} lines; no file was written`,
        EXIT.UNAVAILABLE,
      );
    } finally {
      clearTimeout(stall);
    }
    bar.end();
    if (lines !== expected || (byteCount > 0 && last !== 10)) {
      throw new CliError(
        `the export ended after ${lines} of ${expected} lines${lines === expected ? ' (the last one incomplete)' : ''}; no file was written`,
        EXIT.UNAVAILABLE,
      );
    }
    // Keys fetched before the download may predate a rotation: ask again if the signer is new.
    const signers = [manifest.kid, manifest.treeHead.kid];
    if (!signers.every((kid) => keys.some((k) => k.kid === kid)))
      keys = await registerKeys(gateway);
    const missing = signers.filter((kid) => !keys.some((k) => k.kid === kid));
    if (missing.length > 0) {
      throw new CliError(
        `the register publishes no key ${missing.join(', ')}, which signed this export; no file was written`,
        EXIT.INVALID,
      );
    }
    const beside = besideExport(file);
    await writeAtomically(beside.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
    await writeAtomically(
      beside.keys,
      `${JSON.stringify(
        {
          source: `${gateway.base}/.well-known/signing-keys`,
          fetchedAt: new Date().toISOString(),
          keys,
        },
        null,
        2,
      )}\n`,
    );
    try {
      await rename(temp, file);
    } catch (err) {
      throw usageError(`cannot write ${file}: ${err.code ?? err.message}`);
    }
    temp = undefined;
    return {
      file,
      manifestFile: beside.manifest,
      keysFile: beside.keys,
      format: manifest.format,
      kind: manifest.kind,
      entries,
      bytes: byteCount,
      treeSize: manifest.treeHead.treeSize,
      fromPosition: manifest.fromPosition,
      toPosition: manifest.toPosition,
      ...(manifest.filter ? { filter: manifest.filter } : {}),
      proves: manifest.proves,
    };
  } catch (err) {
    if (interrupted) throw interruptedError();
    if (stalled) {
      throw new CliError(
        `the gateway sent nothing for ${Math.round(timeoutMs / 1000)} s; no file was written`,
        EXIT.UNAVAILABLE,
      );
    }
    throw err;
  } finally {
    clearTimeout(stall);
    process.removeListener('SIGINT', onSigint);
    if (temp) await unlink(temp).catch(() => undefined);
  }
}
