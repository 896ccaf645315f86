import { ROLES, Rpc } from '@dsg/contracts';
import { addressKey } from '../http/hardening';
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

  it('audits every read but those that return nothing of any subject, which say why (POL-7)', () => {
    for (const route of ROUTES.filter((r) => r.method === 'GET')) {
      expect({
        id: route.id,
        audited: Boolean(route.audited) !== Boolean(route.unaudited),
      }).toEqual({ id: route.id, audited: true });
    }
    // The reads of register entries, accountings, reports and exports are among the audited.
    const audited = new Set(ROUTES.filter((r) => r.audited).map((r) => r.rpc?.op));
    for (const op of [
      Rpc['disclosure-register'].entriesQuery,
      Rpc['disclosure-register'].exportManifest,
      Rpc['disclosure-register'].accountingGet,
      Rpc['disclosure-register'].accountingList,
      Rpc['disclosure-register'].accountingPdf,
      Rpc['disclosure-register'].accountingProduce,
      Rpc['disclosure-register'].legalRequestGet,
      Rpc.consent.rightsReport,
      Rpc.consent.requestLogExport,
    ]) {
      expect({ op: op.subject, audited: audited.has(op as never) }).toEqual({
        op: op.subject,
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

  it('answers 404 for an unknown path and 405 (with Allow) for a method the path does not take', () => {
    expect(() => matcher.match('GET', '/v1/nothing')).toThrow(
      expect.objectContaining({ code: 'REQUEST.NOT_FOUND' }),
    );
    const headers: Record<string, string> = {};
    expect(() =>
      matcher.match('DELETE', '/v1/holds', { setHeader: (k, v) => (headers[k] = v) }),
    ).toThrow(expect.objectContaining({ code: 'REQUEST.METHOD_NOT_ALLOWED' }));
    expect(headers).toEqual({ Allow: 'GET, POST' });
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
    const form = {
      headers: { 'content-length': '9', 'content-type': 'application/x-www-form-urlencoded' },
      is: (type: string) => (type === 'application/json' ? false : type),
    };
    expect(() => input.of(route('holds.place'), {}, {}, { a: '1' }, form as never)).toThrow(
      expect.objectContaining({ code: 'REQUEST.UNSUPPORTED' }),
    );
  });

  it('refuses query members that would reach the prototype', () => {
    expect(() =>
      input.of(
        route('holds.list'),
        {},
        { ['__proto__']: 'x' } as Record<string, unknown>,
        undefined,
      ),
    ).toThrow(expect.objectContaining({ code: 'REQUEST.VALIDATION_FAILED' }));
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

describe(addressKey.name, () => {
  it('counts an IPv6 client by its /64, and an IPv4 one (mapped or not) by its address', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('10.1.2.3')).toBe('10.1.2.3');
  });

  it('keeps at most the configured number of buckets, forgetting the least recently used', () => {
    const limiter = new RateLimiter(1, 2);
    limiter.take('a', 0);
    limiter.take('b', 0);
    limiter.take('c', 0);
    // 'a' was forgotten: its bucket is full again; 'c' is remembered and empty.
    limiter.take('a', 0);
    expect(() => limiter.take('a', 0)).toThrow(
      expect.objectContaining({ code: 'REQUEST.RATE_LIMITED' }),
    );
  });
});
