import {
  canonicalJson,
  type ConsistencyProofReply,
  consistencyProof,
  DsgError,
  ErrorCodes,
  eventStreamName,
  eventSubject,
  qualifySubject,
  type CompactRange,
  extendRange,
  pushSubtree,
  type InclusionProofReply,
  inclusionProof,
  leafHash,
  rangeRoot,
  TreeHeadSealedEvent,
  type TreeHeadReply,
  ValidationFailedError,
  type VerifyLogReply,
} from '@dsg/contracts';
import {
  CoalescedRun,
  holdConnection,
  isNotFound,
  KeyRing,
  type Logger,
  MetricsService,
  NatsConnectionHolder,
  Outbox,
  PLATFORM_CONFIG,
  PLATFORM_LOGGER,
  type PlatformConfig,
  type Statement,
  SystemService,
} from '@dsg/platform';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { to as copyTo } from 'pg-copy-streams';
import { Counter, Gauge } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import { REGISTER_CONFIG, type RegisterConfig } from '../config/register.config';
import {
  type BatchResult,
  commitmentOfText,
  CopyBatcher,
  type Nodes,
  VERIFY_BATCH_ROWS,
  VERIFY_COPY_SQL,
} from './verify-batch';
import { VerifyWorkers } from './verify-workers';

/** What an entry's leaf holds besides its place and commitment (never personal details). */
export type LeafContent = Record<string, unknown>;

export interface AppendedEntry {
  entryId: string;
  position: number;
  leafHash: string;
  recordedAt: string;
}

type Frontier = CompactRange;

/** One appender at a time across every instance: the log has one order. */
const APPEND_LOCK = "pg_advisory_xact_lock(hashtext('dsg-register-append'))";
/**
 * One sealer at a time across every instance: each head extends the one before. Sealing does not
 * take the append lock, so appends go on while a head is computed (see seal()).
 */
const SEAL_LOCK = "pg_advisory_xact_lock(hashtext('dsg-register-seal'))";

/** An expression: the position the next entry takes (read it under the append lock). */
export const NEXT_POSITION =
  '(SELECT coalesce(max(position) + 1, 0) FROM disclosure_register.entries)::bigint';

/**
 * The register as a Merkle log (RFC 9162). Each entry's leaf is the canonical JSON (RFC 8785) of
 * its content, its position and a salted commitment to its personal details, which are stored
 * apart: redacting them later leaves the leaf, and so the log, intact. Entries are appended
 * under one lock so every instance writes one log; tree heads are sealed and signed every
 * SEAL_EVERY_ENTRIES entries or SEAL_EVERY_MS, in the same transaction as their
 * `tree-head.sealed` event, which carries them out of the database to JetStream.
 */
