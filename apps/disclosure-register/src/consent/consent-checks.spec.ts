import type { CheckReply, CheckRequest, DsgClient } from '@dsg/contracts';
import type { RegisterConfig } from '../config/register.config';
import { ConsentChecks } from './consent-checks';

describe('ConsentChecks', () => {
  const request = (n: number): CheckRequest => ({
    clientId: `c-${n}`,
    recipientKind: 'financing-partner',
    purpose: 'payments-and-memberships',
    categories: ['identifiers.name'],
    legalBasis: 'payment',
  });
  const reply = (clientId: string): CheckReply =>
    ({ decision: 'ALLOW', reasons: [], policyVersion: clientId }) as unknown as CheckReply;

  /** A consent service that answers each call when told to, recording what it was asked. */
  const consent = () => {
    const calls: { checks: CheckRequest[]; answer: () => void }[] = [];
    const dsg = {
      consent: {
        check: (check: CheckRequest) =>
          new Promise<CheckReply>((resolve) => {
            calls.push({ checks: [check], answer: () => resolve(reply(check.clientId)) });
          }),
        checkBatch: ({ checks }: { checks: CheckRequest[] }) =>
          new Promise<{ results: CheckReply[] }>((resolve) => {
            calls.push({
              checks,
              answer: () => resolve({ results: checks.map((c) => reply(c.clientId)) }),
            });
          }),
      },
    } as unknown as DsgClient;
    return { calls, checks: new ConsentChecks(dsg, { consentTimeoutMs: 1000 } as RegisterConfig) };
  };
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('sends the checks that arrive in one turn of the event loop as one batch, the first not alone', async () => {
    const { calls, checks } = consent();
    const answers = [0, 1, 2, 3, 4].map((n) => checks.check(request(n)));
    await turn();
    expect(calls.map((c) => c.checks.length)).toEqual([5]);
    calls[0].answer();
    const replies = await Promise.all(answers);
    // Each check gets its own answer, in order.
    expect(replies.map((r) => r.policyVersion)).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4']);
  });

  it('gathers the checks that arrive while a batch is in flight into the next one', async () => {
    const { calls, checks } = consent();
    const first = checks.check(request(0));
    await turn();
    const later = [1, 2, 3].map((n) => checks.check(request(n)));
    await turn();
    expect(calls.map((c) => c.checks.length)).toEqual([1]); // one batch in flight at a time
    calls[0].answer();
    await first;
    await turn();
    expect(calls.map((c) => c.checks.length)).toEqual([1, 3]);
    calls[1].answer();
    expect((await Promise.all(later)).map((r) => r.policyVersion)).toEqual(['c-1', 'c-2', 'c-3']);
  });
});
