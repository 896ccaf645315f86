import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { canonicalJson } from '../log/canonical-json';
import { commitmentOfText } from '../log/leaf';
import { leafHash, rootHash } from '../log/merkle';
import type { ExportManifest } from './exports.dto';
import {
  csvField,
  exportColumns,
  manifestSignedMessage,
  treeHeadSignedMessage,
  verifyExport,
} from './exports';
import { createHash } from 'node:crypto';

/**
 * The offline verifier on an export of several megabytes (so its lines go in several jobs, cut
 * across the chunks they are read in): valid as written, and the first bad line named wherever
 * the damage is, in the first job, at a job's edge, or in the last.
 */
describe('verifyExport', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string };
  const keys = [{ kid: 'k1', kty: 'OKP' as const, crv: 'Ed25519' as const, x: jwk.x }];
  const signed = (message: string) =>
    sign(null, Buffer.from(message), privateKey).toString('base64url');

  const SIZE = 12_000;
  const lines: string[] = [];
  const hashes: Buffer[] = [];
  for (let position = 0; position < SIZE; position++) {
    const salt = randomBytes(16);
    const details = canonicalJson({
      clientId: `c-${position % 97}`,
      description: `Entry ${position}, "quoted" and long: ${'x'.repeat(300)}`,
    });
    const leaf = canonicalJson({
      decision: 'ALLOW',
      details: commitmentOfText(salt, details),
      position,
      purpose: 'payments-and-memberships',
      v: 1,
    });
    const hash = leafHash(leaf);
    hashes.push(hash);
    lines.push(
      [
        position,
        hash.toString('hex'),
        csvField(leaf),
        csvField(details),
        salt.toString('hex'),
      ].join(','),
    );
  }
  const head = {
    treeSize: SIZE,
    rootHash: rootHash(hashes).toString('hex'),
    sealedAt: '2026-12-01T00:00:00.000Z',
    kid: 'k1',
    signature: '',
  };
  head.signature = signed(treeHeadSignedMessage(head));
  const unsigned = {
    v: 1 as const,
    kind: 'range' as const,
    format: 'csv' as const,
    columns: exportColumns('range', 'csv'),
    fromPosition: 0,
    toPosition: SIZE,
    entries: SIZE,
    leavesDigest: createHash('sha256').update(Buffer.concat(hashes)).digest('hex'),
    treeHead: head,
    rangeProof: { left: [], right: [] },
    proves: 'test',
    createdAt: '2026-12-01T00:00:00.000Z',
    kid: 'k1',
  };
  const manifest: ExportManifest = {
    ...unsigned,
    signature: signed(manifestSignedMessage({ ...unsigned, signature: '' })),
  };
  const file = (body: string[]) =>
    Buffer.from(`${exportColumns('range', 'csv').join(',')}\n${body.join('\n')}\n`);
  const read = async function* (bytes: Buffer) {
    for (let i = 0; i < bytes.length; i += 65_537) yield bytes.subarray(i, i + 65_537);
  };

  it('accepts the export as written, read in chunks that cut lines', async () => {
    expect(file(lines).length).toBeGreaterThan(3 * 1024 * 1024);
    await expect(verifyExport(read(file(lines)), manifest, keys)).resolves.toEqual({
      valid: true,
      entries: SIZE,
    });
  });

  it.each([10, 2_700, 5_000, SIZE - 1])(
    'names the line of entry %i when it is changed, removed or moved',
    async (at) => {
      const changed = lines.map((l, i) => (i === at ? l.replace('Entry ', 'Entrx ') : l));
      await expect(verifyExport(read(file(changed)), manifest, keys)).resolves.toMatchObject({
        valid: false,
        line: at + 2,
        entries: at,
        problem: 'the details do not match their commitment',
      });
      const removed = lines.filter((_, i) => i !== at);
      await expect(verifyExport(read(file(removed)), manifest, keys)).resolves.toMatchObject({
        valid: false,
        line: at + 2,
      });
      if (at + 1 < SIZE) {
        const moved = [...lines];
        [moved[at], moved[at + 1]] = [moved[at + 1], moved[at]];
        await expect(verifyExport(read(file(moved)), manifest, keys)).resolves.toMatchObject({
          valid: false,
          line: at + 2,
        });
      }
    },
  );

  it('accepts a last line without its newline, and refuses a file without its header', async () => {
    const bytes = file(lines);
    await expect(
      verifyExport(read(bytes.subarray(0, bytes.length - 1)), manifest, keys),
    ).resolves.toEqual({ valid: true, entries: SIZE });
    await expect(
      verifyExport(read(Buffer.from(`${lines.join('\n')}\n`)), manifest, keys),
    ).resolves.toMatchObject({ valid: false, line: 1 });
  });
});
