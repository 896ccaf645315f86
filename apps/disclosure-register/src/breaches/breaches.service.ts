import {
  BreachAssessmentDecidedEvent,
  BreachAssessmentOpenedEvent,
  type BreachAssessmentReply,
  type BreachState,
  type CloseBreachRequest,
  type DecideBreachRequest,
  DsgError,
  ErrorCodes,
  isRealTimestamp,
  type NotifyBreachRequest,
  type ReviewBreachRequest,
  ValidationFailedError,
} from '@dsg/contracts';
import { Outbox } from '@dsg/platform';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';

/** 45 CFR 164.404(b) and 164.408: no later than 60 calendar days after discovery. */
const NOTIFY_WITHIN_DAYS = 60;
const DAY_MS = 86_400_000;

interface AssessmentRow {
  id: string;
  entry_id: string;
  state: BreachState;
  reasons: string[];
  discovered_at: Date;
  individuals_due_by: Date;
  regulator_due_by: Date;
  notifiable: boolean | null;
  decision_reasons: string | null;
  factors: BreachAssessmentReply['factors'] | null;
}

interface HistoryRow {
  assessment_id: string;
  action: string;
  at: Date;
  by: string;
  audience: string | null;
  notified_at: Date | null;
  note: string | null;
}

const COLUMNS = `id, entry_id, state, reasons, discovered_at, individuals_due_by, regulator_due_by,
                 notifiable, decision_reasons, factors`;

/**
 * HIP-9: a reported disclosure that failed the checks opens a breach assessment. A privacy
 * officer takes it up, decides whether it is notifiable (with reasons and the four-factor risk
 * assessment of 164.402), records the notifications a notifiable breach needs by their 60-day
 * deadlines, and closes it. Every step is kept in its history; the steps' order is enforced.
 */
