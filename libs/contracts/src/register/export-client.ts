import type { CallOptions, DsgClient } from '../client/dsg-client';
import type { ExportManifest, ExportManifestRequest, ExportPageRequest } from './exports.dto';

export interface ExportOptions extends Pick<CallOptions, 'assertion' | 'timeoutMs'> {
  /** Pages asked for at once in a contiguous export (default 6); filtered pages go one by one. */
  parallel?: number;
  /** Entries a page (default: the register's, 1000). */
  pageSize?: number;
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
  const call = { assertion: options.assertion, timeoutMs: options.timeoutMs, retries: 2 };
  const manifest = await dsg.disclosureRegister.exportManifest(request, call);
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
        call,
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