@Injectable()
export class RegisterLog implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private verifyTimer?: NodeJS.Timeout;
  private readonly verified: {
    valid: Gauge;
    at: Gauge;
    entries: Gauge;
    seconds: Gauge;
    failures: Counter;
  };
  /** Transactions (their managers) holding the append lock: it is taken once per transaction. */
  private readonly locked = new WeakSet<EntityManager>();
  /** The log size this instance last sealed, or asked a seal for. */
  private sealedUpTo = 0;
  private sealing?: Promise<void>;
  /** Set at shutdown: a run of heads over a backlog stops after the head being sealed. */
  private stopping = false;
  private readonly verifying = new CoalescedRun<VerifyLogReply>();
  private refused?: string;
  /** The position after this instance's last append: where its next optimistic append goes. */
  private next?: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly keyRing: KeyRing,
    private readonly outbox: Outbox,
    private readonly nats: NatsConnectionHolder,
    system: SystemService,
    @Inject(PLATFORM_CONFIG) private readonly platform: PlatformConfig,
    @Inject(REGISTER_CONFIG) private readonly config: RegisterConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    const registers = [metrics.registry];
    this.verified = {
      valid: new Gauge({
        name: 'dsg_register_verify_valid',
        help: 'Whether the last verify of the whole log found it valid (1) or named a mismatch (0)',
        registers,
      }),
      at: new Gauge({
        name: 'dsg_register_verify_last_run_timestamp_seconds',
        help: 'When the last verify that completed started (Unix time)',
        registers,
      }),
      entries: new Gauge({
        name: 'dsg_register_verify_entries',
        help: 'Entries the last verify read (up to the first mismatch)',
        registers,
      }),
      seconds: new Gauge({
        name: 'dsg_register_verify_duration_seconds',
        help: 'How long the last verify took',
        registers,
      }),
      failures: new Counter({
        name: 'dsg_register_verify_failures_total',
        help: 'Verifies that could not complete (the database or a worker failed): no answer',
        registers,
      }),
    };
    system.addReadinessCheck('register-log', () =>
      this.refused
        ? Promise.reject(new Error('appending refused: database behind published tree heads'))
        : Promise.resolve(),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.compareWithJetStream();
    this.timer = setInterval(() => void this.sealNow(), this.config.sealEveryMs);
    this.timer.unref();
    if (this.config.verifyEveryMs > 0) {
      // Its outcome is in the metrics and the log (see verify); nothing waits for it.
      this.verifyTimer = setInterval(
        () => void this.verify().catch(() => undefined),
        this.config.verifyEveryMs,
      );
      this.verifyTimer.unref();
    }
  }

  /** Why appending is refused, if it is (the database is behind its published tree heads). */
  get refusal(): string | undefined {
    return this.refused;
  }

  /**
   * The newest tree head published to JetStream must be in the database with the same root: if
   * it is not, the database was restored to an earlier state (or rewritten) and appending now
   * would fork the log. The service then refuses every append, loudly, until an operator acts.
   */
  private async compareWithJetStream(): Promise<void> {
    const prefix = this.platform.nats.subjectPrefix;
    const nc = await this.nats.connect();
    let published: { treeSize: number; rootHash: string } | undefined;
    try {
      const message = await (
        await nc.jetstreamManager()
      ).streams.getMessage(eventStreamName(prefix, 'disclosure-register'), {
        last_by_subj: qualifySubject(prefix, eventSubject(TreeHeadSealedEvent)),
      });
      published = (message.json() as { data: { treeSize: number; rootHash: string } }).data;
    } catch (err) {
      // No stream yet (10059) or no tree head in it (10037): nothing was published to compare.
      const code = (err as { api_error?: { err_code?: number } }).api_error?.err_code;
      if (!isNotFound(err) && code !== 10037) throw err;
      return;
    }
    const [row] = (await this.dataSource.query(
      `SELECT encode(root_hash, 'hex') AS root FROM disclosure_register.tree_heads WHERE tree_size = $1`,
      [published.treeSize],
    )) as { root: string }[];
    if (row?.root === published.rootHash) return;
    this.refused = row
      ? `the database's tree head of ${published.treeSize} entries differs from the one published`
      : `the database has no tree head of ${published.treeSize} entries, which was published: it is behind`;
    this.logger.fatal(
      { context: 'RegisterLog', publishedTreeSize: published.treeSize },
      `register refuses to append: ${this.refused}`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    clearInterval(this.verifyTimer);
    await this.sealing;
  }

  /**
   * Takes the log's append lock for the caller's transaction: from here to its commit, no other
   * instance appends, and whatever the caller reads is what every earlier append committed.
   */
  async lock(manager: EntityManager): Promise<void> {
    this.assertAppendable();
    if (this.locked.has(manager)) return;
    await manager.query(`SELECT ${APPEND_LOCK}`);
    this.locked.add(manager);
  }

  /** Throws LOG_BEHIND while appending is refused (see compareWithJetStream). */
  assertAppendable(): void {
    if (this.refused) {
      throw new DsgError(ErrorCodes.LOG_BEHIND, `The register refuses to append: ${this.refused}`);
    }
  }

  /**
   * Where this instance's next append would go if no other instance appended since its last:
   * the position an optimistic append assumes, and checks under the lock (migration
   * 1766400000000). Undefined until this instance has appended, and after `forgetNext`.
   */
  get nextHint(): number | undefined {
    return this.refused ? undefined : this.next;
  }

  /**
   * Takes `count` positions from the hint for an optimistic append, which may be sent before the
   * previous one has committed (it then waits for that one's turn): returns where it goes, and
   * moves the hint past it. Undefined when there is no hint.
   */
  reserve(count: number): number | undefined {
    const at = this.nextHint;
    if (at !== undefined) this.next = at + count;
    return at;
  }

  /** An optimistic append failed: the next one takes the lock and reads the position. */
  forgetNext(): void {
    this.next = undefined;
  }

  /**
   * The statement that appends entries at `next` onwards (read under the lock with NEXT_POSITION),
   * for the caller to run in its transaction, alone or with its own writes (combineStatements).
   * `details` are personal and stored apart, bound by the commitment.
   */
  appendStatement(
    next: number,
    entries: { entryId: string; content: LeafContent; details: Record<string, unknown> }[],
  ): { statement: Statement; appended: AppendedEntry[] } {
    const recordedAt = new Date().toISOString();
    // The salts of the batch from one call to the random source.
    const salts = randomBytes(16 * entries.length);
    const rows = entries.map((entry, i) => {
      const salt = salts.subarray(16 * i, 16 * (i + 1));
      // Stored as committed to: verify hashes the stored text as it is.
      const details = canonicalJson(entry.details);
      const leaf = canonicalJson(
        withLogFields(entry.content, {
          details: commitmentOfText(salt, details),
          entryId: entry.entryId,
          position: next + i,
          recordedAt,
        }),
      );
      return { entry, salt, details, leaf, hash: leafHash(leaf) };
    });
    // The rows as one JSON parameter: one JSON.stringify, where arrays of text would be escaped
    // element by element (and the details stringified one by one) on the service's event loop.
    const statement = {
      // recipient_id and client_id repeat the leaf's recipient and the details' subject, for
      // auditors' queries and accountings to find entries by index without parsing JSON on
      // every append (see migration 1765900000000); what they find is checked against the leaf.
      sql: `INSERT INTO disclosure_register.entries
              (position, entry_id, leaf, leaf_hash, details, salt, recorded_at, recipient_id, client_id)
       SELECT position, entry_id, leaf, decode(leaf_hash, 'hex'), details::json, decode(salt, 'hex'),
              $2::timestamptz, recipient_id, client_id
         FROM json_to_recordset($1::json)
              AS e(position bigint, entry_id uuid, leaf text, leaf_hash text, details text, salt text,
                   recipient_id text, client_id text)`,
      params: [
        JSON.stringify(
          rows.map((r, i) => ({
            position: next + i,
            entry_id: r.entry.entryId,
            leaf: r.leaf,
            leaf_hash: r.hash.toString('hex'),
            details: r.details,
            salt: r.salt.toString('hex'),
            recipient_id: (r.entry.content.recipient as { id?: string } | undefined)?.id ?? null,
            client_id: r.entry.details.clientId ?? null,
          })),
        ),
        recordedAt,
      ],
    };
    return {
      statement,
      appended: rows.map((r, i) => ({
        entryId: r.entry.entryId,
        position: next + i,
        leafHash: r.hash.toString('hex'),
        recordedAt,
      })),
    };
  }

  /**
   * Call once a locked append has committed: the hint moves to its end (see `committed`).
   */
  appended(end: number): void {
    this.next = end;
    this.committed(end);
  }

  /**
   * Call once an append ending at `end` has committed (an optimistic one reserved its positions
   * before, so the hint stays). Seals are counted in memory (this instance's last seal), a
   * trigger, not a guarantee; the timer seals every SEAL_EVERY_MS whatever happens.
   */
  committed(end: number): void {
    if (end - this.sealedUpTo >= this.config.sealEveryEntries) {
      this.sealedUpTo = end;
      setImmediate(() => void this.sealNow());
    }
  }

  /**
   * Seals every entry appended so far, if any is unsealed: one head, or a run of heads of at most
   * SEAL_MAX_ENTRIES entries each over a backlog.
   */
  sealNow(): Promise<void> {
    this.sealing ??= (async () => {
      while (!this.stopping && (await this.seal()));
    })()
      .catch((err: unknown) => this.logger.error({ err }, 'sealing the register failed'))
      .finally(() => (this.sealing = undefined));
    return this.sealing;
  }

  async treeHead(): Promise<TreeHeadReply | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT tree_size, root_hash, sealed_at, kid, signature FROM disclosure_register.tree_heads
        ORDER BY tree_size DESC LIMIT 1`,
    )) as HeadRow[];
    return row ? toHead(row) : undefined;
  }

  /**
   * The audit path of an entry to a sealed tree head (the newest by default). The path is
   * computed from the leaf hashes of the head's entries (RFC 9162 2.1.3.1), read in one query.
   */
  async inclusionProof(entryId: string, treeSize?: number): Promise<InclusionProofReply> {
    const [entry] = (await this.dataSource.query(
      `SELECT position, leaf_hash FROM disclosure_register.entries WHERE entry_id = $1`,
      [entryId],
    )) as { position: string; leaf_hash: Buffer }[];
    if (!entry) throw new DsgError(ErrorCodes.NOT_FOUND, 'No register entry has this id');
    const head = await this.sealedHead(treeSize);
    const position = Number(entry.position);
    if (position >= head.treeSize) {
      throw new DsgError(
        ErrorCodes.INVALID_STATE,
        `The entry is at position ${position}, after the tree head of ${head.treeSize} entries: it is proven once the next head is sealed`,
      );
    }
    const leaves = await this.leafHashes(head.treeSize);
    return {
      position,
      leafHash: entry.leaf_hash.toString('hex'),
      proof: inclusionProof(position, leaves).map((h) => h.toString('hex')),
      treeHead: head,
    };
  }

  /** That the sealed head of `fromSize` entries is a prefix of the one of `toSize` (RFC 9162 2.1.4.1). */
  async consistencyProof(fromSize: number, toSize?: number): Promise<ConsistencyProofReply> {
    const to = await this.sealedHead(toSize);
    const from = await this.sealedHead(fromSize);
    if (from.treeSize > to.treeSize) {
      throw new ValidationFailedError([
        {
          field: 'fromSize',
          constraint: 'notAfterToSize',
          message: 'fromSize must not be larger than toSize',
        },
      ]);
    }
    const leaves = await this.leafHashes(to.treeSize);
    return {
      proof: consistencyProof(from.treeSize, leaves).map((h) => h.toString('hex')),
      from,
      to,
    };
  }

  /** A sealed tree head: of `treeSize` entries, or the newest. NOT_FOUND if there is none. */
  async sealedHead(treeSize?: number): Promise<TreeHeadReply> {
    const [row] = (await this.dataSource.query(
      `SELECT tree_size, root_hash, sealed_at, kid, signature FROM disclosure_register.tree_heads
        WHERE $1::bigint IS NULL OR tree_size = $1 ORDER BY tree_size DESC LIMIT 1`,
      [treeSize ?? null],
    )) as HeadRow[];
    if (!row) {
      throw new DsgError(
        ErrorCodes.NOT_FOUND,
        treeSize === undefined
          ? 'No tree head has been sealed yet'
          : `No tree head was sealed at ${treeSize} entries`,
      );
    }
    return toHead(row);
  }

  private async leafHashes(size: number): Promise<Buffer[]> {
    const rows = (await this.dataSource.query(
      'SELECT leaf_hash FROM disclosure_register.entries WHERE position < $1 ORDER BY position',
      [size],
    )) as { leaf_hash: Buffer }[];
    if (rows.length !== size) {
      throw new DsgError(
        ErrorCodes.INTERNAL,
        'The register has fewer entries than a sealed tree head: verify the log',
      );
    }
    return rows.map((r) => r.leaf_hash);
  }

  /**
   * Recomputes every leaf hash and commitment, checks each entry is at its place, and every
   * sealed tree head's root and signature; names the first entry that does not match. The
   * entries are streamed (COPY, binary) in batches to worker threads, which check them in
   * parallel; the batches' subtrees are folded here, in order, and each head checked as the
   * fold reaches its size. Memory stays bounded: at most two batches per worker are in flight.
   * One verify runs at a time: calls made while one runs share the next, which starts when it
   * ends (CoalescedRun), so every answer comes from a run that began after the call, and however
   * many callers ask at once at most one run goes and one waits.
   */
  verify(): Promise<VerifyLogReply> {
    return this.verifying.run(() => this.verifyAndReport());
  }

  /** A verify, its outcome set in the metrics; a mismatch or a failure logged as an error. */
  private async verifyAndReport(): Promise<VerifyLogReply> {
    const started = Date.now();
    let reply: VerifyLogReply;
    try {
      reply = await this.verifyOnce();
    } catch (err) {
      this.verified.failures.inc();
      this.logger.error({ context: 'RegisterLog', err }, 'register verify could not complete');
      throw err;
    }
    this.verified.valid.set(reply.result === 'valid' ? 1 : 0);
    this.verified.at.set(started / 1000);
    this.verified.entries.set(reply.entries);
    this.verified.seconds.set((Date.now() - started) / 1000);
    if (reply.result !== 'valid') {
      // Positions and the kind of mismatch only: no entry's content.
      this.logger.error(
        {
          context: 'RegisterLog',
          firstBadPosition: reply.firstBadPosition,
          problem: reply.problem,
        },
        'register verify found the log does not match: see firstBadPosition',
      );
    }
    return reply;
  }

  private async verifyOnce(): Promise<VerifyLogReply> {
    const heads = (await this.dataSource.query(
      `SELECT tree_size, root_hash, sealed_at, kid, signature FROM disclosure_register.tree_heads
        ORDER BY tree_size`,
    )) as HeadRow[];
    const sizes = heads.map((h) => Number(h.tree_size));
    const nodes: Nodes = [];
    let size = 0;
    let checked = 0;
    const bad = (position: number, problem: string): VerifyLogReply => ({
      result: 'invalid',
      entries: size,
      treeHeadsChecked: checked,
      firstBadPosition: position,
      problem,
    });
    // Folds a batch's result into the log; an answer if it found the first bad entry.
    const fold = (result: BatchResult): VerifyLogReply | undefined => {
      for (const snapshot of result.snapshots) {
        const at = [...nodes];
        for (const node of snapshot.nodes) pushSubtree(at, node);
        const problem = this.checkHead(heads[checked], { nodes: at, size: snapshot.size });
        if (problem) return bad(snapshot.size - 1, problem);
        checked++;
      }
      for (const node of result.nodes) pushSubtree(nodes, node);
      size += result.checked;
      return result.bad ? bad(result.bad.position, result.bad.problem) : undefined;
    };

    const { client: connection, release } = await holdConnection(this.dataSource);
    const workers = new VerifyWorkers();
    let finished = false;
    try {
      const inFlight: Promise<BatchResult>[] = [];
      let first = 0;
      const dispatch = (bytes: Buffer) => {
        const end = first + VERIFY_BATCH_ROWS;
        const headSizes = sizes.filter((s) => s > first && s <= end);
        inFlight.push(workers.run({ first, bytes, headSizes }));
        first = end;
      };
      const batcher = new CopyBatcher();
      const stream = connection.query(copyTo(VERIFY_COPY_SQL));
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        for (const batch of batcher.push(chunk)) dispatch(batch);
        while (inFlight.length >= workers.count * 2) {
          const answer = fold(await inFlight.shift()!);
          if (answer) return answer;
        }
      }
      const last = batcher.finish();
      if (last) dispatch(last);
      for (const result of inFlight) {
        const answer = fold(await result);
        if (answer) return answer;
      }
      finished = true;
    } finally {
      // A COPY left unread cannot go back to the pool: the connection is closed instead.
      release(finished ? undefined : true);
      await workers.close();
    }
    if (checked < heads.length) {
      return bad(size, `tree head of ${heads[checked].tree_size} entries, log ends early`);
    }
    return { result: 'valid', entries: size, treeHeadsChecked: checked };
  }

  private checkHead(head: HeadRow, frontier: Frontier): string | undefined {
    if (!rangeRoot(frontier).equals(head.root_hash)) {
      return `root of the tree head of ${head.tree_size} entries does not match (an entry at or before this one was rewritten)`;
    }
    const signed = canonicalJson(signedPart(head));
    if (!this.keyRing.verify(signed, { kid: head.kid, alg: 'EdDSA', sig: head.signature })) {
      return `signature of the tree head of ${head.tree_size} entries does not verify`;
    }
    return undefined;
  }

  /** Seals one head over at most SEAL_MAX_ENTRIES unsealed entries; whether more are left. */
  private async seal(): Promise<boolean> {
    // A log that may have forked (see compareWithJetStream) gets no new head: one sealed and
    // published now would make the next start's comparison pass, and hide the rollback.
    if (this.refused) return false;
    return this.dataSource.transaction(async (manager) => {
      // Appends are not held up: the entries are read on a snapshot, and every snapshot sees a
      // gapless prefix of the log. An append starts right after the entries committed when it
      // began (the append lock, and the position guard of an optimistic append), and its
      // commit is visible before its lock is released; so when a snapshot sees an entry, it
      // sees every entry before it. The seal lock, taken in its own statement, makes each
      // sealer read the newest head before it extends it.
      await manager.query(`SELECT ${SEAL_LOCK}`);
      const [last] = (await manager.query(
        `SELECT tree_size, frontier FROM disclosure_register.tree_heads ORDER BY tree_size DESC LIMIT 1`,
      )) as { tree_size: string; frontier: [number, string][] }[];
      const frontier: Frontier = last
        ? {
            size: Number(last.tree_size),
            nodes: last.frontier.map(([height, hex]) => ({
              height,
              hash: Buffer.from(hex, 'hex'),
            })),
          }
        : { size: 0, nodes: [] };
      const rows = (await manager.query(
        `SELECT position, leaf_hash FROM disclosure_register.entries WHERE position >= $1
          ORDER BY position LIMIT $2`,
        [frontier.size, this.config.sealMaxEntries],
      )) as { position: string; leaf_hash: Buffer }[];
      if (rows.length === 0) return false;
      for (const row of rows) {
        // Never a head over a gap (only a rewrite by hand makes one; verify names it).
        if (Number(row.position) !== frontier.size) {
          throw new Error(`the register has no entry at position ${frontier.size}`);
        }
        extendRange(frontier, row.leaf_hash);
      }
      const head = {
        tree_size: String(frontier.size),
        root_hash: rangeRoot(frontier),
        sealed_at: new Date(),
      };
      const signature = this.keyRing.sign(canonicalJson(signedPart(head)));
      await manager.query(
        `INSERT INTO disclosure_register.tree_heads (tree_size, root_hash, sealed_at, kid, signature, frontier)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          frontier.size,
          head.root_hash,
          head.sealed_at,
          signature.kid,
          signature.sig,
          JSON.stringify(frontier.nodes.map((n) => [n.height, n.hash.toString('hex')])),
        ],
      );
      await this.outbox.append(
        manager,
        TreeHeadSealedEvent,
        toHead({ ...head, kid: signature.kid, signature: signature.sig }),
      );
      return rows.length === this.config.sealMaxEntries;
    });
  }
}