@Injectable()
export class BreachesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  /** In the transaction that records the flagged entry, with its `opened` event. */
  async open(
    manager: EntityManager,
    entryId: string,
    reasons: string[],
    discoveredAt: Date,
    id: string = randomUUID(),
  ): Promise<string> {
    const due = new Date(discoveredAt.getTime() + NOTIFY_WITHIN_DAYS * DAY_MS);
    await manager.query(
      `INSERT INTO disclosure_register.breach_assessments
         (id, entry_id, state, reasons, discovered_at, individuals_due_by, regulator_due_by)
       VALUES ($1, $2, 'open', $3, $4, $5, $5)`,
      [id, entryId, reasons, discoveredAt, due],
    );
    await this.step(manager, id, 'opened', 'register');
    await this.outbox.append(manager, BreachAssessmentOpenedEvent, {
      assessmentId: id,
      entryId,
      reasons,
      discoveredAt: discoveredAt.toISOString(),
      individualsDueBy: due.toISOString(),
      regulatorDueBy: due.toISOString(),
    });
    return id;
  }

  async list(state?: BreachState): Promise<BreachAssessmentReply[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM disclosure_register.breach_assessments
        WHERE $1::text IS NULL OR state = $1 ORDER BY discovered_at, id`,
      [state ?? null],
    )) as AssessmentRow[];
    return this.withHistory(this.dataSource.manager, rows);
  }

  async get(id: string, manager: EntityManager = this.dataSource.manager) {
    const [row] = (await manager.query(
      `SELECT ${COLUMNS} FROM disclosure_register.breach_assessments WHERE id = $1`,
      [id],
    )) as AssessmentRow[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No breach assessment has this id');
    return (await this.withHistory(manager, [row]))[0];
  }

  review(request: ReviewBreachRequest, by: string): Promise<BreachAssessmentReply> {
    const id = request.assessmentId;
    return this.transition(id, ['open'], 'take it up for review', async (manager) => {
      await manager.query(
        `UPDATE disclosure_register.breach_assessments SET state = 'under-review' WHERE id = $1`,
        [id],
      );
      await this.step(manager, id, 'review-started', by, request.note);
    });
  }

  decide(request: DecideBreachRequest, by: string): Promise<BreachAssessmentReply> {
    const id = request.assessmentId;
    return this.transition(id, ['under-review'], 'decide it', async (manager, current) => {
      await manager.query(
        `UPDATE disclosure_register.breach_assessments
            SET state = 'decided', notifiable = $2, decision_reasons = $3, factors = $4
          WHERE id = $1`,
        [id, request.notifiable, request.reasons, request.factors],
      );
      await this.step(
        manager,
        id,
        request.notifiable ? 'decided-notifiable' : 'decided-not-notifiable',
        by,
      );
      // HIP-9: a notifiable breach carries its notifications' deadline (the earlier of the two,
      // both 60 days from discovery), which the consent service tells the privacy officer.
      const notifyBy = [current.individualsDueBy, current.regulatorDueBy].sort()[0];
      await this.outbox.append(manager, BreachAssessmentDecidedEvent, {
        assessmentId: id,
        notifiable: request.notifiable,
        decidedAt: new Date().toISOString(),
        ...(request.notifiable ? { notifyBy } : {}),
      });
    });
  }

  notify(request: NotifyBreachRequest, by: string): Promise<BreachAssessmentReply> {
    const id = request.assessmentId;
    if (!isRealTimestamp(request.notifiedAt) || Date.parse(request.notifiedAt) > Date.now()) {
      throw new ValidationFailedError([
        {
          field: 'notifiedAt',
          constraint: 'isPastTimestamp',
          message: 'notifiedAt must be a real moment, not in the future',
        },
      ]);
    }
    return this.transition(id, ['decided'], 'record a notification', async (manager, row) => {
      if (!row.notifiable) {
        throw new DsgError(
          ErrorCodes.INVALID_STATE,
          'The assessment was decided not notifiable: there is no notification to record',
        );
      }
      if (Date.parse(request.notifiedAt) < Date.parse(row.discoveredAt)) {
        throw new ValidationFailedError([
          {
            field: 'notifiedAt',
            constraint: 'afterDiscovery',
            message: 'notifiedAt is before the breach was discovered',
          },
        ]);
      }
      const [done] = (await manager.query(
        `SELECT 1 FROM disclosure_register.breach_assessment_history
          WHERE assessment_id = $1 AND action = 'notified' AND audience = $2`,
        [id, request.audience],
      )) as unknown[];
      if (done) {
        throw new DsgError(
          ErrorCodes.INVALID_STATE,
          `A notification to ${request.audience} is already recorded`,
        );
      }
      await this.step(manager, id, 'notified', by, request.method, {
        audience: request.audience,
        notifiedAt: request.notifiedAt,
      });
    });
  }

  close(request: CloseBreachRequest, by: string): Promise<BreachAssessmentReply> {
    const id = request.assessmentId;
    return this.transition(id, ['decided'], 'close it', async (manager, row) => {
      if (row.notifiable) {
        const missing = (['individuals', 'regulator'] as const).filter(
          (audience) => !row.notifications.some((n) => n.audience === audience),
        );
        if (missing.length) {
          throw new DsgError(
            ErrorCodes.INVALID_STATE,
            `A notifiable breach closes only once notified: ${missing.join(' and ')} not yet`,
          );
        }
      }
      await manager.query(
        `UPDATE disclosure_register.breach_assessments SET state = 'closed' WHERE id = $1`,
        [id],
      );
      await this.step(manager, id, 'closed', by, request.note);
    });
  }

  /** One step under the row's lock, refused unless the assessment is in one of `from`. */
  private async transition(
    id: string,
    from: BreachState[],
    what: string,
    apply: (manager: EntityManager, current: BreachAssessmentReply) => Promise<void>,
  ): Promise<BreachAssessmentReply> {
    return this.dataSource.transaction(async (manager) => {
      const [locked] = (await manager.query(
        `SELECT ${COLUMNS} FROM disclosure_register.breach_assessments WHERE id = $1 FOR UPDATE`,
        [id],
      )) as AssessmentRow[];
      if (!locked) throw new DsgError(ErrorCodes.NOT_FOUND, 'No breach assessment has this id');
      if (!from.includes(locked.state)) {
        throw new DsgError(
          ErrorCodes.INVALID_STATE,
          `The assessment is ${locked.state}: only one ${from.join(' or ')} can ${what}`,
        );
      }
      const [current] = await this.withHistory(manager, [locked]);
      await apply(manager, current);
      return this.get(id, manager);
    });
  }

  private async step(
    manager: EntityManager,
    id: string,
    action: string,
    by: string,
    note?: string,
    notification?: { audience: string; notifiedAt: string },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO disclosure_register.breach_assessment_history
         (assessment_id, action, by, note, audience, notified_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        id,
        action,
        by,
        note ?? null,
        notification?.audience ?? null,
        notification?.notifiedAt ?? null,
      ],
    );
  }

  private async withHistory(
    manager: EntityManager,
    rows: AssessmentRow[],
  ): Promise<BreachAssessmentReply[]> {
    if (rows.length === 0) return [];
    const history = (await manager.query(
      `SELECT assessment_id, action, at, by, audience, notified_at, note
         FROM disclosure_register.breach_assessment_history
        WHERE assessment_id = ANY($1) ORDER BY id`,
      [rows.map((r) => r.id)],
    )) as HistoryRow[];
    const now = Date.now();
    return rows.map((row) => {
      const steps = history.filter((h) => h.assessment_id === row.id);
      const notifications = steps
        .filter((h) => h.action === 'notified')
        .map((h) => ({
          audience: h.audience as 'individuals' | 'regulator' | 'media',
          notifiedAt: h.notified_at!.toISOString(),
          method: h.note ?? '',
        }));
      const sent = (audience: string) => notifications.some((n) => n.audience === audience);
      // A deadline runs until the breach is decided not notifiable or its notification is sent.
      const pending = row.state !== 'closed' && row.notifiable !== false;
      const overdue =
        pending &&
        ((now > row.individuals_due_by.getTime() && !sent('individuals')) ||
          (now > row.regulator_due_by.getTime() && !sent('regulator')));
      return {
        assessmentId: row.id,
        entryId: row.entry_id,
        state: row.state,
        reasons: row.reasons,
        discoveredAt: row.discovered_at.toISOString(),
        individualsDueBy: row.individuals_due_by.toISOString(),
        regulatorDueBy: row.regulator_due_by.toISOString(),
        overdue,
        ...(row.notifiable === null ? {} : { notifiable: row.notifiable }),
        ...(row.decision_reasons ? { decisionReasons: row.decision_reasons } : {}),
        ...(row.factors ? { factors: row.factors } : {}),
        notifications,
        history: steps.map((h) => ({
          action: h.action,
          at: h.at.toISOString(),
          by: h.by,
          ...(h.note && h.action !== 'notified' ? { note: h.note } : {}),
        })),
      };
    });
  }
}
