import {
  type DsgClient,
  ErrorCodes,
  type ExportManifest,
  type ExportManifestRequest,
  exportRegister,
  type PublicSigningKey,
  type Role,
  verifyExport,
} from '@dsg/contracts';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { refusal } from './support/refusal';
import { discloseMixed } from './support/disclosures';
import { RegisterStack } from './support/register-stack';

/**
 * Auditor exports of the register, through its public NATS API as the gateway carries people's
 * assertions, verified offline with nothing but the export, its manifest and the published keys
 * (the function and the command); and the same file changed by one byte, a line removed or two
 * lines swapped does not verify.
 */
describe('disclosure register: exports that verify offline', () => {
  const run = Date.now().toString(36);
  const subjects = [`exp-a-${run}`, `exp-b-${run}`];
  let stack: RegisterStack;
  let booking: DsgClient;
  let asGateway: DsgClient;
  let keys: PublicSigningKey[];
  let lastPosition = 0;

  const as = (roles: Role[], subject?: string) => stack.as(roles, subject);
  const exported = async (
    request: ExportManifestRequest,
    pageSize?: number,
    options: { linesUrl?: string; roles?: Role[] } = {},
  ) => {
    const chunks: Buffer[] = [];
    const manifest = await exportRegister(
      asGateway,
      request,
      (c) => void chunks.push(Buffer.from(c)),
      {
        assertion: as(options.roles ?? ['auditor']).assertion,
        ...(pageSize ? { pageSize } : {}),
        ...(options.linesUrl ? { linesUrl: options.linesUrl } : {}),
      },
    );
    return { manifest, bytes: Buffer.concat(chunks) };
  };
  const verify = (bytes: Buffer, manifest: ExportManifest) =>
    verifyExport(
      (async function* () {
        // In uneven chunks, as a file is read: lines are cut across them.
        for (let i = 0; i < bytes.length; i += 777) yield bytes.subarray(i, i + 777);
      })(),
      manifest,
      keys,
    );
  const lines = (bytes: Buffer) => bytes.toString('utf8').split('\n').slice(0, -1);
  const joined = (ls: string[]) => Buffer.from(`${ls.join('\n')}\n`);

  beforeAll(async () => {
    stack = await RegisterStack.start();
    ({ booking, asGateway } = stack);
    for (const clientId of subjects) {
      await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1981-02-03' });
    }
    // Allowed and denied entries, to two recipients, with details that need escaping.
    lastPosition = await discloseMixed(booking, subjects, 12, 'Export test');
    keys = (await booking.disclosureRegister.signingKeys()).keys;
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('exports the whole log as CSV, a few entries a page, and it verifies offline', async () => {
    const { manifest, bytes } = await exported({ format: 'csv' }, 5);
    expect(manifest).toMatchObject({ kind: 'range', format: 'csv', fromPosition: 0 });
    expect(manifest.toPosition).toBe(manifest.treeHead.treeSize);
    expect(manifest.entries).toBe(manifest.treeHead.treeSize);
    expect(lines(bytes)).toHaveLength(manifest.entries + 1);
    expect(lines(bytes)[0]).toBe('position,leaf_hash,leaf,details,salt');
    await expect(verify(bytes, manifest)).resolves.toEqual({
      valid: true,
      entries: manifest.entries,
    });
  });

  it('names the first bad line of an export changed by one byte, a line removed, or two lines swapped', async () => {
    const { manifest, bytes } = await exported({ format: 'csv' });
    const all = lines(bytes);
    const target = all.findIndex((l) => l.includes('Export test 4'));
    expect(target).toBeGreaterThan(0);

    // One byte of a leaf: its hash no longer matches.
    const leafByte = all.map((l, i) =>
      i === target ? l.replace('payments-and-memberships', 'payments-and-membershipz') : l,
    );
    await expect(verify(joined(leafByte), manifest)).resolves.toMatchObject({
      valid: false,
      line: target + 1,
      problem: 'the leaf does not match its hash',
    });
    // One byte of the personal details: no longer what the leaf commits to.
    const detailsByte = all.map((l, i) =>
      i === target ? l.replace('Export test 4', 'Export test 5') : l,
    );
    await expect(verify(joined(detailsByte), manifest)).resolves.toMatchObject({
      valid: false,
      line: target + 1,
      problem: 'the details do not match their commitment',
    });
    // A line removed: the next is not at the expected position.
    const removed = all.filter((_, i) => i !== target);
    await expect(verify(joined(removed), manifest)).resolves.toMatchObject({
      valid: false,
      line: target + 1,
    });
    // Two lines swapped.
    const swapped = [...all];
    [swapped[target], swapped[target + 1]] = [swapped[target + 1], swapped[target]];
    await expect(verify(joined(swapped), manifest)).resolves.toMatchObject({
      valid: false,
      line: target + 1,
    });
    // The tail cut: the export ends early.
    await expect(verify(joined(all.slice(0, -1)), manifest)).resolves.toMatchObject({
      valid: false,
      problem: expect.stringContaining('the export ends after'),
    });
    // A manifest changed after signing.
    await expect(
      verify(bytes, { ...manifest, entries: manifest.entries - 1 }),
    ).resolves.toMatchObject({
      valid: false,
      line: 0,
      problem: expect.stringContaining('signature does not verify'),
    });
  });

  it('verifies a range in the middle of the log against the subtrees either side of it (JSON Lines)', async () => {
    const head = await booking.disclosureRegister.treeHead();
    const fromPosition = Math.max(0, lastPosition - 7);
    const toPosition = Math.min(head.treeSize, lastPosition - 2);
    const { manifest, bytes } = await exported({ format: 'jsonl', fromPosition, toPosition }, 2);
    expect(manifest.entries).toBe(toPosition - fromPosition);
    expect(manifest.rangeProof!.left.length).toBeGreaterThan(0);
    expect(lines(bytes)).toHaveLength(toPosition - fromPosition);
    expect(JSON.parse(lines(bytes)[0])).toMatchObject({ position: fromPosition });
    await expect(verify(bytes, manifest)).resolves.toEqual({
      valid: true,
      entries: toPosition - fromPosition,
    });
  });

  it('exports the entries a filter selects, each with its inclusion proof, and notices one left out', async () => {
    for (const format of ['csv', 'jsonl'] as const) {
      const { manifest, bytes } = await exported({
        format,
        filter: { clientId: subjects[0], recipientId: 'cherry' },
      });
      expect(manifest.kind).toBe('filtered');
      expect(manifest.proves).toContain('does not prove that no other entry matches');
      // Entries 2, 4, 8 and 10 of the twelve: subject a, to Cherry.
      expect(manifest.entries).toBe(4);
      const body = lines(bytes).slice(format === 'csv' ? 1 : 0);
      expect(body).toHaveLength(4);
      expect(body.every((l) => l.includes(subjects[0]))).toBe(true);
      await expect(verify(bytes, manifest)).resolves.toEqual({ valid: true, entries: 4 });
      const dropped = lines(bytes).filter((_, i) => i !== lines(bytes).length - 1);
      await expect(verify(joined(dropped), manifest)).resolves.toMatchObject({
        valid: false,
        problem: 'the export ends after 3 entries; the manifest has 4',
      });
    }
  });

  it('verifies with the command, and names the bad line with a non-zero exit', async () => {
    const { manifest, bytes } = await exported({ format: 'csv' });
    const dir = mkdtempSync(join(tmpdir(), 'dsg-export-'));
    writeFileSync(join(dir, 'export.csv'), bytes);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(join(dir, 'keys.json'), JSON.stringify({ keys }));
    const command = (file: string) =>
      promisify(execFile)(process.execPath, [
        'scripts/verify-export.mjs',
        join(dir, file),
        join(dir, 'manifest.json'),
        join(dir, 'keys.json'),
      ]);
    const ok = await command('export.csv');
    expect(ok.stdout).toContain(`valid: ${manifest.entries} entries`);
    const all = lines(bytes);
    writeFileSync(join(dir, 'bad.csv'), joined([...all.slice(0, 3), ...all.slice(4)]));
    const bad = await command('bad.csv').then(
      () => undefined,
      (err: { code: number; stdout: string }) => err,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stdout).toContain('invalid: line 4:');
  });

  it('streams a contiguous export over HTTP (CSV and JSON Lines), byte for byte the paged one, and it verifies', async () => {
    const register = stack.register;
    const paged = await exported({ format: 'csv' }, 4);
    const streamed = await exported(
      { format: 'csv', treeSize: paged.manifest.treeHead.treeSize },
      undefined,
      {
        linesUrl: register.url('/'),
      },
    );
    expect(streamed.bytes.equals(paged.bytes)).toBe(true);
    await expect(verify(streamed.bytes, streamed.manifest)).resolves.toEqual({
      valid: true,
      entries: streamed.manifest.entries,
    });
    const head = await booking.disclosureRegister.treeHead();
    const middle = await exported(
      { format: 'jsonl', fromPosition: 1, toPosition: Math.min(head.treeSize, 6) },
      undefined,
      { linesUrl: register.url('/'), roles: ['privacy_officer'] },
    );
    expect(lines(middle.bytes)).toHaveLength(middle.manifest.entries);
    await expect(verify(middle.bytes, middle.manifest)).resolves.toMatchObject({ valid: true });
  });

  it('refuses HTTP lines without an assertion or the role, and bad terms by field, as problem+json', async () => {
    const register = stack.register;
    const head = await booking.disclosureRegister.treeHead();
    const get = (query: string, assertion?: string) =>
      fetch(register.url(`/exports/lines?${query}`), {
        headers: assertion ? { 'Dsg-Assertion': assertion } : {},
      });
    const terms = `format=csv&treeSize=${head.treeSize}`;
    const none = await get(terms);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(await none.json()).toMatchObject({ code: ErrorCodes.UNAUTHENTICATED });
    const operator = await get(terms, as(['operator']).assertion);
    expect(operator.status).toBe(403);
    // An assertion is good for one HTTP call: one seen in transit is spent.
    const once = as(['auditor']).assertion;
    expect((await get(`${terms}&toPosition=1`, once)).status).toBe(200);
    const replayed = await get(`${terms}&toPosition=1`, once);
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toMatchObject({ detail: expect.stringContaining('used before') });
    const beyond = await get(`${terms}&toPosition=${head.treeSize + 1}`, as(['auditor']).assertion);
    expect(beyond.status).toBe(400);
    expect(await beyond.json()).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      errors: [expect.objectContaining({ field: 'toPosition' })],
    });
    const notANumber = await get('format=csv&treeSize=many', as(['auditor']).assertion);
    expect(notANumber.status).toBe(400);
    const problem = (await notANumber.json()) as { errors: { field: string }[] };
    expect(new Set(problem.errors.map((e) => e.field))).toEqual(new Set(['treeSize']));
    // Through the client: the same refusal as a DsgError.
    const err = await refusal(
      exported({ format: 'csv' }, undefined, { linesUrl: register.url('/'), roles: ['operator'] }),
    );
    expect(err.code).toBe(ErrorCodes.FORBIDDEN);
  });

  it('refuses exports to callers without the auditor or privacy officer role, and bad ranges by field', async () => {
    const noAssertion = await refusal(
      asGateway.disclosureRegister.exportManifest({ format: 'csv' }, { retries: 0 }),
    );
    expect(noAssertion.code).toBe(ErrorCodes.UNAUTHENTICATED);
    const operator = await refusal(
      asGateway.disclosureRegister.exportManifest({ format: 'csv' }, as(['operator'])),
    );
    expect(operator.code).toBe(ErrorCodes.FORBIDDEN);
    const head = await booking.disclosureRegister.treeHead();
    const beyond = await refusal(
      asGateway.disclosureRegister.exportManifest(
        { format: 'csv', toPosition: head.treeSize + 10, treeSize: head.treeSize },
        as(['auditor']),
      ),
    );
    expect(beyond.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(beyond.fields).toEqual([expect.objectContaining({ field: 'toPosition' })]);
    const format = await refusal(
      asGateway.disclosureRegister.exportManifest(
        { format: 'xlsx' } as unknown as ExportManifestRequest,
        as(['auditor']),
      ),
    );
    expect(format.code).toBe(ErrorCodes.VALIDATION_FAILED);
  });
});
