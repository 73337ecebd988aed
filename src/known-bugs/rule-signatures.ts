import { REPEAT_WINDOW, type RuleBlock } from "../parse/dump-handler.ts";
import type { DumpHandler, RuleView } from "../parse/dump-reader.ts";

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
  /** Rules read so far, and what each of the last ones matched (by number, mod REPEAT_WINDOW). */
  #rules = 0;
  readonly #recent: (RecentHit | undefined)[] = new Array(REPEAT_WINDOW).fill(undefined);
  readonly #blockHits: (RecentHit | undefined)[] = new Array(REPEAT_WINDOW).fill(undefined);

  readonly handler: DumpHandler = {
    table: () => this.#lastHit.clear(),
    ruleView: (view: RuleView) => {
      this.#recent[this.#rules++ & (REPEAT_WINDOW - 1)] = this.#rule(view);
    },
    repeatRules: (block) => this.#repeat(block),
  };

  /** The hits of one rule, if any. */
  #rule(view: RuleView): RecentHit | undefined {
    let id: SignatureId | undefined;
    if (view.repeat) {
      // The text of its chain's previous rule (a leak's copy): that rule's verdict, not looked at again.
      id = this.#lastHit.size === 0 ? undefined : this.#lastHit.get(view.chainId);
    } else {
      id = textSignature(view);
      if (id !== undefined) this.#lastHit.set(view.chainId, id);
      else if (this.#lastHit.size > 0) this.#lastHit.delete(view.chainId);
    }
    const unsupported = this.#unsupportedIn(view);
    if (id === undefined && !unsupported) return undefined;
    const hit = { id, unsupported, text: view.text };
    this.#hits(hit, view.line);
    return hit;
  }

  /** The copies of a repeated block (see {@linkcode DumpHandler.repeatRules}): each copy of a rule that matched, matches. */
  #repeat(b: RuleBlock): void {
    const k = b.rules;
    const mask = REPEAT_WINDOW - 1;
    const before = this.#rules;
    this.#rules += k * b.times;
    // The block's hits, read before the window is written (k * times may wrap onto them), into an
    // array of its own (reused: a leak's block comes back after every line that breaks it).
    const hits = this.#blockHits;
    for (let j = 0; j < k; j++) hits[j] = this.#recent[(before - k + j) & mask];
    for (let j = 0; j < k; j++) {
      const hit = hits[j];
      this.#recent[(this.#rules - k + j) & mask] = hit;
      const chain = b.chains[j]!;
      if (hit?.id !== undefined) this.#lastHit.set(chain, hit.id);
      else if (this.#lastHit.size > 0) this.#lastHit.delete(chain);
    }
    // In reading order, copy by copy, while a signature keeps fewer than MAX_HITS.
    for (let r = 0; r < Math.min(b.times, MAX_HITS); r++) {
      for (let j = 0; j < k; j++) {
        const hit = hits[j];
        if (hit !== undefined) this.#hits(hit, b.firstLine + r * k + j);
      }
    }
  }

  /** The evidence of a rule's hits at `line`. */
  #hits(hit: RecentHit, line: number): void {
    if (hit.id !== undefined) this.#hit(hit.id, line, hit.text);
    if (hit.unsupported) this.#hit("unsupported-revision", line, hit.text);
  }

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

  /** Keeps the match of `id` at `line` while fewer than MAX_HITS are kept. */
  #hit(id: SignatureId, line: number, text: string): void {
    const n = this.#counts.get(id) ?? 0;
    if (n >= MAX_HITS) return;
    this.#counts.set(id, n + 1);
    this.hits.push({ id, line, text });
  }
}

/** What a rule matched: a text signature, UNSUPPORTED, and its text for the evidence of its copies. */
interface RecentHit {
  readonly id: SignatureId | undefined;
  readonly unsupported: boolean;
  readonly text: string;
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
