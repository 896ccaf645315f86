import { request as httpGet } from 'node:http';
import { request as httpsGet } from 'node:https';
import type { CallOptions, DsgClient } from '../client/dsg-client';
import { DsgError, ErrorCodes, UnavailableError } from '../errors';
import { Headers } from '../wire';
import type { ExportManifest, ExportManifestRequest, ExportPageRequest } from './exports.dto';

export interface ExportOptions extends Pick<CallOptions, 'timeoutMs'> {
  /**
   * The gateway's assertion for the register, or a function minting one per call (an export
   * longer than an assertion's lifetime needs fresh ones).
   */
  assertion?: string | (() => string);
  /** The export's manifest, already fetched (with the request's terms): not asked for again. */
  manifest?: ExportManifest;
  /** Pages asked for at once in a contiguous export (default 6); filtered pages go one by one. */
  parallel?: number;
  /** Entries a page (default: the register's, 1000). */
  pageSize?: number;
  /**
   * Where a contiguous export's lines stream from over HTTP (`GET <linesUrl>/exports/lines`,
   * the register's HTTP address, or the gateway's route to it): one streamed response instead
   * of NATS pages, for millions of entries. Filtered exports always come in pages.
   */
  linesUrl?: string;
}

/**
 * Fetches an export from the register: its signed manifest first, then its lines page by page,
 * each handed to `write` in order (awaited: the pace is the writer's, memory stays bounded). A CSV
 * export starts with its header line. Returns the manifest, to keep beside the file for
 * `verifyExport`.
 */
export async function exportRegister(
  dsg: DsgClient,
  request: ExportManifestRequest,
  write: (chunk: Uint8Array) => Promise<void> | void,
  options: ExportOptions = {},
): Promise<ExportManifest> {
  const assertion = () =>
    typeof options.assertion === 'function' ? options.assertion() : options.assertion;
  const call = (): CallOptions => ({
    assertion: assertion(),
    timeoutMs: options.timeoutMs,
    retries: 2,
  });
  const manifest =
    options.manifest ?? (await dsg.disclosureRegister.exportManifest(request, call()));
  if (manifest.format === 'csv') await write(Buffer.from(`${manifest.columns.join(',')}\n`));
  const terms: ExportPageRequest = {
    format: manifest.format,
    treeSize: manifest.treeHead.treeSize,
    fromPosition: manifest.fromPosition,
    toPosition: manifest.toPosition,
    ...(manifest.filter ? { filter: manifest.filter } : {}),
    ...(options.pageSize ? { limit: options.pageSize } : {}),
  };
  /** Every page of [from, to): the register may cut a page short, so ask until it is covered. */
  const window = async (from: number, to: number): Promise<Uint8Array[]> => {
    const bodies: Uint8Array[] = [];
    for (let at: number | undefined = from; at !== undefined && at < to;) {
      const page = await dsg.disclosureRegister.exportPage(
        { ...terms, from: at, toPosition: to },
        call(),
      );
      bodies.push(page.body ?? new Uint8Array());
      at = page.next;
    }
    return bodies;
  };
  if (manifest.kind === 'filtered') {
    for (const body of await window(manifest.fromPosition, manifest.toPosition)) await write(body);
    return manifest;
  }
  if (options.linesUrl) {
    const lineAssertion = assertion();
    if (!lineAssertion) {
      throw new DsgError(ErrorCodes.UNAUTHENTICATED, 'An export over HTTP needs an assertion');
    }
    await streamLines(
      options.linesUrl,
      terms,
      lineAssertion,
      write,
      manifest.entries,
      options.timeoutMs ?? 60_000,
    );
    return manifest;
  }
  // Contiguous: windows of positions fetched a few at a time, written in order.
  const size = options.pageSize ?? 1000;
  const parallel = Math.max(1, options.parallel ?? 6);
  const pending: Promise<Uint8Array[]>[] = [];
  let next = manifest.fromPosition;
  const fill = () => {
    while (pending.length < parallel && next < manifest.toPosition) {
      const to = Math.min(next + size, manifest.toPosition);
      const fetched = window(next, to);
      // Awaited in its turn; marked handled now, so a failure while an earlier one is awaited
      // is not an unhandled rejection.
      fetched.catch(() => undefined);
      pending.push(fetched);
      next = to;
    }
  };
  fill();
  while (pending.length > 0) {
    const bodies = await pending.shift()!;
    fill();
    for (const body of bodies) await write(body);
  }
  return manifest;
}

