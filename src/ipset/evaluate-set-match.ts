/**
 * One parsed `-m set` match of an iptables rule, evaluated with {@linkcode matchSet}: the glue a
 * rule walker (netdoctor's tracer, or the kube-router walk in netpol/) calls for `-m set`.
 * Handles `[!] --match-set NAME FLAGS` (and the old `--set` spelling), `--return-nomatch`, and
 * says undecided for the counter options, which depend on traffic the dump does not show.
 */
import type { Match } from "../model/ruleset.ts";
import type { IpsetSave } from "./ipset-model.ts";
import { matchSet, type SetEvidence, type SetPacket } from "./match-set.ts";

/** The outcome for a rule: `true`/`false`, or a reason string when undecided (the tracer's convention). */
export interface SetMatchOutcome {
  readonly value: boolean | string;
  readonly evidence: readonly SetEvidence[];
  readonly reason: string;
  readonly notes: readonly string[];
  readonly missingSet?: string;
}

const COUNTER_OPTIONS = new Set([
  "--packets-eq",
  "--packets-lt",
  "--packets-gt",
  "--bytes-eq",
  "--bytes-lt",
  "--bytes-gt",
]);

/**
 * Evaluates every `--match-set` of `match` (an xt_set match may carry one) for `packet`.
 *
 * @example
 * ```ts
 * // rule: -m set --match-set KUBE-DST-X dst -j ACCEPT
 * evaluateSetMatch(sets, rule.spec.matches[1]!, packet).value; // true | false | "ipset KUBE-DST-X is not in ..."
 * ```
 */
export function evaluateSetMatch(
  sets: IpsetSave | undefined,
  match: Match,
  packet: SetPacket,
): SetMatchOutcome {
  const returnNomatch = match.options.some((o) => o.name === "--return-nomatch");
  const counter = match.options.find((o) => COUNTER_OPTIONS.has(o.name));
  if (counter !== undefined) {
    const reason = `set option ${counter.name} depends on the member's traffic counters`;
    return { value: reason, evidence: [], reason, notes: [] };
  }
  const evidence: SetEvidence[] = [];
  const notes: string[] = [];
  const reasons: string[] = [];
  for (const o of match.options) {
    if (o.name !== "--match-set" && o.name !== "--set") continue;
    const [name, flags] = o.values;
    if (name === undefined || flags === undefined) {
      const reason = `${o.name} needs a set name and flags`;
      return { value: reason, evidence, reason, notes };
    }
    const r = matchSet(sets, name, flags, packet, { returnNomatch });
    evidence.push(...r.evidence);
    notes.push(...r.notes);
    if (r.result === "undecided") {
      return {
        value: r.reason,
        evidence,
        reason: r.reason,
        notes,
        ...(r.missingSet === undefined ? {} : { missingSet: r.missingSet }),
      };
    }
    const hit = (r.result === "match") !== o.negated;
    reasons.push(o.negated ? `not (${r.reason})` : r.reason);
    if (!hit) return { value: false, evidence, reason: reasons.join("; "), notes };
  }
  return { value: true, evidence, reason: reasons.join("; "), notes };
}
