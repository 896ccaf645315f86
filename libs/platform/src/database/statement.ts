/** A SQL statement and its parameters, numbered from $1. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * Several data-modifying statements as one (`WITH s0 AS (…), s1 AS (…) last`), their parameters
 * renumbered: one round trip instead of one each, where a request's latency is the number of
 * round trips it waits for. They run on one snapshot and see none of each other's rows, so they
 * must not read what a sibling writes; constraints (foreign keys too) are checked at the end, on
 * every row. The statements' text must not hold `$n` other than their parameters.
 */
export function combineStatements(statements: readonly Statement[]): Statement {
  if (statements.length === 0) throw new Error('no statement to combine');
  const params: unknown[] = [];
  const parts = statements.map(({ sql, params: own }) => {
    const offset = params.length;
    params.push(...own);
    return sql.replace(/\$(\d+)/g, (_, n: string) => {
      const index = Number(n);
      if (index < 1 || index > own.length) throw new Error(`$${n} has no parameter`);
      return `$${index + offset}`;
    });
  });
  const last = parts.pop()!;
  const withs = parts.map((sql, i) => `s${i} AS (${sql})`);
  return { sql: withs.length ? `WITH ${withs.join(', ')} ${last}` : last, params };
}
