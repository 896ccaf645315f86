import {
  type CheckReply,
  type CheckRequest,
  DsgClient,
  DsgError,
  ErrorCodes,
} from '@dsg/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { REGISTER_CONFIG, type RegisterConfig } from '../config/register.config';

interface Waiting {
  request: CheckRequest;
  resolve: (reply: CheckReply) => void;
  reject: (err: unknown) => void;
}

/** The consent service's batch form takes at most this many checks. */
const MAX_CHECKS = 500;

/**
 * The consent service's `check`, asked in batches: the checks that arrive in one turn of the event
 * loop, or while one batch is in flight, go together in the next `check-batch` call (one NATS
 * round trip, one validation, one reply for all), in order. A batch consent refuses as invalid is
 * asked again one by one, so one bad check never decides another's fate; any other failure fails
 * every check of the batch (each disclosure is then denied as CONSENT_UNAVAILABLE: fail closed).
 */
@Injectable()
export class ConsentChecks {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  /** A flush is scheduled for the end of this turn of the event loop. */
  private gathering = false;

  constructor(
    private readonly dsg: DsgClient,
    @Inject(REGISTER_CONFIG) private readonly config: RegisterConfig,
  ) {}

  check(request: CheckRequest): Promise<CheckReply> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      // One batch at a time in flight per instance; the rest gather behind it. The first of a
      // burst waits for the rest too: requests that arrive together (one socket read, say the
      // callers a committed batch just answered) are dispatched one after another in this turn of
      // the event loop, and flushing at the first would send it alone and make the others wait a
      // whole round trip behind it.
      if (this.inFlight === 0 && !this.gathering) {
        this.gathering = true;
        setImmediate(() => {
          this.gathering = false;
          if (this.inFlight === 0) void this.flush();
        });
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_CHECKS);
      this.inFlight++;
      try {
        await this.ask(batch);
      } finally {
        this.inFlight--;
      }
    }
  }

  private async ask(batch: Waiting[]): Promise<void> {
    const options = { timeoutMs: this.config.consentTimeoutMs, retries: 0 };
    try {
      if (batch.length === 1) {
        batch[0].resolve(await this.dsg.consent.check(batch[0].request, options));
        return;
      }
      const { results } = await this.dsg.consent.checkBatch(
        { checks: batch.map((w) => w.request) },
        options,
      );
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (err) {
      if (
        batch.length > 1 &&
        err instanceof DsgError &&
        err.code === ErrorCodes.VALIDATION_FAILED
      ) {
        await Promise.all(
          batch.map((w) => this.dsg.consent.check(w.request, options).then(w.resolve, w.reject)),
        );
        return;
      }
      for (const w of batch) w.reject(err);
    }
  }
}
