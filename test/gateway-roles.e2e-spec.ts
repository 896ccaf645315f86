import { ROLES } from '@dsg/contracts';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MATRIX_END, MATRIX_START, roleMatrixMarkdown } from '../apps/gateway/src/api/role-matrix';
import { ROUTES } from '../apps/gateway/src/api/route-table';
import { GatewayStack, type Person } from './support/gateway-stack';

/**
 * The role matrix (POL-7: only authorised personnel reach personal data), walked whole: every
 * route of the gateway's table, as every role, as a person with no product role and with no
 * token at all. A role the table does not list is refused (403, problem+json) before anything
 * reaches a service; a role it lists is never refused for its role, by the gateway or by the
 * service behind it. The README's matrix and the OpenAPI document say exactly what the table says.
 */
describe('gateway: the role matrix (POL-7)', () => {
  let stack: GatewayStack;
  const tokens = new Map<Person, string>();
  const people: Person[] = [...ROLES, 'nobody'];

  /**
   * A path with every parameter filled by a value that names nothing, but a real service where
   * the path names one: the probe then reaches that service's own role check (key rotation).
   */
  const probePath = (path: string) =>
    path.replace(':service', 'retention').replace(/:[A-Za-z]+/g, 'matrix-probe');

  beforeAll(async () => {
    stack = await GatewayStack.start();
    for (const person of people) tokens.set(person, await stack.token(person));
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('refuses every route without a token (401, problem+json)', async () => {
    for (const route of ROUTES) {
      const res = await stack.http(route.method, probePath(route.path), {
        ...(route.method === 'GET' ? {} : { body: {} }),
      });
      expect({ route: route.id, status: res.status, code: res.body?.code }).toEqual({
        route: route.id,
        status: 401,
        code: 'REQUEST.UNAUTHENTICATED',
      });
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
  });

  it('lets each role use exactly the routes the table gives it, and refuses the rest (403)', async () => {
    const seen: string[] = [];
    for (const route of ROUTES) {
      for (const person of people) {
        const allowed = person !== 'nobody' && route.roles.includes(person);
        const res = await stack.http(route.method, probePath(route.path), {
          token: tokens.get(person),
          ...(route.method === 'GET' ? {} : { body: {} }),
          headers: { 'Idempotency-Key': randomUUID() },
        });
        const outcome = { route: route.id, person, status: res.status };
        if (allowed) {
          // Whatever the service makes of the probe (400, 404, 200 …), never a refusal of the
          // person: not by the gateway, not by the service's own role check.
          expect([401, 403]).not.toContain(res.status);
          seen.push(`${route.id}:${person}:${res.status}`);
        } else {
          expect(outcome).toEqual({ ...outcome, status: 403 });
          expect(res.body).toMatchObject({
            code: 'REQUEST.FORBIDDEN',
            status: 403,
            type: 'urn:dsg:problem:request.forbidden',
          });
          expect(res.body.detail).toContain(route.roles.join(' or '));
        }
      }
    }
    // Every route was reached by at least one role it allows.
    expect(new Set(seen.map((s) => s.split(':')[0])).size).toBe(ROUTES.length);
  }, 120_000);

  it('answers a path outside the table 404 and a method it does not list 405, as problem+json', async () => {
    const token = tokens.get('auditor');
    const missing = await stack.http('GET', '/v1/nothing-here', { token });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('REQUEST.NOT_FOUND');
    const method = await stack.http('DELETE', '/v1/register/entries', { token });
    expect(method.status).toBe(405);
    expect(method.body.code).toBe('REQUEST.METHOD_NOT_ALLOWED');
    expect(method.headers.get('allow')).toBe('GET');
  });

  it('the README shows the matrix the gateway enforces (npm run docs writes it)', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const start = readme.indexOf(MATRIX_START);
    const end = readme.indexOf(MATRIX_END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    // Prettier pads the table's cells; compare cell by cell.
    const cells = (table: string) =>
      table
        .split('\n')
        .filter((line) => line.startsWith('|') && !/^\|[\s:|-]+\|$/.test(line))
        .map((line) =>
          line
            .split('|')
            .slice(1, -1)
            .map((c) => c.trim()),
        );
    expect(cells(readme.slice(start, end + MATRIX_END.length))).toEqual(
      cells(roleMatrixMarkdown()),
    );
    expect(cells(roleMatrixMarkdown())).toHaveLength(ROUTES.length + 1);
  });

  it('documents every route at /docs-json with its roles and problem+json errors', async () => {
    const res = await stack.http('GET', '/docs-json');
    expect(res.status).toBe(200);
    const doc = res.body as {
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            description: string;
            responses: Record<number, { content: Record<string, unknown> }>;
          }
        >
      >;
    };
    for (const route of ROUTES) {
      const op =
        doc.paths[route.path.replace(/:([A-Za-z]+)/g, '{$1}')]?.[route.method.toLowerCase()];
      expect({ route: route.id, documented: op?.operationId }).toEqual({
        route: route.id,
        documented: route.id,
      });
      expect(op.description).toContain(`Roles: ${route.roles.join(', ')}.`);
      expect(op.responses[403].content['application/problem+json']).toBeDefined();
    }
    const ui = await fetch(stack.gateway.url('/docs'));
    expect(ui.status).toBe(200);
  });
});
