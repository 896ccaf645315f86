import { ROLES, Rpc } from '@dsg/contracts';
import { RateLimiter } from '../http/rate-limiter';
import { RequestInput } from './request-input';
import { RouteMatcher } from './route-matcher';
import { ROUTES } from './route-table';

describe('the route table', () => {
  it('has unique ids and unique method + path pairs, and every route names a known role', () => {
    expect(new Set(ROUTES.map((r) => r.id)).size).toBe(ROUTES.length);
    expect(new Set(ROUTES.map((r) => `${r.method} ${r.path}`)).size).toBe(ROUTES.length);
    for (const route of ROUTES) {
      expect(route.roles.length).toBeGreaterThan(0);
      for (const role of route.roles) expect(ROLES).toContain(role);
    }
  });

  it('gives auditors no route that changes anything (read-only role)', () => {
    const writes = ROUTES.filter((r) => r.method !== 'GET' && r.roles.includes('auditor'));
    expect(writes.map((r) => r.id)).toEqual([]);
  });

  it('audits every route that reads register entries, accountings, reports or exports (POL-7)', () => {
    const reading = ROUTES.filter((r) =>
      [
        Rpc['disclosure-register'].entriesQuery,
        Rpc['disclosure-register'].accountingGet,
        Rpc['disclosure-register'].accountingList,
        Rpc['disclosure-register'].accountingPdf,
        Rpc['disclosure-register'].accountingProduce,
        Rpc.consent.rightsReport,
        Rpc.consent.requestLogExport,
      ].includes(r.rpc?.op as never),
    );
    expect(reading).toHaveLength(7);
    for (const route of [...reading, ROUTES.find((r) => r.id === 'register.export')!]) {
      expect({ id: route.id, audited: Boolean(route.audited) }).toEqual({
        id: route.id,
        audited: true,
      });
    }
  });
});

describe(RouteMatcher.name, () => {
  const matcher = new RouteMatcher(ROUTES);

  it('finds a route and decodes its parameters', () => {
    const { route, params } = matcher.match('POST', '/v1/legal-requests/abc%2D1/decision');
    expect(route.id).toBe('legal-requests.decide');
    expect(params).toEqual({ requestId: 'abc-1' });
    expect(matcher.match('GET', '/v1/register/entries/').route.id).toBe('register.entries');
  });

  it('answers 404 for an unknown path and 415 for a method the path does not take', () => {
    expect(() => matcher.match('GET', '/v1/nothing')).toThrow(
      expect.objectContaining({ code: 'REQUEST.NOT_FOUND' }),
    );
    expect(() => matcher.match('DELETE', '/v1/holds')).toThrow(
      expect.objectContaining({ code: 'REQUEST.UNSUPPORTED' }),
    );
    expect(() => matcher.match('GET', '/v1/holds/a%ZZ')).toThrow(
      expect.objectContaining({ code: 'REQUEST.MALFORMED' }),
    );
  });
});

describe(RequestInput.name, () => {
  const input = new RequestInput(ROUTES);
  const route = (id: string) => ROUTES.find((r) => r.id === id)!;

  it('reads query strings as the request schema types them, and the filter members into filter', () => {
    expect(
      input.of(
        route('register.entries'),
        {},
        { limit: '5', after: 'x', recipientId: 'cherry', decision: 'DENY' },
        undefined,
      ),
    ).toEqual({ limit: 5, after: 'x', filter: { recipientId: 'cherry', decision: 'DENY' } });
    expect(input.of(route('holds.list'), {}, { activeOnly: 'true' }, undefined)).toEqual({
      activeOnly: true,
    });
  });

  it('merges path parameters into a body, and refuses a body that disagrees or is not an object', () => {
    expect(
      input.of(route('holds.release'), { holdId: 'h1' }, {}, { reason: 'case closed' }),
    ).toEqual({ holdId: 'h1', reason: 'case closed' });
    expect(() =>
      input.of(route('holds.release'), { holdId: 'h1' }, {}, { holdId: 'h2', reason: 'r' }),
    ).toThrow(expect.objectContaining({ code: 'REQUEST.VALIDATION_FAILED' }));
    expect(() => input.of(route('holds.place'), {}, {}, [1, 2])).toThrow(
      expect.objectContaining({ code: 'REQUEST.MALFORMED' }),
    );
  });
});

describe(RateLimiter.name, () => {
  it('allows the rate, refuses beyond it with the seconds to wait, and refills with time', () => {
    const limiter = new RateLimiter(2);
    const t = 1_000_000;
    limiter.take('a', t);
    limiter.take('a', t);
    expect(() => limiter.take('a', t)).toThrow(
      expect.objectContaining({ code: 'REQUEST.RATE_LIMITED', retryAfterSeconds: 30 }),
    );
    limiter.take('b', t);
    limiter.take('a', t + 30_000);
  });
});
