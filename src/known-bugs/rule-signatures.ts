import type { DumpHandler, RuleLine } from "../parse/dump-reader.ts";

/** Names of rule-text signatures of known bugs (see known-bugs-catalogue.ts). */
export type SignatureId =
  | "cni-hostport-masq-markless"
  | "unsupported-revision"
  | "kube-firewall-markless-drop";

/** A rule line that matches a known-bug signature. */
export interface SignatureHit {
  readonly id: SignatureId;
  readonly line: number;
  readonly text: string;
}

/** Hits kept per signature: enough evidence, bounded memory on a broken million-rule dump. */
const MAX_HITS = 5;

/**
 * Watches rule lines streaming through a {@linkcode DumpReader} for the text signatures of known
 * bugs (version-skew corruption, KB-08). Compose with a scanner via `composeHandlers`.
 *
 * @example
 * ```ts
 * const sig = new RuleSignatureScanner();
 * const reader = new DumpReader(composeHandlers(scanner.handler, sig.handler));
 * ```
 */
export class RuleSignatureScanner {
  readonly hits: SignatureHit[] = [];
  readonly #counts = new Map<SignatureId, number>();

  readonly handler: DumpHandler = {
    rule: (rule: RuleLine) => {
      const text = rule.text;
      // Cheap first-character filters keep this off the hot path of a leaked dump.
      if (text.charCodeAt(3) === 67 /* C */ && text === "-A CNI-HOSTPORT-MASQ -j MASQUERADE") {
        this.#hit("cni-hostport-masq-markless", rule);
      } else if (
        rule.chain === "KUBE-FIREWALL" &&
        text.includes("kubernetes firewall for dropping marked packets") &&
        !text.includes("--mark") &&
        text.endsWith("-j DROP")
      ) {
        this.#hit("kube-firewall-markless-drop", rule);
      }
      if (text.includes("[unsupported revision]")) this.#hit("unsupported-revision", rule);
    },
  };

  #hit(id: SignatureId, rule: RuleLine): void {
    const n = this.#counts.get(id) ?? 0;
    this.#counts.set(id, n + 1);
    if (n < MAX_HITS) this.hits.push({ id, line: rule.line, text: rule.text });
  }
}
