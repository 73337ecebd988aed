/**
 * metav1.LabelSelector semantics (k8s.io/apimachinery labels.Selector): every `matchLabels` pair
 * and every `matchExpressions` requirement must hold; an empty selector selects everything.
 * `In` needs the key with one of the values, `NotIn` holds when the key is absent or has none of
 * them, `Exists` / `DoesNotExist` test the key only.
 */
import type { LabelSelector, LabelSelectorRequirement } from "../model/network-policy.ts";

function requirementHolds(r: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key];
  switch (r.operator) {
    case "In":
      return has && (r.values ?? []).includes(value!);
    case "NotIn":
      return !has || !(r.values ?? []).includes(value!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    default: {
      const never: never = r.operator;
      throw new TypeError(`Unknown selector operator ${String(never)}`);
    }
  }
}

/**
 * Whether `labels` satisfy `selector`.
 *
 * @example
 * ```ts
 * selectorMatches({ matchExpressions: [{ key: "pod", operator: "NotIn", values: ["a"] }] }, {}); // true
 * ```
 */
export function selectorMatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(l, k) || l[k] !== v) return false;
  }
  return (selector.matchExpressions ?? []).every((r) => requirementHolds(r, l));
}

/** The label keys a selector reads. */
export function selectorKeys(selector: LabelSelector): string[] {
  return [...Object.keys(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).map((r) => r.key)];
}

/** `{}` (or absent parts only): selects every object. */
export function selectsAll(selector: LabelSelector): boolean {
  return selectorKeys(selector).length === 0;
}

/** A short text form for messages: `app=web,tier in (a,b)` or `{}`. */
export function selectorText(selector: LabelSelector): string {
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(selector.matchExpressions ?? []).map((r) => {
      switch (r.operator) {
        case "In":
          return `${r.key} in (${(r.values ?? []).join(",")})`;
        case "NotIn":
          return `${r.key} notin (${(r.values ?? []).join(",")})`;
        case "Exists":
          return r.key;
        case "DoesNotExist":
          return `!${r.key}`;
        default:
          return r.key;
      }
    }),
  ];
  return parts.length === 0 ? "{}" : parts.join(",");
}