/**
 * The lines of a contiguous export as one HTTP response, handed to `write` chunk by chunk in
 * order (the response is paused while a write is pending: the writer sets the pace). A refusal
 * is the register's problem+json as a DsgError; a response cut short, or with another number of
 * lines than the manifest's, is an error: the file is incomplete.
 */
function streamLines(
  base: string,
  terms: ExportPageRequest,
  assertion: string,
  write: (chunk: Uint8Array) => Promise<void> | void,
  expected: number,
  /** Cut the response if nothing arrives for this long. */
  idleMs: number,
): Promise<void> {
  const url = new URL('exports/lines', base.endsWith('/') ? base : `${base}/`);
  url.search = new URLSearchParams({
    format: terms.format,
    treeSize: String(terms.treeSize),
    fromPosition: String(terms.fromPosition ?? 0),
    ...(terms.toPosition !== undefined ? { toPosition: String(terms.toPosition) } : {}),
  }).toString();
  const get = url.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise<void>((resolve, reject) => {
    const req = get(url, { headers: { [Headers.ASSERTION]: assertion } }, (res) => {
      if (res.statusCode !== 200) {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => reject(problem(res.statusCode, Buffer.concat(parts))));
        res.on('error', reject);
        return;
      }
      let lines = 0;
      let failed = false;
      res.on('data', (chunk: Buffer) => {
        for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
        let pending: Promise<void> | void;
        try {
          pending = write(chunk);
        } catch (err) {
          failed = true;
          req.destroy();
          reject(err);
          return;
        }
        if (pending) {
          res.pause();
          pending.then(
            () => res.resume(),
            (err: unknown) => {
              failed = true;
              req.destroy();
              reject(err);
            },
          );
        }
      });
      res.on('end', () => {
        if (failed) return;
        if (!res.complete || lines !== expected) {
          reject(
            new UnavailableError(
              ErrorCodes.UNAVAILABLE,
              `The export's stream ended after ${lines} of ${expected} lines; fetch it again`,
            ),
          );
        } else resolve();
      });
      res.on('error', (err) => {
        if (!failed) reject(cutShort(err, lines, expected));
      });
    });
    req.on('error', (err) => reject(cutShort(err, 0, expected)));
    req.setTimeout(idleMs, () => req.destroy(new Error(`nothing arrived for ${idleMs} ms`)));
    req.end();
  });
}

function cutShort(err: Error, lines: number, expected: number): Error {
  return err instanceof DsgError
    ? err
    : new UnavailableError(
        ErrorCodes.UNAVAILABLE,
        `The export's stream failed after ${lines} of ${expected} lines (${err.message}); fetch it again`,
      );
}

/** An HTTP refusal (RFC 9457 problem+json, as the services write it) as a DsgError. */
function problem(status: number | undefined, body: Buffer): DsgError {
  try {
    const p = JSON.parse(body.toString('utf8')) as {
      code?: string;
      detail?: string;
      errors?: { field: string; constraint: string; message: string }[];
      correlationId?: string;
    };
    if (p.code) {
      return DsgError.fromBody({
        code: p.code,
        message: p.detail ?? '',
        ...(p.errors ? { fields: p.errors } : {}),
        ...(p.correlationId ? { correlationId: p.correlationId } : {}),
      });
    }
  } catch {
    // not problem+json
  }
  return new DsgError(ErrorCodes.INTERNAL, `The export's lines were refused (HTTP ${status})`);
}
