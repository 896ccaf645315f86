import { type CheckRequest, DsgClient, DsgError, ErrorCodes } from '@dsg/contracts';
import { connectClient } from './support/clients';
import { e2eEnv } from './support/e2e-env';
import { natsPassword } from './support/nats-users';
import { ServiceProcess } from './support/service-process';

/**
 * Two consent replicas answering decisions from memory (issue 4, HIP-2): once an opt-out or a
 * revocation is acknowledged, no replica serves a decision made before it, including a replica
 * that was frozen while the change was made.
 */
describe('consent: replicas never serve a decision older than an acknowledged change (HIP-2)', () => {
  const run = Date.now().toString(36);
  const clientId = `rep-${run}`;
  // A short confirmation time, so the fencing case below runs in seconds.
  const env = { DECISION_LEASE_MS: '6000', DECISION_ACK_TIMEOUT_MS: '300' };
  let a: ServiceProcess;
  let b: ServiceProcess;
  let api: DsgClient;
  let patient: DsgClient;

  const analytics: CheckRequest = {
    clientId,
    recipientKind: 'service-provider',
    purpose: 'internal-analytics',
    categories: ['identifiers.contact'],
    legalBasis: 'health-care-operations',
  };
  const decisions = async (n: number) =>
    (await Promise.all(Array.from({ length: n }, () => api.consent.check(analytics)))).map(
      (r) => r.decision,
    );
  const record = (kind: 'opt-out' | 'opt-in') =>
    api.consent.ledgerRecord({
      clientId,
      kind,
      scopeType: 'purpose',
      scope: 'internal-analytics',
      method: 'web-form',
      actor: 'self',
      policyVersion: '2026.1',
    });
  const checksServed = async (replica: ServiceProcess) => {
    const text = await (await fetch(replica.url('/metrics'))).text();
    return text
      .split('\n')
      .filter((l) => l.includes('consent.decision.check') && l.includes('_count'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([
      ServiceProcess.start('consent', env),
      ServiceProcess.start('consent', env),
    ]);
    await Promise.all([a.waitReady(), b.waitReady()]);
    api = await connectClient('crm');
    const e = e2eEnv();
    // The caller of the fencing case, which stalls one replica (it tries until acknowledged).
    patient = await DsgClient.connect({
      caller: 'booking',
      password: natsPassword('booking'),
      natsUrl: e.natsUrl,
      subjectPrefix: e.subjectPrefix,
      timeoutMs: 1000,
    });
    await api.consent.subjectUpsert({ clientId, dateOfBirth: '1990-04-01' });
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await patient?.close();
    await Promise.all(
      [a, b].map(async (replica) => {
        if (!replica) return;
        replica.child.kill('SIGCONT');
        await replica.stop();
      }),
    );
  });

  it('both replicas report their in-memory state ready', async () => {
    for (const replica of [a, b]) {
      const status = (await (await fetch(replica.url('/health/ready'))).json()) as {
        checks: { name: string; state: string }[];
      };
      expect(status.checks).toContainEqual(
        expect.objectContaining({ name: 'decision-cache', state: 'up' }),
      );
    }
  });

  it('after every acknowledged opt-out or opt-in, every decision from either replica reflects it', async () => {
    expect(await decisions(20)).toEqual(Array(20).fill('ALLOW'));
    const before = [await checksServed(a), await checksServed(b)];
    for (let round = 0; round < 8; round++) {
      await record('opt-out');
      expect(await decisions(30)).toEqual(Array(30).fill('DENY'));
      await record('opt-in');
      expect(await decisions(30)).toEqual(Array(30).fill('ALLOW'));
    }
    // Both replicas answered (the queue group spreads the checks): each one's memory was tested.
    expect(await checksServed(a)).toBeGreaterThan(before[0]);
    expect(await checksServed(b)).toBeGreaterThan(before[1]);
  }, 60_000);

  it('a frozen replica cannot hold up or outlive an acknowledged change: it is fenced (or its lease has lapsed) and answers fresh on waking', async () => {
    expect(await decisions(10)).toEqual(Array(10).fill('ALLOW'));
    b.child.kill('SIGSTOP');
    try {
      // Sent until acknowledged, under one key. The queue group hands a request to frozen B as
      // readily as to A, and B never answers; the client's own retries double their back-off,
      // which left as few as eight tries after A had waited out B's lease (one CI run lost all
      // of them to B). Tries of a second each until a deadline do not run out that way.
      const key = `freeze-${run}`;
      const deadline = Date.now() + 40_000;
      for (;;) {
        try {
          await patient.consent.ledgerRecord(
            {
              clientId,
              kind: 'opt-out',
              scopeType: 'purpose',
              scope: 'internal-analytics',
              method: 'web-form',
              actor: 'self',
              policyVersion: '2026.1',
            },
            { idempotencyKey: key, retries: 0, timeoutMs: 1000 },
          );
          break;
        } catch (err) {
          const timedOut = err instanceof DsgError && err.code === ErrorCodes.TIMEOUT;
          if (!timedOut || Date.now() > deadline) throw err;
        }
      }
      b.child.kill('SIGCONT');
      // Acknowledged while B was frozen: neither replica may answer from before it.
      expect(await decisions(40)).toEqual(Array(40).fill('DENY'));
      // A asked B, got no confirmation, fenced it and waited out its lease. (Had B's lease already
      // lapsed, because the write first reached frozen B and was retried, A would rightly skip it
      // and B would catch up from decision_changes when it renews: the decisions above hold too.)
      if (a.lines.some((l) => l.includes('did not confirm a change'))) {
        const deadline = Date.now() + 15_000;
        while (!b.lines.some((l) => l.includes('replica fenced or stale'))) {
          if (Date.now() > deadline) throw new Error('replica B never noticed it was fenced');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await b.waitReady();
      expect(await decisions(40)).toEqual(Array(40).fill('DENY'));
    } finally {
      b.child.kill('SIGCONT');
    }
  }, 60_000);
});