/** The fields of a leaf the log sets itself, in canonical order. */
interface LogFields {
  details: string;
  entryId: string;
  position: number;
  recordedAt: string;
}
const LOG_FIELDS: readonly (keyof LogFields)[] = ['details', 'entryId', 'position', 'recordedAt'];

/**
 * The leaf's object: `content` with the log's own fields (which win over content's), merged in
 * key order, so a content whose keys are in canonical order gives a leaf in canonical order,
 * written without sorting (canonicalJson). Any other content is still canonicalised right.
 */
function withLogFields(content: LeafContent, fields: LogFields): LeafContent {
  const leaf: LeafContent = {};
  let next = 0;
  for (const key in content) {
    while (next < LOG_FIELDS.length && LOG_FIELDS[next] <= key) {
      leaf[LOG_FIELDS[next]] = fields[LOG_FIELDS[next]];
      next++;
    }
    if (!(LOG_FIELDS as readonly string[]).includes(key)) leaf[key] = content[key];
  }
  for (; next < LOG_FIELDS.length; next++) leaf[LOG_FIELDS[next]] = fields[LOG_FIELDS[next]];
  return leaf;
}

interface HeadRow {
  tree_size: string;
  root_hash: Buffer;
  sealed_at: Date;
  kid: string;
  signature: string;
}

/** What a tree head's signature covers. */
function signedPart(head: Pick<HeadRow, 'tree_size' | 'root_hash' | 'sealed_at'>) {
  return {
    treeSize: Number(head.tree_size),
    rootHash: head.root_hash.toString('hex'),
    sealedAt: head.sealed_at.toISOString(),
  };
}

function toHead(row: HeadRow): TreeHeadReply {
  return {
    ...signedPart(row),
    kid: row.kid,
    signature: row.signature,
  };
}
