/**
 * The pure diagnosis over inputs already read: the library's one-call form of
 * {@linkcode DiagnosisBuilder} (collect/diagnose-bundle-dir.ts reads a bundle directory into it).
 */
import type { Diagnosis } from "../model/diagnosis.ts";
import {
  type DiagnoseContext,
  type DiagnoseQuestion,
  DiagnosisBuilder,
  type NodeInput,
} from "./diagnosis-builder.ts";

/** Options of {@linkcode diagnose}. */
export interface DiagnoseOptions {
  /** `--from NS/POD --to HOST:PORT`; without it every Service is checked on every node. */
  readonly question?: DiagnoseQuestion;
}

/**
 * Diagnoses a cluster from its API objects and its nodes' evidence. Give the client node of a
 * question its parsed `ruleset` so the packet can be traced (other nodes need only their scan).
 *
 * @throws {QuestionError} When the question names a pod or destination the cluster does not have.
 */
export function diagnose(
  context: DiagnoseContext,
  nodes: Iterable<NodeInput>,
  options: DiagnoseOptions = {},
): Diagnosis {
  const builder = new DiagnosisBuilder(context, options.question);
  for (const node of nodes) builder.addNode(node);
  return builder.finish();
}
