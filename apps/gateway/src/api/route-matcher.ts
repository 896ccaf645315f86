import { DsgError, ErrorCodes } from '@dsg/contracts';
import type { RouteDef } from './route-table';

interface CompiledRoute {
  route: RouteDef;
  pattern: RegExp;
  params: string[];
}

/** Path parameters are identifiers: a segment of printable characters other than `/`. */
const SEGMENT = "([A-Za-z0-9._~:@!$&'()*+,;=%-]{1,200})";

/**
 * Finds the route of a method and path in the table: 404 when no route has the path, 405 (with
 * the Allow header) when routes have it but not for this method. Parameters are percent-decoded.
 */
export class RouteMatcher {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly RouteDef[]) {
    this.compiled = routes.map((route) => {
      const params: string[] = [];
      const source = route.path
        .split('/')
        .map((part) => {
          if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          params.push(part.slice(1));
          return SEGMENT;
        })
        .join('/');
      return { route, pattern: new RegExp(`^${source}/?$`), params };
    });
  }

  match(
    method: string,
    path: string,
    res?: { setHeader(name: string, value: string): unknown },
  ): { route: RouteDef; params: Record<string, string> } {
    const allowed: string[] = [];
    for (const { route, pattern, params } of this.compiled) {
      const found = pattern.exec(path);
      if (!found) continue;
      allowed.push(route.method);
      if (route.method !== method) continue;
      const values: Record<string, string> = {};
      params.forEach((name, i) => {
        try {
          values[name] = decodeURIComponent(found[i + 1]);
        } catch {
          throw new DsgError(ErrorCodes.MALFORMED, `The path parameter ${name} is not valid`);
        }
      });
      return { route, params: values };
    }
    if (allowed.length > 0) {
      res?.setHeader('Allow', allowed.join(', '));
      throw new DsgError(
        ErrorCodes.METHOD_NOT_ALLOWED,
        `This path takes ${allowed.join(' or ')}, not ${method}`,
      );
    }
    throw new DsgError(ErrorCodes.NOT_FOUND, 'No such resource');
  }
}
