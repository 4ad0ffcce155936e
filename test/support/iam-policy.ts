/**
 * A small model of IAM policy evaluation for one principal's identity policies, enough to check what grants
 * allow (IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements: Resource"):
 * - an explicit Deny in any statement wins; otherwise any Allow allows; otherwise the request is implicitly denied;
 * - in `Action` and `Resource`, `*` matches any run of characters (including none, and including `/` and `:`)
 *   and `?` exactly one character; everything else matches literally;
 * - actions compare case-insensitively, resource ARNs case-sensitively.
 * Conditions, NotAction/NotResource, principals and permission boundaries are out of scope: a statement that
 * uses them makes {@link evaluate} throw rather than guess.
 */
export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly [other: string]: unknown;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** IAM's wildcard match of a whole string: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  // Iterative glob match with backtracking to the last `*` (linear in practice, no regex escaping pitfalls).
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** The decision for one request (`action` on `resource`) under the given statements. */
export function evaluate(statements: readonly PolicyStatement[], action: string, resource: string): Decision {
  let allowed = false;
  for (const statement of statements) {
    for (const key of Object.keys(statement)) {
      if (!['Effect', 'Action', 'Resource', 'Sid'].includes(key)) {
        throw new Error(`the policy model does not evaluate ${key} (statement ${JSON.stringify(statement)})`);
      }
    }
    const actions = ([] as string[]).concat(statement.Action);
    const resources = ([] as string[]).concat(statement.Resource);
    const applies =
      actions.some((a) => wildcardMatch(a, action, true)) && resources.some((r) => wildcardMatch(r, resource));
    if (!applies) continue;
    if (statement.Effect === 'Deny') return 'explicit-deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}
