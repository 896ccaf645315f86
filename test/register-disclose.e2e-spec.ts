import {
  canonicalJson,
  receiptSignedMessage,
  type DiscloseRequest,
  type DsgClient,
  type DsgError,
  ErrorCodes,
  eventStreamName,
  SERVICES,
  type TreeHeadReply,
  verifyConsistency,
  verifyInclusion,
} from '@dsg/contracts';
import { verifyWithPublishedKey } from '@dsg/platform';
import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { connectClient } from './support/clients';
import { GrpcTestClient } from './support/grpc';
import { e2eEnv, runtimeDataSource, sqlErrorCode } from './support/e2e-env';
import { connectAs } from './support/nats-users';
import { ServiceProcess } from './support/service-process';
import { waitUntil } from './support/wait';

/**
 * The disclosure register (issue 5): every disclosure checked (POL-1, POL-2, HIP-4, HIP-5 and
 * the consent service's decision) and recorded, allowed or denied, in a verifiable log.
 */
describe('disclosure register: disclose, record, verify', () => {
  const run = Date.now().toString(36);
  const clientId = `reg-${run}`;
  let consent: ServiceProcess;
  let register: ServiceProcess;
  let booking: DsgClient;
  let ops: DsgClient;
  let owner: Client;
  let runtime: DataSource;
  let key = 0;

  const financing = (change: Partial<DiscloseRequest> = {}): DiscloseRequest => ({
    clientId,
    recipientId: 'cherry',
    purpose: 'payments-and-memberships',
    legalBasis: 'payment',
    categories: ['identifiers.name', 'payment.financing'],
    description: 'Financing application: name and requested amount',
    ...change,
  });
  const disclose = (request: DiscloseRequest, idempotencyKey = `k-${run}-${key++}`) =>
    booking.disclosureRegister.disclose(request, { idempotencyKey, retries: 0 });
  const entries = async () =>
    Number(
      (await owner.query('SELECT count(*)::int AS n FROM disclosure_register.entries')).rows[0].n,
    );
  const entry = async (entryId: string) =>
    (
      await owner.query(
        'SELECT position, leaf, details FROM disclosure_register.entries WHERE entry_id = $1',
        [entryId],
      )
    ).rows[0] as { position: string; leaf: string; details: Record<string, unknown> };

  beforeAll(async () => {
    const env = { SEAL_EVERY_MS: '300', CONSENT_TIMEOUT_MS: '1500' };
    [consent, register] = await Promise.all([
      ServiceProcess.start('consent'),
      ServiceProcess.start('disclosure-register', env),
    ]);
    await Promise.all([consent.waitReady(), register.waitReady()]);
    booking = await connectClient('booking');
    ops = await connectClient('ops');
    owner = new Client({ connectionString: e2eEnv().databaseUrl });
    await owner.connect();
    runtime = await runtimeDataSource('disclosure-register').initialize();
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1988-02-03' });
  }, 60_000);

  afterAll(async () => {
    await booking?.close();
    await ops?.close();
    await owner?.end();
    await runtime?.destroy();
    await register?.stop();
    await consent?.stop();
  });

  it('seeds the recipients of the privacy policy, each with kind, role and address (POL-2, ACC-1)', async () => {
    const { recipients } = await ops.disclosureRegister.recipientList();
    expect(recipients.map((r) => r.recipientId)).toEqual(
      expect.arrayContaining([
        'in-facility-professionals',
        'card-processor',
        'cherry',
        'carecredit',
        'booking-vendor',
        'crm-vendor',
        'law-enforcement',
        'regulators',
      ]),
    );
    for (const r of recipients) expect(r.address.city).toBeTruthy();
  });

  it('allows a disclosure within the rules, records it once, and answers a signed receipt (ACC-1)', async () => {
    const before = await entries();
    const receipt = await disclose(financing());
    expect(receipt).toMatchObject({ decision: 'ALLOW', reasons: [] });
    expect(await entries()).toBe(before + 1);
    const row = await entry(receipt.entryId);
    expect(Number(row.position)).toBe(receipt.position);
    const leaf = JSON.parse(row.leaf) as Record<string, unknown>;
    expect(leaf).toMatchObject({
      recipient: { id: 'cherry', version: 1 },
      purpose: 'payments-and-memberships',
      decision: 'ALLOW',
    });
    // Personal details sit apart from what is hashed (ACC-1's description among them).
    expect(row.leaf).not.toContain(clientId);
    expect(row.details).toEqual({
      clientId,
      description: 'Financing application: name and requested amount',
    });
    // The receipt is signed with its batch: its path leads to the root the signature covers.
    const { keys } = await ops.disclosureRegister.signingKeys();
    const { kid, signature } = receipt;
    const message = receiptSignedMessage(receipt);
    expect(message).toBeDefined();
    expect(verifyWithPublishedKey(message!, { kid, alg: 'EdDSA', sig: signature }, keys)).toBe(
      true,
    );
    const forged = receiptSignedMessage({ ...receipt, decision: 'DENY' });
    expect(verifyWithPublishedKey(forged!, { kid, alg: 'EdDSA', sig: signature }, keys)).toBe(
      false,
    );
  });

  it('stores the leaf and the details byte for byte as hashed and committed, whatever characters they hold', async () => {
    // Quotes, a backslash, control and line-separator characters, accents, an astral symbol,
    // markup: each must reach the database as the register hashed it, not re-escaped.
    const awkward = `Quote " back\\slash \\" tab\t nl\n ls\u2028 é 𝄞 <b>&amp;</b> ${run}`;
    const receipt = await disclose(
      financing({ description: awkward, actingPerson: `Dr "Zoë" O'Brien\\` }),
    );
    const { rows } = await owner.query(
      `SELECT leaf, details::text AS details, salt FROM disclosure_register.entries
        WHERE entry_id = $1`,
      [receipt.entryId],
    );
    const { leaf, details, salt } = rows[0] as { leaf: string; details: string; salt: Buffer };
    const leafHash = createHash('sha256')
      .update(Buffer.from([0]))
      .update(leaf, 'utf8')
      .digest();
    expect(leafHash.toString('hex')).toBe(receipt.leafHash);
    expect(details).toBe(
      canonicalJson({ actingPerson: `Dr "Zoë" O'Brien\\`, clientId, description: awkward }),
    );
    const commitment = createHash('sha256').update(salt).update(details, 'utf8').digest('hex');
    expect((JSON.parse(leaf) as { details: string }).details).toBe(commitment);
    expect(leaf).toBe(canonicalJson(JSON.parse(leaf)));
    await expect(booking.disclosureRegister.verify()).resolves.toMatchObject({ result: 'valid' });
  });

  it('denies, and records once, a disclosure to an unknown or inactive recipient (POL-2)', async () => {
    const before = await entries();
    const unknown = await disclose(financing({ recipientId: 'data-broker' }));
    expect(unknown.decision).toBe('DENY');
    expect(unknown.reasons).toContain('POL-2');
    expect(await entries()).toBe(before + 1);
  });

  it('denies a sale, whatever the recipient (POL-1)', async () => {
    const receipt = await disclose(
      financing({ purpose: 'sale-of-personal-information', legalBasis: 'authorization' }),
    );
    expect(receipt.decision).toBe('DENY');
    expect(receipt.reasons).toContain('POL-1');
  });

  it('denies categories beyond the recipient allowance for the purpose (HIP-4)', async () => {
    const receipt = await disclose(financing({ categories: ['health.medications'] }));
    expect(receipt).toMatchObject({ decision: 'DENY' });
    expect(receipt.reasons).toContain('HIP-4');
  });

  it('denies PHI to a business associate whose agreement was terminated (HIP-5)', async () => {
    const booked = {
      recipientId: 'booking-vendor',
      purpose: 'scheduling-and-services',
      legalBasis: 'treatment' as const,
      categories: ['health.history'],
    };
    expect((await disclose(financing(booked))).decision).toBe('ALLOW');
    const current = await ops.disclosureRegister.recipientGet({ recipientId: 'booking-vendor' });
    const { version: _v, changedAt: _c, changedBy: _b, ...rest } = current;
    await ops.disclosureRegister.recipientUpsert({
      ...rest,
      baa: { ...current.baa!, terminatedAt: new Date(Date.now() - 1000).toISOString() },
      reason: 'agreement terminated by the spa',
    });
    const denied = await disclose(financing(booked));
    expect(denied.decision).toBe('DENY');
    expect(denied.reasons).toEqual(['HIP-5']);
    // The version the earlier disclosure was checked against is kept.
    const v1 = await ops.disclosureRegister.recipientGet({
      recipientId: 'booking-vendor',
      version: current.version,
    });
    expect(v1.baa?.terminatedAt).toBeUndefined();
  });

  it('carries the consent service decision: an opt-out denies (the stricter rule wins)', async () => {
    await booking.consent.ledgerRecord({
      clientId,
      kind: 'opt-out',
      scopeType: 'purpose',
      scope: 'appointment-reminders',
      method: 'web-form',
      actor: 'self',
      policyVersion: '2026.1',
    });
    const receipt = await disclose(
      financing({
        recipientId: 'crm-vendor',
        purpose: 'appointment-reminders',
        legalBasis: 'health-care-operations',
        categories: ['identifiers.contact'],
      }),
    );
    expect(receipt).toMatchObject({ decision: 'DENY', reasons: ['POL-4'] });
  });

  it('replays a key with the same request without a new entry, and refuses it with another', async () => {
    const idempotencyKey = `replay-${run}`;
    const first = await disclose(financing(), idempotencyKey);
    const count = await entries();
    await expect(disclose(financing(), idempotencyKey)).resolves.toEqual(first);
    expect(await entries()).toBe(count);
    const conflict = await disclose(financing({ description: 'something else' }), idempotencyKey)
      .then(() => undefined)
      .catch((e: DsgError) => e);
    expect(conflict?.code).toBe(ErrorCodes.IDEMPOTENCY_CONFLICT);
    expect(await entries()).toBe(count);
  });

  it('replays every key of a batch with the receipt it sent, made again from the log', async () => {
    // Sent at once, they are committed in batches of several, signed once a batch; a replay
    // rebuilds each receipt from its entry and its batch (migration 1766500000000).
    const keys = Array.from({ length: 24 }, (_, i) => `batch-${run}-${i}`);
    const firsts = await Promise.all(
      keys.map((k, i) => disclose(i % 3 ? financing() : financing({ purpose: 'marketing' }), k)),
    );
    expect(Math.max(...firsts.map((r) => r.batch.size))).toBeGreaterThan(1);
    const count = await entries();
    const replays = await Promise.all(
      keys.map((k, i) => disclose(i % 3 ? financing() : financing({ purpose: 'marketing' }), k)),
    );
    expect(replays).toEqual(firsts);
    expect(await entries()).toBe(count);
    const { keys: published } = await ops.disclosureRegister.signingKeys();
    for (const receipt of replays) {
      const message = receiptSignedMessage(receipt);
      const signature = { kid: receipt.kid, alg: 'EdDSA' as const, sig: receipt.signature };
      expect(verifyWithPublishedKey(message!, signature, published)).toBe(true);
    }
  });

  it('requires an idempotency key and refuses bad input with the field named, writing nothing', async () => {
    const before = await entries();
    const noKey = await booking.disclosureRegister
      .disclose(financing(), { retries: 0, idempotencyKey: '' })
      .catch((e: DsgError) => e);
    expect(noKey).toMatchObject({ code: ErrorCodes.VALIDATION_FAILED });
    const bad = await disclose({ ...financing(), categories: [] }).catch((e: DsgError) => e);
    expect(bad).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      fields: [expect.objectContaining({ field: 'categories' })],
    });
    // ACC-1: a description says something; the error names the field, not the value.
    const terse = await disclose({ ...financing(), description: 'ok' }).catch((e: DsgError) => e);
    expect(terse).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
      fields: [expect.objectContaining({ field: 'description' })],
    });
    expect(JSON.stringify(terse)).not.toContain('"ok"');
    expect(await entries()).toBe(before);
  });

  it('the runtime role cannot change or delete an entry', async () => {
    expect(await sqlErrorCode(runtime, 'UPDATE disclosure_register.entries SET leaf = leaf')).toBe(
      '42501',
    );
    expect(await sqlErrorCode(runtime, 'DELETE FROM disclosure_register.entries')).toBe('42501');
  });

  it('seals signed tree heads, the same in JetStream as in the database; verify recomputes the log', async () => {
    let head = await ops.disclosureRegister.treeHead().catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while ((!head || head.treeSize < (await entries())) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      head = await ops.disclosureRegister.treeHead().catch(() => undefined);
    }
    expect(head?.treeSize).toBe(await entries());
    const nc = await connectAs(e2eEnv().natsUrl, 'disclosure-register');
    try {
      const jsm = await nc.jetstreamManager();
      // The relay carries each head out shortly after it is sealed: wait for the newest.
      const published = async () =>
        jsm.streams
          .getMessage(eventStreamName(e2eEnv().subjectPrefix, 'disclosure-register'), {
            last_by_subj: `${e2eEnv().subjectPrefix}.disclosure-register.events.tree-head.sealed.v1`,
          })
          .then((m) => (m.json() as { data: { treeSize: number; rootHash: string } }).data)
          .catch(() => undefined);
      let sealed = await published();
      while (sealed?.treeSize !== head?.treeSize && Date.now() < deadline + 10_000) {
        await new Promise((r) => setTimeout(r, 100));
        sealed = await published();
      }
      expect(sealed).toMatchObject({ treeSize: head?.treeSize, rootHash: head?.rootHash });
      const rows = await owner.query(
        `SELECT encode(root_hash, 'hex') AS root FROM disclosure_register.tree_heads WHERE tree_size = $1`,
        [sealed?.treeSize],
      );
      expect(rows.rows[0]?.root).toBe(sealed?.rootHash);
    } finally {
      await nc.drain();
    }
    await expect(ops.disclosureRegister.verify()).resolves.toMatchObject({ result: 'valid' });
  });

  it('proves an entry is under a signed tree head, and an earlier head a prefix of a later one (RFC 9162)', async () => {
    const first = await ops.disclosureRegister.treeHead();
    const receipt = await disclose(financing({ description: 'Proof test application' }));
    let head = first;
    const deadline = Date.now() + 10_000;
    while (head.treeSize <= receipt.position && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      head = await ops.disclosureRegister.treeHead();
    }
    const hex = (h: string) => Buffer.from(h, 'hex');
    const inclusion = await ops.disclosureRegister.inclusionProof({ entryId: receipt.entryId });
    expect(inclusion).toMatchObject({ position: receipt.position, leafHash: receipt.leafHash });
    expect(inclusion.treeHead.treeSize).toBeGreaterThan(receipt.position);
    const root = hex(inclusion.treeHead.rootHash);
    const path = inclusion.proof.map(hex);
    const size = inclusion.treeHead.treeSize;
    expect(verifyInclusion(receipt.position, size, hex(receipt.leafHash), path, root)).toBe(true);
    // The proof is of this leaf, at this place, under this root: change any and it fails.
    const other = hex(receipt.leafHash.replace(/^./, (c) => (c === '0' ? '1' : '0')));
    expect(verifyInclusion(receipt.position, size, other, path, root)).toBe(false);
    if (receipt.position > 0) {
      expect(verifyInclusion(receipt.position - 1, size, hex(receipt.leafHash), path, root)).toBe(
        false,
      );
    }
    // The head itself is signed by the register.
    const { keys } = await ops.disclosureRegister.signingKeys();
    const { kid, signature, ...signed } = inclusion.treeHead;
    expect(
      verifyWithPublishedKey(canonicalJson(signed), { kid, alg: 'EdDSA', sig: signature }, keys),
    ).toBe(true);

    const consistency = await ops.disclosureRegister.consistencyProof({
      fromSize: first.treeSize,
      toSize: size,
    });
    expect(consistency.from).toEqual(first);
    expect(
      verifyConsistency(
        first.treeSize,
        size,
        hex(first.rootHash),
        root,
        consistency.proof.map(hex),
      ),
    ).toBe(true);
    expect(verifyConsistency(first.treeSize, size, other, root, consistency.proof.map(hex))).toBe(
      false,
    );

    const refused = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as DsgError,
      );
    expect(
      await refused(
        ops.disclosureRegister.inclusionProof({ entryId: '00000000-0000-4000-8000-000000000000' }),
      ),
    ).toMatchObject({ code: ErrorCodes.NOT_FOUND });
    expect(
      await refused(
        ops.disclosureRegister.consistencyProof({ fromSize: size, toSize: first.treeSize }),
      ),
    ).toMatchObject({ code: ErrorCodes.VALIDATION_FAILED });
    expect(await refused(ops.disclosureRegister.consistencyProof({ fromSize: 0 }))).toMatchObject({
      code: ErrorCodes.VALIDATION_FAILED,
    });
  });

  it('answers the log and recipient queries over gRPC as over NATS; bad input is INVALID_ARGUMENT naming the field', async () => {
    const receipt = await disclose(financing({ description: 'gRPC proof application' }));
    const sealed = () =>
      ops.disclosureRegister.treeHead().then(
        (h) => h.treeSize,
        () => 0, // none sealed yet
      );
    await waitUntil(async () => (await sealed()) > receipt.position);
    const grpc = new GrpcTestClient(SERVICES['disclosure-register'], register.grpcPort);
    const ok = async <T>(method: string, request: object): Promise<T> => {
      const reply = await grpc.call<T>(method, request);
      if (!reply.ok) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
      return reply.value;
    };
    try {
      const head = await ops.disclosureRegister.treeHead();
      expect(await ok<TreeHeadReply>('GetTreeHead', {})).toEqual(head);
      const inclusion = await ok<{ position: number; proof: string[]; treeHead: TreeHeadReply }>(
        'InclusionProof',
        { entryId: receipt.entryId, treeSize: head.treeSize },
      );
      expect(inclusion).toEqual(
        await ops.disclosureRegister.inclusionProof({
          entryId: receipt.entryId,
          treeSize: head.treeSize,
        }),
      );
      const hex = (h: string) => Buffer.from(h, 'hex');
      expect(
        verifyInclusion(
          receipt.position,
          head.treeSize,
          hex(receipt.leafHash),
          inclusion.proof.map(hex),
          hex(head.rootHash),
        ),
      ).toBe(true);
      const { rows } = await owner.query(
        'SELECT min(tree_size)::int AS first FROM disclosure_register.tree_heads',
      );
      const consistency = await ok<{ proof: string[]; from: TreeHeadReply; to: TreeHeadReply }>(
        'ConsistencyProof',
        { fromSize: rows[0].first },
      );
      expect(consistency).toEqual(
        await ops.disclosureRegister.consistencyProof({ fromSize: rows[0].first }),
      );
      // Asked at once over both transports, verify answers both (one run, shared).
      const [overGrpc, overNats] = await Promise.all([
        ok<{ result: string; entries: number }>('Verify', {}),
        ops.disclosureRegister.verify(),
      ]);
      expect(overGrpc).toMatchObject({ result: 'valid' });
      expect(overNats).toMatchObject({ result: 'valid' });
      const cherry = await ok<{ kind: string; baa?: { reference: string }; version: number }>(
        'GetRecipient',
        { recipientId: 'cherry' },
      );
      expect(cherry).toMatchObject(
        await ops.disclosureRegister.recipientGet({ recipientId: 'cherry' }),
      );
      const { recipients } = await ok<{ recipients: { recipientId: string }[] }>(
        'ListRecipients',
        {},
      );
      expect(recipients.map((r) => r.recipientId)).toContain('law-enforcement');

      const notUuid = await grpc.call('InclusionProof', { entryId: 'not-a-uuid' });
      expect(notUuid.ok).toBe(false);
      if (notUuid.ok) return;
      expect(notUuid.error.code).toBe(3); // INVALID_ARGUMENT
      expect(notUuid.error.body?.fields?.map((f) => f.field)).toContain('entryId');
      const noSize = await grpc.call('ConsistencyProof', {});
      expect(!noSize.ok && noSize.error.body?.fields?.map((f) => f.field)).toContain('fromSize');
      const unknown = await grpc.call('GetRecipient', { recipientId: 'nobody-at-all' });
      expect(!unknown.ok && unknown.error.code).toBe(5); // NOT_FOUND
    } finally {
      grpc.close();
    }
  });

  it('verify names the entry a superuser changed, deleted or moved', async () => {
    const victim = (
      await owner.query(
        'SELECT position, leaf FROM disclosure_register.entries ORDER BY position LIMIT 1 OFFSET 2',
      )
    ).rows[0] as { position: string; leaf: string };
    const position = Number(victim.position);
    const restore = () =>
      owner.query('UPDATE disclosure_register.entries SET leaf = $2 WHERE position = $1', [
        position,
        victim.leaf,
      ]);
    // One byte of the leaf.
    await owner.query('UPDATE disclosure_register.entries SET leaf = $2 WHERE position = $1', [
      position,
      victim.leaf.replace('"DENY"', '"ALLO"').replace('"ALLOW"', '"DENYY"'),
    ]);
    try {
      await expect(ops.disclosureRegister.verify()).resolves.toMatchObject({
        result: 'invalid',
        firstBadPosition: position,
      });
    } finally {
      await restore();
    }
    // The personal details, which the leaf commits to.
    const original = (
      await owner.query('SELECT details FROM disclosure_register.entries WHERE position = $1', [
        position,
      ])
    ).rows[0].details as Record<string, unknown>;
    await owner.query(
      `UPDATE disclosure_register.entries SET details = (details::jsonb || '{"description":"forged"}')::json WHERE position = $1`,
      [position],
    );
    try {
      await expect(ops.disclosureRegister.verify()).resolves.toMatchObject({
        result: 'invalid',
        firstBadPosition: position,
        problem: expect.stringContaining('commitment'),
      });
    } finally {
      await owner.query(`UPDATE disclosure_register.entries SET details = $2 WHERE position = $1`, [
        position,
        original,
      ]);
    }
    await expect(ops.disclosureRegister.verify()).resolves.toMatchObject({ result: 'valid' });

    // Deleted, moved, truncated: each taken out and put back as it was.
    const rows = (await owner.query('SELECT * FROM disclosure_register.entries ORDER BY position'))
      .rows as Record<string, unknown>[];
    const put = async (row: Record<string, unknown>, at = row.position) =>
      owner.query(
        `INSERT INTO disclosure_register.entries (position, entry_id, leaf, leaf_hash, details, salt, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [at, row.entry_id, row.leaf, row.leaf_hash, row.details, row.salt, row.recorded_at],
      );
    // Foreign keys from the idempotency table would stop a superuser's delete: not this one.
    await owner.query("SET session_replication_role = 'replica'");
    try {
      await owner.query('DELETE FROM disclosure_register.entries WHERE position = $1', [position]);
      await expect(ops.disclosureRegister.verify()).resolves.toMatchObject({
        result: 'invalid',
        firstBadPosition: position,
        problem: 'entry missing',
      });
      await put(rows[position]);

      await owner.query('DELETE FROM disclosure_register.entries WHERE position IN ($1, $2)', [
        position,
        position + 1,
      ]);
      await put(rows[position], position + 1);
      await put(rows[position + 1], position);
      await expect(ops.disclosureRegister.verify()).resolves.toMatchObject({
        result: 'invalid',
        firstBadPosition: position,
        problem: 'entry is not at its place',
      });
      await owner.query('DELETE FROM disclosure_register.entries WHERE position IN ($1, $2)', [
        position,
        position + 1,
      ]);
      await put(rows[position]);
      await put(rows[position + 1]);

      const last = rows.length - 1;
      await owner.query('DELETE FROM disclosure_register.entries WHERE position = $1', [last]);
      await expect(ops.disclosureRegister.verify()).resolves.toMatchObject({
        result: 'invalid',
        firstBadPosition: last,
        problem: expect.stringContaining('log ends early'),
      });
      await put(rows[last]);
    } finally {
      await owner.query("SET session_replication_role = 'origin'");
    }
    await expect(ops.disclosureRegister.verify()).resolves.toMatchObject({ result: 'valid' });
  });

  it('denies when the consent service cannot answer (fail closed), and decides a retry afresh, linked to the first', async () => {
    await consent.stop();
    const idempotencyKey = `unavailable-${run}`;
    const before = await entries();
    const first = await disclose(financing(), idempotencyKey);
    expect(first).toMatchObject({ decision: 'DENY', code: 'CONSENT_UNAVAILABLE' });
    expect(await entries()).toBe(before + 1);
    consent = await ServiceProcess.start('consent');
    await consent.waitReady();
    const retry = await disclose(financing(), idempotencyKey);
    expect(retry).toMatchObject({ decision: 'ALLOW', retryOf: first.entryId });
    expect(retry.entryId).not.toBe(first.entryId);
    expect(await entries()).toBe(before + 2);
    // And that answer is now the key's: a further retry replays it.
    await expect(disclose(financing(), idempotencyKey)).resolves.toEqual(retry);
  }, 60_000);

  it('refuses to append, loudly, when its database is behind the tree heads in JetStream (a rollback)', async () => {
    // Everything sealed and published first.
    await new Promise((r) => setTimeout(r, 1000));
    const head = await ops.disclosureRegister.treeHead();
    await register.stop();
    // A restore from before the newest tree head: it and its entries are gone.
    const lost = await owner.query(
      'SELECT * FROM disclosure_register.tree_heads WHERE tree_size = $1',
      [head.treeSize],
    );
    await owner.query("SET session_replication_role = 'replica'");
    await owner.query('DELETE FROM disclosure_register.tree_heads WHERE tree_size = $1', [
      head.treeSize,
    ]);
    await owner.query("SET session_replication_role = 'origin'");
    register = await ServiceProcess.start('disclosure-register', { SEAL_EVERY_MS: '300' });
    try {
      const deadline = Date.now() + 15_000;
      while (!register.lines.some((l) => l.includes('refuses to append'))) {
        if (Date.now() > deadline) throw new Error('the register never refused');
        await new Promise((r) => setTimeout(r, 100));
      }
      // Up, and not ready: it says why in its readiness checks.
      let ready: Response | undefined;
      while (!ready && Date.now() < deadline) {
        ready = await fetch(register.url('/health/ready')).catch(() => undefined);
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready?.status).toBe(503);
      expect(
        ((await ready?.json()) as { checks: { name: string; state: string }[] }).checks,
      ).toContainEqual(expect.objectContaining({ name: 'register-log', state: 'down' }));
      const before = await entries();
      const refused = await disclose(financing()).catch((e: DsgError) => e);
      expect(refused).toMatchObject({ code: ErrorCodes.LOG_BEHIND });
      expect(await entries()).toBe(before);
      // Nor does it seal a head over the rolled-back log, which would hide the rollback from
      // the next start's comparison: several seal intervals pass, and no head is added.
      const heads = async () =>
        Number(
          (await owner.query('SELECT count(*) AS n FROM disclosure_register.tree_heads')).rows[0].n,
        );
      const headsBefore = await heads();
      await new Promise((r) => setTimeout(r, 1200));
      expect(await heads()).toBe(headsBefore);
    } finally {
      // Put the head back, so the rest of this run finds one log.
      await register.stop();
      const row = lost.rows[0] as Record<string, unknown>;
      await owner.query(
        `INSERT INTO disclosure_register.tree_heads (tree_size, root_hash, sealed_at, kid, signature, frontier)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          row.tree_size,
          row.root_hash,
          row.sealed_at,
          row.kid,
          row.signature,
          JSON.stringify(row.frontier),
        ],
      );
      register = await ServiceProcess.start('disclosure-register', { SEAL_EVERY_MS: '300' });
      await register.waitReady();
    }
    await expect(disclose(financing())).resolves.toMatchObject({ decision: 'ALLOW' });
  }, 60_000);
});
