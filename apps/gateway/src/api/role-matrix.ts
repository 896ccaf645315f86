import { ROLES } from '@dsg/contracts';
import { type RouteDef, ROUTES } from './route-table';

export const MATRIX_START =
  '<!-- role-matrix:start (npm run docs writes this from apps/gateway/src/api/route-table.ts) -->';
export const MATRIX_END = '<!-- role-matrix:end -->';

/**
 * The role matrix as the README shows it: one row per route, a ✓ under each role that may use
 * it, and whether its accesses are written to the access log (POL-7). Written from the route
 * table, so the README cannot say something the gateway does not do (a test compares them).
 */
export function roleMatrixMarkdown(routes: readonly RouteDef[] = ROUTES): string {
  const header = `| Method | Path | ${ROLES.join(' | ')} | Access log |`;
  const rule = `| --- | --- | ${ROLES.map(() => ':---:').join(' | ')} | :---: |`;
  const rows = routes.map(
    (r) =>
      `| ${r.method} | \`${r.path}\` | ${ROLES.map((role) => (r.roles.includes(role) ? '✓' : '')).join(' | ')} | ${r.audited ? '✓' : ''} |`,
  );
  return [MATRIX_START, header, rule, ...rows, MATRIX_END].join('\n');
}
