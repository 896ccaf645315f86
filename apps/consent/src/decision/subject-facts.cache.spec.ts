import type { Logger } from '@dsg/platform';
import type { DataSource } from 'typeorm';
import { SubjectFactsCache } from './subject-facts.cache';

/** A DataSource stub whose queries wait until the test lets them answer. */
function stubDataSource() {
  const pending: { sql: string; resolve: (rows: unknown[]) => void }[] = [];
  const dataSource = {
    query: (sql: string) => new Promise((resolve) => pending.push({ sql, resolve })),
  } as unknown as DataSource;
  return { dataSource, pending };
}
const row = (kind: string) => ({
  client_id: 'c-1',
  dob: '1990-01-01',
  ledger: [['purpose', 'internal-analytics', kind, 'self', 'web-form', 1]],
  restrictions: [],
});
const logger = { info: () => undefined } as unknown as Logger;
const tick = () => new Promise((r) => setImmediate(r));

describe(SubjectFactsCache.name, () => {
  it('reads again when the subject changed while it was being read (no stale decision after an acknowledged change)', async () => {
    const { dataSource, pending } = stubDataSource();
    const cache = new SubjectFactsCache(dataSource, logger);
    const read = cache.read('c-1');
    await tick();
    cache.invalidate(['c-1']); // a write was acknowledged while the first read was in flight
    pending.shift()!.resolve([row('grant')]); // the first read saw the state before it
    await tick();
    expect(pending).toHaveLength(1); // so it reads again
    pending.shift()!.resolve([row('opt-out')]);
    await expect(read).resolves.toMatchObject({ ledger: [{ kind: 'opt-out' }] });
  });

  it('answers from memory only while warm and leased; an invalidated subject is read afresh', async () => {
    const { dataSource, pending } = stubDataSource();
    const cache = new SubjectFactsCache(dataSource, logger);
    const load = cache.loadAll();
    await tick();
    pending.shift()!.resolve([row('grant')]);
    await load;
    expect(cache.peek('c-1')).toBeUndefined(); // no lease yet
    cache.setLeaseDeadline(performance.now() + 60_000);
    expect(cache.peek('c-1')).toMatchObject({ ledger: [{ kind: 'grant' }] });
    expect(cache.peek('nobody')).toBeNull(); // complete: unknown means unknown
    cache.invalidate(['c-1']);
    expect(cache.peek('c-1')).toBeUndefined();
    cache.setLeaseDeadline(performance.now() - 1);
    expect(cache.peek('nobody')).toBeUndefined(); // lease over: nothing is answered from memory
  });

  it('marks subjects changed during the bulk load stale', async () => {
    const { dataSource, pending } = stubDataSource();
    const cache = new SubjectFactsCache(dataSource, logger);
    cache.setLeaseDeadline(performance.now() + 60_000);
    const load = cache.loadAll();
    await tick();
    cache.invalidate(['c-1']);
    pending.shift()!.resolve([row('grant')]);
    await load;
    expect(cache.peek('c-1')).toBeUndefined();
  });
});
