import {
  ErrorCodes,
  type ListSweepsReply,
  type RunSweepRequest,
  type SweepReply,
  unrealTimestamps,
  ValidationFailedError,
} from '@dsg/contracts';
import {
  type Logger,
  NatsConnectionHolder,
  PLATFORM_CONFIG,
  PLATFORM_LOGGER,
  type PlatformConfig,
} from '@dsg/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type QueryRunner } from 'typeorm';
import { RETENTION_CONFIG, type RetentionConfig } from '../config/retention.config';
import { ErasuresService } from '../erasures/erasures.service';
import { ensurePurgeStream } from './purge-stream';
import { type DueKey, PurgesService } from './purges.service';

/**
 * One sweeper at a time across every replica: a session-level advisory lock, held on a connection
 * of its own for the whole sweep. A replica that dies loses its session and with it the lock.
 */
const SWEEP_LOCK = "hashtext('dsg-retention-sweep')";

/** The first sweep after boot comes this soon (or at SWEEP_EVERY_MS, if sooner). */
const FIRST_SWEEP_AFTER_MS = 30_000;

interface SweepRow {
  id: string;
  state: 'running' | 'completed' | 'interrupted';
  started_at: Date;
  finished_at: Date | null;
  issued: number;
  held: number;
  resumes: string | null;
}

/**
 * Sweeps (issue 7, item 4): on the configured schedule, or when an operator asks, what is due
 * is read from the holdings' partial index on the due date, soonest first, a batch at a time
 * (keyset on due date, system, subject, category), and each due holding no legal hold covers
 * (RET-6) is issued as a purge item to its system; held ones are counted. A batch's items and
 * their commands commit together. A sweep interrupted by a crash leaves its row `running`: the
 * next sweep, holding the lock, marks it interrupted and resumes it — what was issued is open or
 * finished and is not issued again (the partial unique index on open items).
 */
