import { canonicalJson } from '@dsg/contracts/log/canonical-json';
import { leafHash, pushSubtree, rangeRoot, rootHash } from '@dsg/contracts/log/merkle';
import { randomBytes } from 'node:crypto';
import { checkBatch, commitment, CopyBatcher, type Nodes, VERIFY_BATCH_ROWS } from './verify-batch';

/** Rows as the register stores them, encoded as PostgreSQL's binary COPY sends them. */
function copyStream(
  rows: { position: number; leaf: string; hash: Buffer; details?: string; salt?: Buffer }[],
) {
  const field = (value: Buffer | undefined) => {
    const length = Buffer.alloc(4);
    length.writeInt32BE(value ? value.length : -1);
    return value ? [length, value] : [length];
  };
  const header = Buffer.concat([
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
    Buffer.alloc(8), // flags, header extension length
  ]);
  const tuples = rows.flatMap((row) => {
    const count = Buffer.alloc(2);
    count.writeInt16BE(5);
    const position = Buffer.alloc(8);
    position.writeBigInt64BE(BigInt(row.position));
    return [
      count,
      ...field(position),
      ...field(Buffer.from(row.leaf)),
      ...field(row.hash),
      ...field(row.details === undefined ? undefined : Buffer.from(row.details)),
      ...field(row.salt),
    ];
  });
  return Buffer.concat([header, ...tuples, Buffer.from([0xff, 0xff])]);
}

function entries(count: number) {
  return Array.from({ length: count }, (_, position) => {
    const salt = randomBytes(16);
    const details = { subject: `client-${position}`, description: 'x'.repeat(position % 50) };
    const leaf = canonicalJson({ v: 1, position, details: commitment(salt, details) });
    return {
      position,
      leaf,
      hash: leafHash(leaf),
      // As the register stores details (the canonical JSON committed to) and, at odd positions,
      // in another key order, as entries stored before it did (jsonb's text) hold them.
      details: position % 2 ? JSON.stringify(details) : canonicalJson(details),
      salt,
    };
  });
}

/** Feeds the stream in uneven chunks, as a socket would deliver it. */
function cut(stream: Buffer): Buffer[] {
  const batcher = new CopyBatcher();
  const batches: Buffer[] = [];
  for (let at = 0, size = 1; at < stream.length; at += size, size = (size * 7 + 13) % 70_001) {
    batches.push(...batcher.push(stream.subarray(at, at + size)));
  }
  const last = batcher.finish();
  if (last) batches.push(last);
  return batches;
}

describe('verify in batches', () => {
  const rows = entries(VERIFY_BATCH_ROWS * 2 + 1_234);
  const heads = [1, 5, VERIFY_BATCH_ROWS, VERIFY_BATCH_ROWS + 3, rows.length];

  it('cuts the COPY stream into whole batches whose subtrees fold into the log’s tree', () => {
    const batches = cut(copyStream(rows));
    expect(batches).toHaveLength(3);
    const nodes: Nodes = [];
    const roots = new Map<number, Buffer>();
    batches.forEach((bytes, i) => {
      const first = i * VERIFY_BATCH_ROWS;
      const headSizes = heads.filter((s) => s > first && s <= first + VERIFY_BATCH_ROWS);
      const result = checkBatch({ first, bytes, headSizes });
      expect(result.bad).toBeUndefined();
      for (const snapshot of result.snapshots) {
        const at = [...nodes];
        for (const node of snapshot.nodes) pushSubtree(at, node);
        roots.set(snapshot.size, rangeRoot({ nodes: at, size: snapshot.size }));
      }
      for (const node of result.nodes) pushSubtree(nodes, node);
    });
    const leaves = rows.map((r) => r.hash);
    for (const size of heads) expect(roots.get(size)).toEqual(rootHash(leaves.slice(0, size)));
  });

  it.each([
    [
      'a changed leaf',
      (r: ReturnType<typeof entries>) => (r[7].leaf = r[7].leaf.replace('"v":1', '"v":2')),
      7,
      'leaf does not match its hash',
    ],
    [
      'forged details',
      (r: ReturnType<typeof entries>) => (r[7].details = '{"subject":"someone-else"}'),
      7,
      'details do not match their commitment',
    ],
    [
      'details stored canonically, changed',
      (r: ReturnType<typeof entries>) =>
        (r[6].details = r[6].details!.replace('client-6', 'client-9')),
      6,
      'details do not match their commitment',
    ],
    [
      'details that are not JSON',
      (r: ReturnType<typeof entries>) => (r[6].details = r[6].details!.slice(0, -1)),
      6,
      'details do not match their commitment',
    ],
    ['a missing entry', (r: ReturnType<typeof entries>) => r.splice(7, 1), 7, 'entry missing'],
    [
      'two entries swapped',
      (r: ReturnType<typeof entries>) => {
        const [a, b] = [r[7], r[8]];
        r[7] = { ...b, position: 7 };
        r[8] = { ...a, position: 8 };
      },
      7,
      'entry is not at its place',
    ],
  ])('names the first bad entry: %s', (_name, tamper, position, problem) => {
    const copy = entries(20);
    tamper(copy);
    const [bytes] = cut(copyStream(copy));
    const result = checkBatch({ first: 0, bytes, headSizes: [] });
    expect(result.bad).toEqual({ position, problem });
    expect(result.checked).toBe(position);
  });

  it('refuses a stream that ends inside a row', () => {
    const stream = copyStream(entries(3));
    const batcher = new CopyBatcher();
    batcher.push(stream.subarray(0, stream.length - 10));
    expect(() => batcher.finish()).toThrow('inside a row');
  });
});
