import {
  DsgError,
  ErrorCodes,
  type SubjectReply,
  type UpsertSubjectRequest,
  ValidationFailedError,
} from '@dsg/contracts';
import { IdentifierHasher } from '@dsg/platform';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ageBand, ageOn } from './age';
import { DecisionReplicas } from '../decision/decision-replicas.service';

interface SubjectRow {
  client_id: string;
  date_of_birth: string | null;
  status: 'active' | 'inactive';
  updated_at: Date;
}

/**
 * Subjects as the spa's systems describe them. Status and date of birth may change; each change is
 * recorded with who made it (CMI-6). Identifiers are kept only as keyed hashes (IdentifierHasher).
 */
@Injectable()
export class SubjectsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: IdentifierHasher,
    private readonly replicas: DecisionReplicas,
  ) {}

  /** `changedBy` is the caller as NATS enforced it. Nothing is written if any part is refused. */
  async upsert(request: UpsertSubjectRequest, changedBy: string): Promise<SubjectReply> {
    await this.replicas.transaction(async (manager, touch) => {
      touch(request.clientId);
      await this.upsertIn(manager, request, changedBy);
    });
    return this.get(request.clientId);
  }

  /** The upsert inside a caller's transaction (a spa event's, say); the caller invalidates. */
  async upsertIn(
    manager: EntityManager,
    request: UpsertSubjectRequest,
    changedBy: string,
  ): Promise<void> {
    const [before] = (await manager.query(
      `SELECT client_id, to_char(date_of_birth, 'YYYY-MM-DD') AS date_of_birth, status
         FROM consent.subjects WHERE client_id = $1 FOR UPDATE`,
      [request.clientId],
    )) as SubjectRow[];
    const changed: string[] = [];
    if (!before) {
      await manager.query(
        `INSERT INTO consent.subjects (client_id, date_of_birth, status) VALUES ($1, $2, $3)`,
        [request.clientId, request.dateOfBirth ?? null, request.status ?? 'active'],
      );
      changed.push(
        'created',
        ...(request.dateOfBirth ? ['dateOfBirth'] : []),
        ...(request.status ? ['status'] : []),
      );
    } else {
      if (request.dateOfBirth !== undefined && request.dateOfBirth !== before.date_of_birth)
        changed.push('dateOfBirth');
      if (request.status !== undefined && request.status !== before.status) changed.push('status');
      if (changed.length > 0) {
        await manager.query(
          `UPDATE consent.subjects SET date_of_birth = COALESCE($2, date_of_birth),
                  status = COALESCE($3, status), updated_at = now() WHERE client_id = $1`,
          [request.clientId, request.dateOfBirth ?? null, request.status ?? null],
        );
      }
    }
    if (request.identifiers?.length) changed.push(...(await this.link(manager, request)));
    if (request.guardians)
      changed.push(...(await this.setGuardians(manager, request.clientId, request.guardians)));
    if (changed.length > 0) {
      await manager.query(
        'INSERT INTO consent.subject_changes (client_id, changed_by, fields) VALUES ($1, $2, $3)',
        [request.clientId, changedBy, changed],
      );
    }
  }

  async get(clientId: string, now: Date = new Date()): Promise<SubjectReply> {
    const [row] = (await this.dataSource.query(
      `SELECT client_id, to_char(date_of_birth, 'YYYY-MM-DD') AS date_of_birth, status, updated_at
         FROM consent.subjects WHERE client_id = $1`,
      [clientId],
    )) as SubjectRow[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such subject');
    const guardians = (await this.dataSource.query(
      'SELECT guardian_client_id FROM consent.guardianships WHERE minor_client_id = $1 ORDER BY 1',
      [clientId],
    )) as { guardian_client_id: string }[];
    const kinds = (await this.dataSource.query(
      'SELECT DISTINCT kind FROM consent.subject_identifiers WHERE client_id = $1 ORDER BY 1',
      [clientId],
    )) as { kind: string }[];
    // KID-3: age is computed at every answer, never stored.
    const age = row.date_of_birth ? ageOn(row.date_of_birth, now) : undefined;
    return {
      clientId: row.client_id,
      status: row.status,
      ...(row.date_of_birth ? { dateOfBirth: row.date_of_birth, age } : {}),
      ageBand: ageBand(age),
      guardians: guardians.map((g) => g.guardian_client_id),
      identifierKinds: kinds.map((k) => k.kind),
      updatedAt: row.updated_at.toISOString(),
    };
  }

  /** Finds the subject a raw identifier (e.g. a web visitor's e-mail) is linked to. */
  async findByIdentifier(
    kind: 'email' | 'phone' | 'device',
    value: string,
    manager: Pick<EntityManager, 'query'> = this.dataSource,
  ): Promise<string | undefined> {
    // Exact lookups under the current secret and, after a rotation, the previous one.
    const [row] = (await manager.query(
      'SELECT client_id FROM consent.subject_identifiers WHERE kind = $1 AND hash = ANY($2) LIMIT 1',
      [kind, this.hasher.candidates(kind, value)],
    )) as { client_id: string }[];
    return row?.client_id;
  }

  private async link(manager: EntityManager, request: UpsertSubjectRequest): Promise<string[]> {
    const linked: string[] = [];
    for (const identifier of request.identifiers ?? []) {
      const owner = await this.findByIdentifier(identifier.kind, identifier.value, manager);
      if (owner === request.clientId) continue;
      if (owner !== undefined) {
        throw new DsgError(
          ErrorCodes.IDENTIFIER_IN_USE,
          `The ${identifier.kind} is linked to another subject`,
        );
      }
      // A concurrent link of the same identifier loses on the primary key and rolls back whole.
      await manager.query(
        'INSERT INTO consent.subject_identifiers (kind, hash, client_id) VALUES ($1, $2, $3)',
        [identifier.kind, this.hasher.hash(identifier.kind, identifier.value), request.clientId],
      );
      linked.push(`identifier:${identifier.kind}`);
    }
    return linked;
  }

  private async setGuardians(
    manager: EntityManager,
    clientId: string,
    guardians: string[],
  ): Promise<string[]> {
    const unique = [...new Set(guardians)];
    if (unique.includes(clientId)) {
      throw new ValidationFailedError([
        {
          field: 'guardians',
          constraint: 'notSelf',
          message: 'a subject cannot be its own guardian',
        },
      ]);
    }
    const known = (await manager.query(
      'SELECT client_id FROM consent.subjects WHERE client_id = ANY($1)',
      [unique],
    )) as {
      client_id: string;
    }[];
    const missing = unique.filter((g) => !known.some((k) => k.client_id === g));
    if (missing.length > 0) {
      throw new ValidationFailedError([
        {
          field: 'guardians',
          constraint: 'knownSubject',
          message: 'every guardian must be a known subject',
        },
      ]);
    }
    const current = (await manager.query(
      'SELECT guardian_client_id FROM consent.guardianships WHERE minor_client_id = $1',
      [clientId],
    )) as { guardian_client_id: string }[];
    const same =
      current.length === unique.length &&
      current.every((c) => unique.includes(c.guardian_client_id));
    if (same) return [];
    await manager.query('DELETE FROM consent.guardianships WHERE minor_client_id = $1', [clientId]);
    for (const guardian of unique) {
      await manager.query(
        'INSERT INTO consent.guardianships (minor_client_id, guardian_client_id) VALUES ($1, $2)',
        [clientId, guardian],
      );
    }
    return ['guardians'];
  }
}