@Injectable()
export class SweepsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private sweepTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private retrying?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsConnectionHolder,
    private readonly purges: PurgesService,
    private readonly erasures: ErasuresService,
    @Inject(RETENTION_CONFIG) private readonly config: RetentionConfig,
    @Inject(PLATFORM_CONFIG) private readonly platform: PlatformConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.connect();
    await ensurePurgeStream(
      await nc.jetstreamManager(),
      this.platform.nats.subjectPrefix,
      this.platform.events.replicas,
    );
    if (this.config.sweepEveryMs > 0) {
      // The first sweep soon after boot (what fell due while no replica ran), then on schedule.
      const sweep = () => void this.run({}).catch(() => {});
      this.sweepTimer = setTimeout(
        () => {
          sweep();
          this.sweepTimer = setInterval(sweep, this.config.sweepEveryMs);
          this.sweepTimer.unref();
        },
        Math.min(this.config.sweepEveryMs, FIRST_SWEEP_AFTER_MS),
      );
      this.sweepTimer.unref();
    }
    this.retryTimer = setInterval(() => this.retry(), this.config.retryCheckEveryMs);
    this.retryTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.sweepTimer);
    clearInterval(this.sweepTimer);
    clearInterval(this.retryTimer);
    await this.current;
    await this.retrying;
  }

  /**
   * Items not acknowledged in time are issued again or dead-lettered, and erasures whose items
   * are all settled complete (any replica).
   */
  private retry(): void {
    if (this.retrying || this.stopping) return;
    this.retrying = this.purges
      .retryDue()
      .then(async ({ reissued, deadLettered }) => {
        await this.erasures.completeSome();
        if (reissued || deadLettered) {
          this.logger.info(
            { context: 'Purges', reissued, deadLettered },
            'purge items issued again or dead-lettered',
          );
        }
      })
      .catch((err: { code?: string }) => {
        this.logger.warn(
          { context: 'Purges', code: err.code ?? ErrorCodes.INTERNAL },
          'the retry check failed; the next one tries again',
        );
      })
      .finally(() => {
        this.retrying = undefined;
      });
  }

  /**
   * Starts a sweep if no replica is sweeping, and answers with it (running: it goes on after the
   * answer); otherwise answers `busy` with the sweep in progress, if it can be seen.
   */
  async run(request: RunSweepRequest): Promise<SweepReply> {
    const problems = unrealTimestamps(request, ['dueBy']);
    if (!problems.length && request.dueBy && Date.parse(request.dueBy) > Date.now()) {
      // Nothing is purged before it is due: a holder's confirmation would refuse it anyway.
      problems.push({
        field: 'dueBy',
        constraint: 'notFuture',
        message: 'dueBy may not be in the future',
      });
    }
    if (problems.length) throw new ValidationFailedError(problems);
    const dueBy = request.dueBy ?? new Date().toISOString();
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let started = false;
    try {
      const [{ locked }] = (await runner.query(
        `SELECT pg_try_advisory_lock(${SWEEP_LOCK}) AS locked`,
      )) as { locked: boolean }[];
      if (!locked) {
        const [running] = (await this.dataSource.query(
          `SELECT * FROM retention.sweeps WHERE state = 'running'
            ORDER BY started_at DESC LIMIT 1`,
        )) as SweepRow[];
        return running
          ? { ...toReply(running), state: 'busy' }
          : { sweepId: '', state: 'busy', startedAt: new Date().toISOString(), issued: 0, held: 0 };
      }
      // Holding the lock, nobody else sweeps: a sweep still `running` was interrupted.
      // (TypeORM answers an UPDATE … RETURNING with [rows, count].)
      const [[interrupted]] = (await runner.query(
        `UPDATE retention.sweeps SET state = 'interrupted', finished_at = now()
          WHERE state = 'running' RETURNING id`,
      )) as [{ id: string }[], number];
      const id = randomUUID();
      const [row] = (await runner.query(
        `INSERT INTO retention.sweeps (id, due_by, state, instance, resumes)
         VALUES ($1, $2, 'running', $3, $4) RETURNING *`,
        [id, dueBy, this.platform.instanceId, interrupted?.id ?? null],
      )) as SweepRow[];
      if (interrupted) {
        this.logger.warn(
          { context: 'Sweeps', sweepId: id, resumes: interrupted.id },
          'an interrupted sweep is resumed',
        );
      }
      started = true;
      this.current = this.sweep(runner, id, dueBy).finally(() => {
        this.current = undefined;
      });
      return toReply(row);
    } finally {
      if (!started) await runner.release();
    }
  }

  private async sweep(runner: QueryRunner, id: string, dueBy: string): Promise<void> {
    let issued = 0;
    let held = 0;
    let after: DueKey = ['-infinity', '', '', ''];
    try {
      for (;;) {
        if (this.stopping) throw new Error('shutting down');
        const batch = await this.dataSource.transaction(async (manager) => {
          const out = await this.purges.issueDue(manager, id, dueBy, after, this.config.sweepBatch);
          if (out) {
            await manager.query(
              'UPDATE retention.sweeps SET issued = issued + $2, held = held + $3 WHERE id = $1',
              [id, out.issued, out.held],
            );
          }
          return out;
        });
        if (!batch) break;
        issued += batch.issued;
        held += batch.held;
        after = batch.last;
        if (batch.read < this.config.sweepBatch) break;
      }
      await this.dataSource.query(
        `UPDATE retention.sweeps SET state = 'completed', finished_at = now() WHERE id = $1`,
        [id],
      );
      this.logger.info({ context: 'Sweeps', sweepId: id, issued, held }, 'sweep completed');
    } catch (err) {
      // Left `running`: the next sweep resumes it.
      this.logger.warn(
        {
          context: 'Sweeps',
          sweepId: id,
          code: (err as { code?: string }).code ?? ErrorCodes.INTERNAL,
        },
        'sweep stopped before the end; the next one resumes it',
      );
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(${SWEEP_LOCK})`).catch(() => {});
      await runner.release();
    }
  }

  async list(limit = 20): Promise<ListSweepsReply> {
    const rows = (await this.dataSource.query(
      'SELECT * FROM retention.sweeps ORDER BY started_at DESC LIMIT $1',
      [limit],
    )) as SweepRow[];
    return { sweeps: rows.map(toReply) };
  }
}

function toReply(row: SweepRow): SweepReply {
  return {
    sweepId: row.id,
    state: row.state,
    startedAt: row.started_at.toISOString(),
    ...(row.finished_at ? { finishedAt: row.finished_at.toISOString() } : {}),
    issued: row.issued,
    held: row.held,
    ...(row.resumes ? { resumes: row.resumes } : {}),
  };
}
