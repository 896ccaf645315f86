import { type DsgClient, ErrorCodes, type HoldingClocks, type HoldingSystem } from '@dsg/contracts';
import type { PlatformConfig } from '../config/platform.config';
import type { Logger } from '../logging/logger';

/** Holdings a declaration carries at most (the retention API's limit). */
const CHUNK = 1000;

/** A batch of subjects whose records changed, and how to note them as declared once they are. */
export interface OwnRecordsBatch {
  /** Per subject, the date its records' retention clock now runs from. */
  subjects: { clientId: string; at: string }[];
  /** Called after the retention service accepted the declaration. */
  declared: () => Promise<void>;
}

export interface OwnRecordsDeclarerOptions {
  dsg: DsgClient;
  system: HoldingSystem;
  /** The own-record category (records.consents, records.disclosures …). */
  category: string;
  clock: keyof HoldingClocks;
  /** The next batch to declare, or undefined when everything is declared. */
  next: () => Promise<OwnRecordsBatch | undefined>;
  everyMs: number;
  logger: Logger;
}

/**
 * This product's own records are holdings like any system's (issue 7, item 2): the consent
 * service and the register declare, per subject, the records they keep and the date their period
 * runs from, and keep the declarations current as records are added, a batch at a time on a
 * timer. When the retention service cannot be reached the batch is not marked declared and the
 * next run declares it again (a declaration is a state: repeating it is harmless).
 */
export class OwnRecordsDeclarer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly options: OwnRecordsDeclarerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.options.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Declares everything not declared yet; one run at a time. */
  runOnce(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    const { dsg, system, category, clock, logger } = this.options;
    try {
      for (;;) {
        const batch = await this.options.next();
        if (!batch) return;
        for (let i = 0; i < batch.subjects.length; i += CHUNK) {
          await dsg.retention.holdingsDeclare({
            system,
            holdings: batch.subjects.slice(i, i + CHUNK).map((s) => ({
              clientId: s.clientId,
              category,
              clocks: { [clock]: s.at },
            })),
          });
        }
        await batch.declared();
      }
    } catch (err) {
      logger.warn(
        { context: 'OwnRecords', code: (err as { code?: string }).code ?? ErrorCodes.INTERNAL },
        'own records could not be declared to the retention service now; the next run retries',
      );
    }
  }
}

/**
 * A service's own records declared as holdings, on its lifecycle: subclasses name the system,
 * the category and its clock, and read the next batch (`next`); the base starts the declarer at
 * boot and stops it at shutdown.
 */
export abstract class OwnRecordsDeclaration {
  private declarer?: OwnRecordsDeclarer;

  protected constructor(
    private readonly base: {
      dsg: DsgClient;
      config: PlatformConfig;
      logger: Logger;
      system: HoldingSystem;
      category: string;
      clock: keyof HoldingClocks;
    },
  ) {}

  /** The next batch of subjects whose records changed, or undefined when all are declared. */
  protected abstract next(): Promise<OwnRecordsBatch | undefined>;

  onApplicationBootstrap(): void {
    const { dsg, config, logger, system, category, clock } = this.base;
    this.declarer = new OwnRecordsDeclarer({
      dsg,
      system,
      category,
      clock,
      everyMs: config.events.recordsDeclareEveryMs,
      logger,
      next: () => this.next(),
    });
    this.declarer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.declarer?.stop();
  }
}
