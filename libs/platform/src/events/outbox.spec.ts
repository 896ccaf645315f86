import { EVENT_BATCH_HEADER, eventDef } from '@dsg/contracts';
import { eventsStatement } from './outbox';

const Recorded = eventDef<{ n: number }>('disclosure-register', 'test.recorded', 1, undefined, {
  batched: true,
});
const Denied = eventDef<{ n: number }>('disclosure-register', 'test.denied', 1, undefined, {
  batched: true,
});
const Single = eventDef<{ n: number }>('disclosure-register', 'test.single', 1);

const rowsOf = (params: unknown[]) =>
  JSON.parse(params[0] as string) as {
    id: string;
    subject: string;
    type: string;
    envelope: unknown;
    headers: Record<string, string>;
  }[];

describe('eventsStatement', () => {
  const items = [
    { def: Recorded, data: { n: 0 }, headers: { traceparent: 'trace-0' } },
    { def: Denied, data: { n: 1 }, headers: { traceparent: 'trace-1' } },
    { def: Recorded, data: { n: 2 }, headers: { traceparent: 'trace-2' } },
  ];

  it('writes a row per event, keyed by the event id, for a type not published in batches', () => {
    const singles = items.map((i) => ({ ...i, def: Single }));
    const { statement, envelopes } = eventsStatement('disclosure_register', singles);
    const rows = rowsOf(statement.params);
    expect(rows.map((r) => r.id)).toEqual(envelopes.map((e) => e.id));
    expect(rows.map((r) => r.headers)).toEqual(items.map((i) => i.headers));
    expect(rows[1]).toMatchObject({
      subject: 'disclosure-register.events.test.single.v1',
      envelope: envelopes[1],
    });
  });

  it('batched types: one row per type, its events in order with their own trace headers', () => {
    const { statement, envelopes } = eventsStatement('disclosure_register', [
      ...items,
      { def: Single, data: { n: 3 }, headers: { traceparent: 'trace-3' } },
    ]);
    const rows = rowsOf(statement.params);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatchObject({ id: envelopes[3].id, envelope: envelopes[3] });
    expect(rows[0]).toMatchObject({
      subject: 'disclosure-register.events.test.recorded.v1',
      type: 'test.recorded',
      headers: { [EVENT_BATCH_HEADER]: '2' },
      envelope: [
        { envelope: envelopes[0], headers: { traceparent: 'trace-0' } },
        { envelope: envelopes[2], headers: { traceparent: 'trace-2' } },
      ],
    });
    expect(rows[1]).toMatchObject({
      type: 'test.denied',
      headers: { [EVENT_BATCH_HEADER]: '1' },
      envelope: [{ envelope: envelopes[1], headers: { traceparent: 'trace-1' } }],
    });
    // The row (the message's Nats-Msg-Id) has an id of its own, not one of its events'.
    expect(envelopes.map((e) => e.id)).not.toContain(rows[0].id);
    expect(rows[0].id).not.toBe(rows[1].id);
  });
});
