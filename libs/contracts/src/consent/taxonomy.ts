/**
 * Data categories are dot paths matched segment by segment: a rule on `health` covers
 * `health.medications`, and a request for `health` is a request for every category under it.
 * `health-records` is not under `health` (segments, not string prefixes).
 */
export function covers(rule: string, requested: string): boolean {
  // The same as comparing the split segments, without allocating them (a decision's hot path).
  return (
    requested === rule ||
    (requested.length > rule.length &&
      requested.charCodeAt(rule.length) === DOT &&
      requested.startsWith(rule))
  );
}

const DOT = '.'.charCodeAt(0);

/** The requested path and every known path beneath it; empty when the path is unknown. */
export function expand(requested: string, known: readonly string[]): string[] {
  if (!known.includes(requested)) return [];
  return known.filter((path) => covers(requested, path));
}

/** Leaf categories a request touches: what minimum-necessary checks compare (HIP-4). */
export function leaves(requested: string, known: readonly string[]): string[] {
  const all = expand(requested, known);
  return all.filter((path) => !all.some((other) => other !== path && covers(path, other)));
}

/** A category tree as in the policy bundle. */
export interface CategoryTree {
  id: string;
  children?: CategoryTree[];
}

/** Every category of a tree as a dot path, parents before children. */
export function categoryPaths(nodes: readonly CategoryTree[], prefix = ''): string[] {
  return nodes.flatMap((node) => {
    const path = prefix ? `${prefix}.${node.id}` : node.id;
    return [path, ...categoryPaths(node.children ?? [], path)];
  });
}
