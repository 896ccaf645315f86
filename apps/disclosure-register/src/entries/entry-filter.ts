import { type ExportFilter, unrealTimestamps, ValidationFailedError } from '@dsg/contracts';

/** Whether any field of the filter narrows. */
export function isFiltered(filter: ExportFilter | undefined): filter is ExportFilter {
  return !!filter && Object.values(filter).some((v) => v !== undefined);
}

/**
 * The filter as SQL conditions on disclosure_register.entries (each AND-ed) with parameters
 * numbered from `first`. The period, recipient and subject have indexes (migration
 * 1765900000000: the recipient and subject through columns the append fills, each confirmed
 * here against the leaf or the details); purpose and decision narrow what those find. A period bound that names no real moment (2026-02-30) is refused
 * here, before the database would fail on it.
 */
export function filterSql(
  filter: ExportFilter | undefined,
  first: number,
): { sql: string; params: unknown[] } {
  const unreal = filter ? unrealTimestamps(filter, ['recordedFrom', 'recordedTo'], 'filter') : [];
  if (unreal.length) throw new ValidationFailedError(unreal);
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (condition: string, value: unknown) => {
    params.push(value);
    conditions.push(condition.replace('?', `$${first + params.length - 1}`));
  };
  if (filter?.recordedFrom) add('recorded_at >= ?::timestamptz', filter.recordedFrom);
  if (filter?.recordedTo) add('recorded_at < ?::timestamptz', filter.recordedTo);
  // The indexed column finds the entries; the leaf (what is hashed) confirms each.
  if (filter?.recipientId) {
    add('recipient_id = ?', filter.recipientId);
    add(`(leaf::json->'recipient'->>'id') = ?`, filter.recipientId);
  }
  if (filter?.purpose) add(`(leaf::json->>'purpose') = ?`, filter.purpose);
  if (filter?.decision) add(`(leaf::json->>'decision') = ?`, filter.decision);
  if (filter?.clientId) {
    add('client_id = ?', filter.clientId);
    // Redacted details (NULL) leave the column as the only record of whose entry it was.
    add(`(details IS NULL OR (details->>'clientId') = ?)`, filter.clientId);
  }
  return { sql: conditions.map((c) => ` AND ${c}`).join(''), params };
}
