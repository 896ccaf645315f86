import { combineStatements } from './statement';

describe('combineStatements', () => {
  it('joins statements as CTEs and renumbers their parameters in order', () => {
    const combined = combineStatements([
      { sql: 'INSERT INTO a SELECT * FROM unnest($1::int[], $2::text[])', params: [[1], ['x']] },
      { sql: 'INSERT INTO b VALUES ($1, $1)', params: [7] },
      { sql: 'INSERT INTO c VALUES ($2, $1)', params: ['p', 'q'] },
    ]);
    expect(combined.sql).toBe(
      'WITH s0 AS (INSERT INTO a SELECT * FROM unnest($1::int[], $2::text[])), ' +
        's1 AS (INSERT INTO b VALUES ($3, $3)) INSERT INTO c VALUES ($5, $4)',
    );
    expect(combined.params).toEqual([[1], ['x'], 7, 'p', 'q']);
  });

  it('leaves one statement as it is, and refuses a placeholder without its parameter', () => {
    expect(combineStatements([{ sql: 'SELECT $1', params: [1] }])).toEqual({
      sql: 'SELECT $1',
      params: [1],
    });
    expect(() => combineStatements([{ sql: 'SELECT $2', params: [1] }])).toThrow('$2');
  });
});
