/**
 * What the HTML report renders: a {@linkcode Diagnosis} plus views the page needs and `diagnose`
 * does not compute (the per-node rule excerpts). Additive: a bare Diagnosis is a valid ReportInput.
 */
import type { Diagnosis } from "../../model/diagnosis.ts";
import type { TableName } from "../../model/ruleset.ts";

/** One dump line shown in a rule view. */
export interface RuleLineView {
  /** 1-indexed line in the node's dump. */
  readonly line: number;
  /** The rule as written in the dump (`-A ...`). */
  readonly text: string;
  /** Why the line is highlighted: on the traced path, cited by a finding, or an entry of the asked Service. */
  readonly mark?: "trace" | "evidence" | "service";
}

/** An excerpt of one chain: all of its rules when it is small, the lines that matter when it is huge. */
export interface ChainView {
  readonly table: TableName;
  readonly chain: string;
  /** Line of the chain's declaration (0 when unknown). */
  readonly line: number;
  /** Rules the chain has in the dump; more than `rules.length` when the excerpt is cut. */
  readonly totalRules: number;
  readonly rules: readonly RuleLineView[];
  /** Why this chain is shown, e.g. `on the traced path`. */
  readonly reason: string;
}

/** The chains that matter on one node. */
export interface NodeRuleView {
  readonly node: string;
  /** Bundle-relative path of the dump the lines come from. */
  readonly file: string;
  readonly chains: readonly ChainView[];
  /** Chains that mattered but were left out to bound the report's size. */
  readonly omittedChains: number;
}

/** Input of {@linkcode renderHtml}: the diagnosis and, optionally, per-node rule views. */
export interface ReportInput extends Diagnosis {
  readonly ruleViews?: readonly NodeRuleView[];
  /** When the bundle was collected (ISO-8601), shown in the header; the renderer never reads the clock. */
  readonly collectedAt?: string;
}
