import type { DumpHandler, RuleLine, RuleView } from "../parse/dump-reader.ts";

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
  /** The chunk searched for UNSUPPORTED, and where the next match in it is (Infinity: none). */
  #chunk = -1;
  #next = Number.POSITIVE_INFINITY;

  /** Chains of the table being read (by position) whose last rule matched a text signature, and which. */
  readonly #lastHit = new Map<number, SignatureId>();

  readonly handler: DumpHandler = {
    table: () => this.#lastHit.clear(),
    ruleView: (view: RuleView) => {
      if (view.repeat) {
        // The text of its chain's previous rule (a leak's copy): that rule's verdict, not looked at again.
        const id = this.#lastHit.size === 0 ? undefined : this.#lastHit.get(view.chainId);
        if (id !== undefined) this.#hit(id, view);
      } else {
        const id = textSignature(view);
        if (id !== undefined) {
          this.#lastHit.set(view.chainId, id);
          this.#hit(id, view);
        } else if (this.#lastHit.size > 0) {
          this.#lastHit.delete(view.chainId);
        }
      }
      if (this.#unsupportedIn(view)) this.#hit("unsupported-revision", view);
    },
  };

  /**
   * Whether the rule holds UNSUPPORTED. Each chunk of the dump is searched once, jumping from one
   * `[` to the next (memchr speed), instead of every rule on its own.
   */
  #unsupportedIn(view: RuleView): boolean {
    if (view.chunk !== this.#chunk || this.#next < view.start) {
      this.#chunk = view.chunk;
      this.#next = find(view.bytes, view.start, UNSUPPORTED);
    }
    return this.#next + UNSUPPORTED.length <= view.end;
  }

  #hit(id: SignatureId, rule: RuleLine | RuleView): void {
    const n = this.#counts.get(id) ?? 0;
    this.#counts.set(id, n + 1);
    if (n < MAX_HITS) this.hits.push({ id, line: rule.line, text: rule.text });
  }
}

const CNI_MASQ = "-A CNI-HOSTPORT-MASQ -j MASQUERADE";

/**
 * The signature a rule's own text matches, if any. Cheap byte checks keep this off the hot path of a
 * million-rule dump: a rule's text is made only when it matches.
 */
function textSignature(view: RuleView): SignatureId | undefined {
  if (view.end - view.start === CNI_MASQ.length && view.startsWith(CNI_MASQ)) {
    return "cni-hostport-masq-markless";
  }
  if (
    view.startsWith("-A KUBE-FIREWALL ") &&
    view.endsWith("-j DROP") &&
    view.includes("kubernetes firewall for dropping marked packets") &&
    !view.includes("--mark")
  ) {
    return "kube-firewall-markless-drop";
  }
  return undefined;
}
/** What iptables prints for a match or target revision it does not know (version skew). */
const UNSUPPORTED = "[unsupported revision]";

/** Position of the ASCII `pattern` (which starts with `[`) in `bytes` at or after `from`; Infinity if absent. */
function find(bytes: Uint8Array, from: number, pattern: string): number {
  for (let i = bytes.indexOf(91, from); i >= 0; i = bytes.indexOf(91, i + 1)) {
    let k = 1;
    while (k < pattern.length && bytes[i + k] === pattern.charCodeAt(k)) k++;
    if (k === pattern.length) return i;
  }
  return Number.POSITIVE_INFINITY;
}
