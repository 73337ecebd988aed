import type { Counters, TableName } from "../model/ruleset.ts";
import type { ChainIndex } from "./chain-index.ts";
import type { ChainDeclaration } from "./dump-reader.ts";

const ZERO: Counters = { packets: "0", bytes: "0" };

/**
 * One chain declaration as the reader hands it to a {@linkcode DumpHandler}'s `chainView`: the name
 * becomes a string only when asked (a node declares hundreds of thousands of chains), and the table's
 * {@linkcode ChainIndex} is there to find chains by name later. The reader reuses one view.
 */
export class ChainView {
  table: TableName = "filter";
  /** Position of the chain in its table's declarations: a rule's `chainId`. */
  chainId = 0;
  line = 0;
  builtin = false;
  policy: "ACCEPT" | "DROP" | undefined;
  counters: Counters = ZERO;
  #chains: ChainIndex | undefined;

  /** Points the view at the next declaration (called by the reader). */
  set(
    table: TableName,
    chains: ChainIndex,
    chainId: number,
    line: number,
    decl: { builtin: boolean; policy: "ACCEPT" | "DROP" | undefined; counters: Counters },
  ): void {
    this.table = table;
    this.#chains = chains;
    this.chainId = chainId;
    this.line = line;
    this.builtin = decl.builtin;
    this.policy = decl.policy;
    this.counters = decl.counters;
  }

  /** The declared chains of the table so far (the same index for the whole table). */
  get chains(): ChainIndex {
    return this.#chains!;
  }

  get name(): string {
    return this.#chains!.name(this.chainId);
  }

  /** An immutable copy for handlers that keep declarations. */
  toDeclaration(): ChainDeclaration {
    const { table, name, counters, line, builtin, policy } = this;
    return policy === undefined
      ? { table, name, counters, line, builtin }
      : { table, name, policy, counters, line, builtin };
  }
}

export { ZERO as ZERO_COUNTERS };
