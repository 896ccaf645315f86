import {
  type AccountingReply,
  canonicalJson,
  type DsgClient,
  ErrorCodes,
  type ReportDisclosureRequest,
  type Role,
} from '@dsg/contracts';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { runtimeDataSource, sqlErrorCode } from './support/e2e-env';
import { refusal } from './support/refusal';
import { RegisterStack } from './support/register-stack';

const DAY = 86_400_000;

/** ACC-4: six calendar years before, as the register computes it. */
function sixYearsBefore(at: Date): Date {
  const d = new Date(at.getTime());
  d.setUTCFullYear(d.getUTCFullYear() - 6);
  return d;
}

/** The text a PDF shows: its content streams inflated, the strings of their text operators. */
function pdfText(pdf: Buffer): string {
  const text: string[] = [];
  const raw = pdf.toString('latin1');
  for (const m of raw.matchAll(/stream\r?\n/g)) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    let body: string;
    try {
      body = inflateSync(pdf.subarray(start, end)).toString('latin1');
    } catch {
      continue; // not a compressed content stream
    }
    for (const t of body.matchAll(/\[(.*?)\] TJ/g)) {
      for (const s of t[1].matchAll(/<([0-9a-f]+)>/g)) {
        text.push(Buffer.from(s[1], 'hex').toString('latin1'));
      }
      text.push(' ');
    }
  }
  return text.join('').replace(/\s+/g, ' ');
}

/**
 * The HIPAA accounting of disclosures (ACC-1, ACC-2, ACC-4, ACC-7, ACC-8, ACC-9) and auditors'
 * keyset queries of the register, through the public NATS API as the gateway carries people's
 * assertions. Disclosures in the past are recorded as reported disclosures (their occurredAt).
 */
