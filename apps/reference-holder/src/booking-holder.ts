import {
  CLIENT_SYSTEM_SUBJECTS,
  type ClientSystemContactReply,
  type ClientSystemMatchReply,
  type ClientSystemMatchRequest,
  correctionConsumerName,
  type CorrectionRequested,
  correctionStreamName,
  type EventEnvelope,
  type DsgClient,
  type Holding,
  type PurgeCommand,
  type PurgeItem,
  type PurgeOutcome,
  PurgeWorker,
} from '@dsg/contracts';
import type { ConsumerMessages, Subscription } from 'nats';
import type { Pool } from 'pg';

/** Holdings a declaration carries at most (the retention API's limit). */
const DECLARE_CHUNK = 1000;

/** A demo appointment: the booking system's personal data of one client at one visit. */
export interface Appointment {
  clientId: string;
  startsAt: string;
  name: string;
  phone: string;
  /** What the client told the front desk about the treatment: PHI. */
  notes?: string;
  dateOfBirth?: string;
  /** Where the client takes notices (the privacy office's letters). */
  email?: string;
}

/**
 * The reference holder (issue 7, item 7): a small booking system, with its appointments in a
 * PostgreSQL schema of its own, that integrates with the retention service as any holding system
 * would. It declares what it holds (per client: identifiers, and consultation notes when it has
 * some, with the last encounter as their clock), takes its purge commands from JetStream, confirms
 * each item just before executing it, executes it on its own rows, and acknowledges it with what
 * was done. Its NATS user is `booking`: it can pull only its own purge commands.
 */
export class BookingHolder {
  private worker?: PurgeWorker;
  private readonly subscriptions: Subscription[] = [];
  private corrections?: ConsumerMessages;
  private correcting?: Promise<void>;

  constructor(
    private readonly options: {
      client: DsgClient;
      pool: Pool;
      subjectPrefix: string;
      /** The schema of its tables (default reference_holder). */
      schema?: string;
    },
  ) {}

  private get table(): string {
    return `${this.options.schema ?? 'reference_holder'}.appointments`;
  }