describe('disclosure register: accounting of disclosures and entry queries', () => {
  const run = Date.now().toString(36);
  let stack: RegisterStack;
  let booking: DsgClient;
  let asGateway: DsgClient;
  let owner: Client;
  let registerDb: DataSource;
  let key = 0;

  const as = (roles: Role[], subject?: string) => stack.as(roles, subject);
  const officer = () => ({ ...as(['privacy_officer']), idempotencyKey: `acc-${run}-${key++}` });
  const subject = async (name: string) => {
    const clientId = `acc-${name}-${run}`;
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1975-09-10' });
    return clientId;
  };
  const toRegulator = (
    clientId: string,
    occurredAt: Date,
    description = 'Records sent to the Medical Board',
  ) =>
    report({
      clientId,
      recipientId: 'regulators',
      purpose: 'legal-obligations',
      legalBasis: 'required-by-law',
      categories: ['identifiers.name', 'health.history'],
      description,
      occurredAt: occurredAt.toISOString(),
      source: 'staff',
    });
  const report = (request: ReportDisclosureRequest) =>
    booking.disclosureRegister.report(request, {
      idempotencyKey: `acc-r-${run}-${key++}`,
      retries: 0,
    });
  const produce = (clientId: string, change: Record<string, string> = {}) =>
    asGateway.disclosureRegister.accountingProduce(
      { clientId, staffTitle: 'Privacy Officer', ...change },
      officer(),
    );
  const positionsOf = (a: AccountingReply) => a.disclosures.flatMap((l) => l.positions);

  beforeAll(async () => {
    stack = await RegisterStack.start();
    ({ booking, asGateway, owner } = stack);
    registerDb = await runtimeDataSource('disclosure-register', 1).initialize();
  }, 90_000);

  afterAll(async () => {
    await registerDb?.destroy();
    await stack?.close();
  });

  it('lists what the legal basis makes accountable and leaves out TPO, authorized and denied disclosures (ACC-2, ACC-1, ACC-3)', async () => {
    const clientId = await subject('basis');
    const now = Date.now();
    // Excluded: payment (a disclosure), treatment (a business associate's report), a denied one.
    const payment = await booking.disclosureRegister.disclose(
      {
        clientId,
        recipientId: 'cherry',
        purpose: 'payments-and-memberships',
        legalBasis: 'payment',
        categories: ['identifiers.name', 'payment.financing'],
        description: 'Financing application',
      },
      { idempotencyKey: `acc-pay-${run}`, retries: 0 },
    );
    expect(payment.decision).toBe('ALLOW');
    const denied = await booking.disclosureRegister.disclose(
      {
        clientId,
        recipientId: 'regulators',
        purpose: 'legal-obligations',
        legalBasis: 'required-by-law',
        categories: ['unknown.category'],
        description: 'Denied: never made',
      },
      { idempotencyKey: `acc-deny-${run}`, retries: 0 },
    );
    expect(denied.decision).toBe('DENY');
    // Included: required by law; an impermissible disclosure reported by a business associate
    // (ACC-3), whatever basis it claimed.
    const byLaw = await toRegulator(clientId, new Date(now - 10 * DAY));
    const impermissible = await report({
      clientId,
      recipientId: 'crm-vendor',
      purpose: 'offers-and-marketing',
      legalBasis: 'health-care-operations',
      categories: ['health.history'],
      description: 'Treatment history synchronised to the CRM by mistake',
      occurredAt: new Date(now - 5 * DAY).toISOString(),
      source: 'business-associate',
      reportedBy: 'booking-vendor',
    });
    expect(impermissible.flagged).toBe(true);
    const treatment = await report({
      clientId,
      recipientId: 'in-facility-professionals',
      purpose: 'treatment-plans',
      legalBasis: 'treatment',
      categories: ['health.history'],
      description: 'History shared with the treating nurse',
      occurredAt: new Date(now - 4 * DAY).toISOString(),
      source: 'staff',
    });
    expect(treatment.flagged).toBe(false);

    const accounting = await produce(clientId);
    expect(positionsOf(accounting).sort((a, b) => a - b)).toEqual(
      [byLaw.position, impermissible.position].sort((a, b) => a - b),
    );
    // ACC-1: date, recipient with address, description, purpose; oldest first.
    expect(accounting.disclosures[0]).toMatchObject({
      date: new Date(now - 10 * DAY).toISOString(),
      recipient: {
        id: 'regulators',
        name: expect.stringContaining('Health oversight agencies'),
        address: expect.stringContaining('Sacramento, CA 95814'),
      },
      description: 'Records sent to the Medical Board',
      purpose: expect.any(String),
      legalBasis: 'required-by-law',
      count: 1,
    });
    expect(accounting.disclosures[1]).toMatchObject({
      recipient: { id: 'crm-vendor' },
      description: 'Treatment history synchronised to the CRM by mistake',
    });
  });

  it('reaches back exactly six years before the request, or a shorter period asked for (ACC-4)', async () => {
    const clientId = await subject('lookback');
    const requestedAt = new Date(Date.now() - DAY);
    const edge = sixYearsBefore(requestedAt);
    const inside = await toRegulator(clientId, edge, 'At the look-back edge');
    const outside = await toRegulator(clientId, new Date(edge.getTime() - 1), 'Just before it');
    const last = await toRegulator(clientId, requestedAt, 'On the day of the request');
    const after = await toRegulator(clientId, new Date(requestedAt.getTime() + 1), 'After it');

    const full = await produce(clientId, { requestedAt: requestedAt.toISOString() });
    expect(full.period).toEqual({ from: edge.toISOString(), to: requestedAt.toISOString() });
    const shown = positionsOf(full);
    expect(shown).toEqual(expect.arrayContaining([inside.position, last.position]));
    expect(shown).not.toContain(outside.position);
    expect(shown).not.toContain(after.position);

    const shorter = await produce(clientId, {
      requestedAt: requestedAt.toISOString(),
      from: new Date(edge.getTime() + 1).toISOString(),
    });
    expect(positionsOf(shorter)).toEqual([last.position]);

    const tooFar = await refusal(
      produce(clientId, {
        requestedAt: requestedAt.toISOString(),
        from: new Date(edge.getTime() - 1).toISOString(),
      }),
    );
    expect(tooFar.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(tooFar.fields).toEqual([expect.objectContaining({ field: 'from' })]);
    const future = await refusal(
      produce(clientId, { requestedAt: new Date(Date.now() + DAY).toISOString() }),
    );
    expect(future.fields).toEqual([expect.objectContaining({ field: 'requestedAt' })]);
  });

  it('summarises repeated disclosures to one recipient for one purpose: the first in full, the count, the last date (ACC-7)', async () => {
    const clientId = await subject('repeat');
    const now = Date.now();
    const first = await toRegulator(clientId, new Date(now - 30 * DAY), 'First monthly report');
    await toRegulator(clientId, new Date(now - 20 * DAY), 'Second monthly report');
    const third = await toRegulator(clientId, new Date(now - 10 * DAY), 'Third monthly report');
    const accounting = await produce(clientId);
    expect(accounting.disclosures).toHaveLength(1);
    expect(accounting.disclosures[0]).toMatchObject({
      date: new Date(now - 30 * DAY).toISOString(),
      description: 'First monthly report',
      count: 3,
      lastDate: new Date(now - 10 * DAY).toISOString(),
    });
    expect(accounting.disclosures[0].positions[0]).toBe(first.position);
    expect(accounting.disclosures[0].positions[2]).toBe(third.position);
  });

  it('hides disclosures a suspension covers until its end date: written, oral at most 30 days, oral followed by written (ACC-8)', async () => {
    const written = await subject('susp-w');
    const oral = await subject('susp-o');
    const lapsed = await subject('susp-l');
    const followed = await subject('susp-f');
    const when = new Date(Date.now() - 3 * DAY);
    for (const clientId of [written, oral, lapsed, followed]) await toRegulator(clientId, when);
    const official = { name: 'Inspector B. Example', title: 'Investigator' };
    const suspend = (change: Record<string, unknown>) =>
      asGateway.disclosureRegister.suspensionRecord(
        {
          form: 'written',
          agency: 'Medical Board of California',
          official,
          recipientId: 'regulators',
          statement: 'An accounting would alert the subject of an open investigation.',
          ...change,
        } as never,
        officer(),
      );
    const soon = Date.now() + 4_000;
    const w = await suspend({ subjects: [written], until: new Date(soon).toISOString() });
    expect(w.endsAt).toBe(new Date(soon).toISOString());
    // Oral: made 30 days ago less 4 s, no date given: it ends 30 days after it was made.
    const o = await suspend({
      form: 'oral',
      subjects: [oral],
      receivedAt: new Date(soon - 30 * DAY).toISOString(),
      until: new Date(soon + 60 * DAY).toISOString(),
    });
    expect(o.endsAt).toBe(new Date(soon).toISOString());
    // Oral, made just over 30 days ago: already lapsed.
    await suspend({
      form: 'oral',
      subjects: [lapsed],
      receivedAt: new Date(Date.now() - 30 * DAY - 1_000).toISOString(),
    });
    // Oral followed by a written statement: the written one governs.
    const o2 = await suspend({
      form: 'oral',
      subjects: [followed],
      receivedAt: new Date(Date.now() - 29 * DAY).toISOString(),
    });
    const w2 = await suspend({
      subjects: [followed],
      until: new Date(Date.now() + 90 * DAY).toISOString(),
      followsOral: o2.suspensionId,
    });
    const list = await asGateway.disclosureRegister.suspensionList({}, as(['auditor']));
    expect(list.suspensions.find((s) => s.suspensionId === o2.suspensionId)?.supersededBy).toBe(
      w2.suspensionId,
    );
    const bad = await refusal(suspend({ subjects: [written] }));
    expect(bad.fields).toEqual([expect.objectContaining({ field: 'until' })]);
    const notOversight = await refusal(
      suspend({ recipientId: 'cherry', until: new Date(soon).toISOString() }),
    );
    expect(notOversight.fields).toEqual([expect.objectContaining({ field: 'recipientId' })]);

    expect((await produce(written)).disclosures).toHaveLength(0);
    expect((await produce(oral)).disclosures).toHaveLength(0);
    expect((await produce(lapsed)).disclosures).toHaveLength(1);
    expect((await produce(followed)).disclosures).toHaveLength(0);
    // Past the end date, the disclosures are listed again (the followed one stays hidden).
    await new Promise((r) => setTimeout(r, soon + 200 - Date.now()));
    expect((await produce(written)).disclosures).toHaveLength(1);
    expect((await produce(oral)).disclosures).toHaveLength(1);
    expect((await produce(followed)).disclosures).toHaveLength(0);
    // The hidden entries are counted in what was recorded, for auditors.
    const { rows } = await owner.query(
      `SELECT suspended_entries FROM disclosure_register.accountings
        WHERE client_id = $1 ORDER BY produced_at`,
      [written],
    );
    expect(rows.map((r) => r.suspended_entries)).toEqual([1, 0]);
  });

  it('records every accounting with its producer’s title and content hash, kept unchangeable, and renders it as a PDF (ACC-9)', async () => {
    const clientId = await subject('record');
    await toRegulator(
      clientId,
      new Date(Date.now() - 2 * DAY),
      'Records sent to the Medical Board',
    );
    const produced = await produce(clientId, { rightsRequestRef: `RR-${run}` });
    const { contentHash, ...content } = produced;
    expect(contentHash).toBe(createHash('sha256').update(canonicalJson(content)).digest('hex'));
    expect(produced).toMatchObject({ producedBy: 'officer-1', staffTitle: 'Privacy Officer' });

    // A retried call (the same Idempotency-Key) answers the same accounting, recorded once.
    const key = `acc-replay-${run}`;
    const first = await asGateway.disclosureRegister.accountingProduce(
      { clientId, staffTitle: 'Privacy Officer' },
      { ...as(['privacy_officer']), idempotencyKey: key },
    );
    const again = await asGateway.disclosureRegister.accountingProduce(
      { clientId, staffTitle: 'Privacy Officer' },
      { ...as(['privacy_officer']), idempotencyKey: key },
    );
    expect(again).toEqual(first);
    const conflict = await refusal(
      asGateway.disclosureRegister.accountingProduce(
        { clientId, staffTitle: 'Compliance Officer' },
        { ...as(['privacy_officer']), idempotencyKey: key },
      ),
    );
    expect(conflict.code).toBe(ErrorCodes.IDEMPOTENCY_CONFLICT);

    const got = await asGateway.disclosureRegister.accountingGet(
      { accountingId: produced.accountingId },
      as(['auditor']),
    );
    expect(got).toEqual(produced);
    const list = await asGateway.disclosureRegister.accountingList({ clientId }, as(['auditor']));
    expect(list.accountings).toHaveLength(2);
    expect(list.accountings).toContainEqual(
      expect.objectContaining({
        accountingId: produced.accountingId,
        staffTitle: 'Privacy Officer',
        lines: 1,
        contentHash,
      }),
    );
    // Kept: the runtime role can neither change nor delete an accounting.
    for (const sql of [
      `UPDATE disclosure_register.accountings SET lines = 0 WHERE id = '${produced.accountingId}'`,
      `DELETE FROM disclosure_register.accountings WHERE id = '${produced.accountingId}'`,
    ]) {
      expect(await sqlErrorCode(registerDb, sql)).toBe('42501');
    }
    // An auditor may read accountings, not produce them.
    const auditor = await refusal(
      asGateway.disclosureRegister.accountingProduce(
        { clientId, staffTitle: 'Auditor' },
        { ...as(['auditor']), idempotencyKey: `acc-aud-${run}` },
      ),
    );
    expect(auditor.code).toBe(ErrorCodes.FORBIDDEN);

    const pdf = (await asGateway.disclosureRegister.accountingPdf(
      { accountingId: produced.accountingId },
      as(['auditor']),
    )) as { bytes: number; contentType: string; body?: Uint8Array };
    expect(pdf.contentType).toBe('application/pdf');
    const bytes = Buffer.from(pdf.body!);
    expect(bytes.length).toBe(pdf.bytes);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(bytes);
    expect(text).toContain('Accounting of disclosures of health information');
    expect(text).toContain('Health oversight agencies');
    expect(text).toContain('Records sent to the Medical Board');
    expect(text).toContain(contentHash);
  });

  it('queries entries by subject, recipient, purpose, decision and period a page at a time, each page after the last position (keyset)', async () => {
    const clientId = await subject('query');
    const positions: number[] = [];
    for (let i = 0; i < 5; i++) {
      positions.push((await toRegulator(clientId, new Date(Date.now() - (i + 1) * DAY))).position);
    }
    await booking.disclosureRegister.disclose(
      {
        clientId,
        recipientId: 'cherry',
        purpose: 'payments-and-memberships',
        legalBasis: 'payment',
        categories: ['identifiers.name'],
        description: 'Not to the regulator',
      },
      { idempotencyKey: `acc-q-${run}`, retries: 0 },
    );
    const filter = {
      clientId,
      recipientId: 'regulators',
      purpose: 'legal-obligations',
      decision: 'ALLOW' as const,
      recordedFrom: new Date(Date.now() - 3_600_000).toISOString(),
    };
    const seen: number[] = [];
    let after: number | undefined;
    let pages = 0;
    do {
      const page = await asGateway.disclosureRegister.entriesQuery(
        { filter, limit: 2, ...(after !== undefined ? { after } : {}) },
        as(['auditor']),
      );
      pages++;
      for (const e of page.entries) {
        expect(e.leaf).toMatchObject({ recipient: { id: 'regulators' }, decision: 'ALLOW' });
        expect(e.details).toMatchObject({ clientId });
        expect(e.leafHash).toMatch(/^[0-9a-f]{64}$/);
        seen.push(e.position);
      }
      after = page.nextAfter;
    } while (after !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(positions);

    // The subject and recipient conditions are what their indexes serve, in position order; the
    // period's index serves a period far from the log's end (near it, the primary key does).
    await owner.query('BEGIN; SET LOCAL enable_seqscan = off');
    for (const [index, sql] of [
      [
        'entries_subject',
        `WHERE position > -1 AND client_id = 'x' AND (details->>'clientId') = 'x' ORDER BY position LIMIT 10`,
      ],
      [
        'entries_recipient',
        `WHERE position > -1 AND recipient_id = 'x' AND (leaf::json->'recipient'->>'id') = 'x' ORDER BY position LIMIT 10`,
      ],
      ['entries_recorded_at', `WHERE recorded_at >= now()`],
    ]) {
      const { rows } = await owner.query(
        `EXPLAIN SELECT position FROM disclosure_register.entries ${sql}`,
      );
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain(index);
    }
    await owner.query('ROLLBACK');

    const bad = await refusal(
      asGateway.disclosureRegister.entriesQuery(
        { filter: { recordedFrom: '2026-02-30T00:00:00Z' }, limit: 5000 },
        as(['auditor']),
      ),
    );
    expect(bad.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(bad.fields.map((f) => f.field)).toEqual(['limit']);
    const unreal = await refusal(
      asGateway.disclosureRegister.entriesQuery(
        { filter: { recordedFrom: '2026-02-30T00:00:00Z' } },
        as(['auditor']),
      ),
    );
    expect(unreal.fields).toEqual([expect.objectContaining({ field: 'filter.recordedFrom' })]);
    const service = await refusal(booking.disclosureRegister.entriesQuery({}, { retries: 0 }));
    expect(service.code).toBe(ErrorCodes.UNAUTHENTICATED);
  });
});