  async init(): Promise<void> {
    const schema = this.options.schema ?? 'reference_holder';
    await this.options.pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await this.options.pool.query(`
      CREATE TABLE IF NOT EXISTS ${this.table} (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id     text COLLATE "C" NOT NULL,
        starts_at     timestamptz NOT NULL,
        name          text,
        phone         text,
        notes         text,
        date_of_birth date
      )`);
    await this.options.pool.query(`ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS email text`);
    await this.options.pool.query(`
      CREATE TABLE IF NOT EXISTS ${schema}.correction_tasks (
        request_id  text PRIMARY KEY,
        client_id   text NOT NULL,
        categories  text[] NOT NULL,
        description text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await this.options.pool.query(
      `CREATE INDEX IF NOT EXISTS appointments_client ON ${this.table} (client_id, starts_at)`,
    );
  }

  /** Takes purge commands until stop(). */
  async start(): Promise<void> {
    this.worker = new PurgeWorker({
      client: this.options.client,
      system: 'booking',
      subjectPrefix: this.options.subjectPrefix,
      execute: (items, command) => this.execute(items, command),
      // Commands carry distinct items: several are confirmed, executed and acknowledged at once.
      concurrency: 4,
    });
    await this.worker.start();
  }

  async stop(): Promise<void> {
    for (const sub of this.subscriptions) sub.unsubscribe();
    await this.corrections?.close();
    await this.correcting;
    await this.worker?.stop();
  }

  /**
   * Answers the consent service as the spa's client system (the provider interface of
   * libs/contracts/src/consent/client-system.ts): which of a rights requester's data points match
   * its records (CCP-3: kinds only, never values back), and a client's e-mail for notices.
   */
  serveClientSystem(): void {
    const nc = this.options.client.connection;
    const on = (operation: string, answer: (body: unknown) => Promise<unknown>) => {
      const sub = nc.subscribe(`${this.options.subjectPrefix}.${operation}`, {
        queue: 'reference-holder',
      });
      this.subscriptions.push(sub);
      void (async () => {
        for await (const m of sub) {
          const reply = await answer(JSON.parse(new TextDecoder().decode(m.data))).catch(
            () => ({}),
          );
          m.respond(new TextEncoder().encode(JSON.stringify(reply)));
        }
      })();
    };
    on(CLIENT_SYSTEM_SUBJECTS.match, (body) => this.match(body as ClientSystemMatchRequest));
    on(CLIENT_SYSTEM_SUBJECTS.contact, (body) =>
      this.contact((body as { clientId: string }).clientId),
    );
  }

  /**
   * Takes its correction tasks (HIP-8, CCP-1) from the consent service's work queue: each goes to
   * the front desk's list (`correction_tasks`), where staff correct the record; a task delivered
   * again is listed once. Acknowledged once it is listed; one it cannot read is terminated (not
   * delivered again); one it cannot store now is delivered again a second later.
   */
  async takeCorrections(): Promise<void> {
    const consumer = await this.options.client.connection
      .jetstream()
      .consumers.get(
        correctionStreamName(this.options.subjectPrefix),
        correctionConsumerName('booking'),
      );
    const messages = await consumer.consume({ max_messages: 16 });
    this.corrections = messages;
    this.correcting = (async () => {
      for await (const msg of messages) {
        let data: CorrectionRequested;
        try {
          data = msg.json<EventEnvelope<CorrectionRequested>>().data;
          if (typeof data?.requestId !== 'string') throw new Error('not a correction task');
        } catch {
          msg.term(); // never readable: not delivered again
          continue;
        }
        try {
          await this.options.pool.query(
            `INSERT INTO ${this.options.schema ?? 'reference_holder'}.correction_tasks
               (request_id, client_id, categories, description)
             VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING`,
            [data.requestId, data.clientId, data.categories, data.description],
          );
          msg.ack();
        } catch {
          msg.nak(1000);
        }
      }
    })();
  }

  private async match(request: ClientSystemMatchRequest): Promise<ClientSystemMatchReply> {
    const { rows } = await this.options.pool.query(
      `SELECT name, phone, email, date_of_birth::text AS dob,
              (starts_at AT TIME ZONE 'America/Los_Angeles')::date::text AS visit
         FROM ${this.table} WHERE client_id = $1`,
      [request.clientId],
    );
    const digits = (v: unknown) => String(v ?? '').replace(/\D/g, '');
    const fold = (v: unknown) =>
      String(v ?? '')
        .trim()
        .toLowerCase();
    const p = request.points ?? {};
    const matched = new Set<string>();
    for (const r of rows as {
      name: string;
      phone: string;
      email: string;
      dob: string;
      visit: string;
    }[]) {
      if (p.name && r.name && fold(p.name) === fold(r.name)) matched.add('name');
      if (p.phone && r.phone && digits(p.phone) === digits(r.phone)) matched.add('phone');
      if (p.email && r.email && fold(p.email) === fold(r.email)) matched.add('email');
      if (p.dateOfBirth && r.dob === p.dateOfBirth) matched.add('dateOfBirth');
      if (p.lastVisit && r.visit === p.lastVisit) matched.add('lastVisit');
    }
    return { matched: [...matched].sort() };
  }

  private async contact(clientId: string): Promise<ClientSystemContactReply> {
    const { rows } = await this.options.pool.query(
      `SELECT email FROM ${this.table} WHERE client_id = $1 AND email IS NOT NULL
        ORDER BY starts_at DESC LIMIT 1`,
      [clientId],
    );
    const email = (rows[0] as { email?: string } | undefined)?.email;
    return email ? { email } : {};
  }

  async book(appointments: readonly Appointment[]): Promise<void> {
    await this.options.pool.query(
      `INSERT INTO ${this.table} (client_id, starts_at, name, phone, notes, date_of_birth, email)
       SELECT client_id, starts_at, name, phone, notes, date_of_birth, email
         FROM json_to_recordset($1::json) AS a(client_id text, starts_at timestamptz, name text,
              phone text, notes text, date_of_birth date, email text)`,
      [
        JSON.stringify(
          appointments.map((a) => ({
            client_id: a.clientId,
            starts_at: a.startsAt,
            name: a.name,
            phone: a.phone,
            notes: a.notes ?? null,
            date_of_birth: a.dateOfBirth ?? null,
            email: a.email ?? null,
          })),
        ),
      ],
    );
  }

  /** What it holds of these clients, as a holding system declares it. */
  async holdingsOf(clientIds: readonly string[]): Promise<Holding[]> {
    const rows = (
      await this.options.pool.query(
        `SELECT client_id, max(starts_at) AS last, bool_or(notes IS NOT NULL) AS notes,
                to_char(max(date_of_birth), 'YYYY-MM-DD') AS dob
           FROM ${this.table} WHERE client_id = ANY($1::text[])
          GROUP BY client_id ORDER BY client_id`,
        [clientIds],
      )
    ).rows as { client_id: string; last: Date; notes: boolean; dob: string | null }[];
    return rows.flatMap((r) => {
      const base = {
        clientId: r.client_id,
        clocks: { lastEncounter: r.last.toISOString() },
        ...(r.dob ? { dateOfBirth: r.dob } : {}),
      };
      return [
        { ...base, category: 'identifiers' },
        ...(r.notes ? [{ ...base, category: 'health.consultation-notes' }] : []),
      ];
    });
  }

  /** Declares (again) what it holds of these clients. */
  async declare(clientIds: readonly string[]): Promise<void> {
    const holdings = await this.holdingsOf(clientIds);
    for (let i = 0; i < holdings.length; i += DECLARE_CHUNK) {
      await this.options.client.retention.holdingsDeclare({
        system: 'booking',
        holdings: holdings.slice(i, i + DECLARE_CHUNK),
      });
    }
  }

  /**
   * Executes confirmed items on its own rows, all of one kind in one statement: identifiers
   * deleted with the appointments (or de-identified), notes removed. Up to the item's `through`
   * (what was declared), or everything for an erasure. Safe to run again.
   */
  async execute(items: PurgeItem[], command: PurgeCommand): Promise<Map<string, PurgeOutcome>> {
    void command;
    const outcomes = new Map<string, PurgeOutcome>();
    const kinds = {
      delete: items.filter((i) => isIdentifiers(i.category) && i.action !== 'de-identify'),
      deidentify: items.filter((i) => isIdentifiers(i.category) && i.action === 'de-identify'),
      notes: items.filter((i) => i.category.startsWith('health')),
    };
    const param = (list: PurgeItem[]) =>
      JSON.stringify(list.map((i) => ({ client_id: i.clientId, through: i.through ?? null })));
    const counted = async (sql: string, list: PurgeItem[], what: string) => {
      if (list.length === 0) return;
      const { rows } = await this.options.pool.query(sql, [param(list)]);
      const n = new Map<string, number>();
      for (const r of rows as { client_id: string }[])
        n.set(r.client_id, (n.get(r.client_id) ?? 0) + 1);
      for (const i of list) {
        outcomes.set(i.itemId, {
          outcome: 'done',
          detail: `${what} ${n.get(i.clientId) ?? 0} appointments`,
        });
      }
    };
    const scope = `FROM json_to_recordset($1::json) AS p(client_id text, through timestamptz)
                  WHERE a.client_id = p.client_id AND (p.through IS NULL OR a.starts_at <= p.through)`;
    // Notes first: an erasure of both removes the notes, then the appointments.
    await counted(
      `UPDATE ${this.table} a SET notes = NULL ${scope} AND a.notes IS NOT NULL
        RETURNING a.client_id`,
      kinds.notes,
      'notes removed from',
    );
    await counted(
      `UPDATE ${this.table} a SET name = NULL, phone = NULL, date_of_birth = NULL
         ${scope} RETURNING a.client_id`,
      kinds.deidentify,
      'de-identified',
    );
    await counted(
      `DELETE FROM ${this.table} a
        USING json_to_recordset($1::json) AS p(client_id text, through timestamptz)
        WHERE a.client_id = p.client_id AND (p.through IS NULL OR a.starts_at <= p.through)
        RETURNING a.client_id`,
      kinds.delete,
      'deleted',
    );
    for (const i of items) {
      if (!outcomes.has(i.itemId)) {
        outcomes.set(i.itemId, {
          outcome: 'failed',
          detail: `the booking system holds no ${i.category}`,
        });
      }
    }
    return outcomes;
  }
}

function isIdentifiers(category: string): boolean {
  return category === 'identifiers' || category.startsWith('identifiers.');
}
