/**
 * Reads a bundle's `cluster/networkpolicies.json` and `cluster/namespaces.json` (format in
 * docs/bundle.md). Both are optional: a bundle without them gives a state whose lists are
 * undefined, and every NetworkPolicy verdict then says undecided with the command that writes the
 * file. A file that is present but unreadable, or a bad item, becomes a `bundle-invalid` finding.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { makeFinding } from "../findings/make-finding.ts";
import type { Finding } from "../model/finding.ts";
import type { Namespace, NetworkPolicy, NetworkPolicyState } from "../model/network-policy.ts";
import { CollectError } from "./collect-error.ts";
import { BundleSchemaError } from "./kube-objects.ts";
import { convertPolicyList } from "./network-policy-objects.ts";
import { jsonErrorMessage } from "./read-bundle.ts";

/** The two files and the commands that write them. */
export const POLICY_FILES = {
  NetworkPolicy: { file: "cluster/networkpolicies.json", command: "kubectl get networkpolicies -A -o json" },
  Namespace: { file: "cluster/namespaces.json", command: "kubectl get namespaces -o json" },
} as const;

function invalid(file: string, problem: string, line?: number): Finding {
  return makeFinding(
    "bundle-invalid",
    { problem },
    { evidence: [{ file, ...(line === undefined ? {} : { line }), text: problem }] },
  );
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new CollectError(`Cannot read ${path}: ${code ?? String(error)}`, { cause: error });
  }
}

async function readList<K extends "NetworkPolicy" | "Namespace">(
  dir: string,
  kind: K,
  problems: Finding[],
): Promise<(K extends "NetworkPolicy" ? NetworkPolicy : Namespace)[] | undefined> {
  const { file, command } = POLICY_FILES[kind];
  const text = await readOptional(join(dir, file));
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    problems.push(
      invalid(file, `${jsonErrorMessage(file, text, error as SyntaxError)} (write it with \`${command}\`)`),
    );
    return undefined;
  }
  try {
    const { items, problems: itemProblems } = convertPolicyList(kind, data, { file, text });
    for (const p of itemProblems) problems.push(invalid(p.file, p.message, p.line));
    return items as (K extends "NetworkPolicy" ? NetworkPolicy : Namespace)[];
  } catch (error) {
    if (!(error instanceof BundleSchemaError)) throw error;
    problems.push(invalid(file, error.message));
    return undefined;
  }
}

/**
 * The NetworkPolicy side of the bundle at `dir`.
 *
 * @example
 * ```ts
 * const { state, problems } = await readNetworkPolicyState("bundle/");
 * state.policies === undefined; // true when cluster/networkpolicies.json was not collected
 * ```
 */
export async function readNetworkPolicyState(
  dir: string,
): Promise<{ state: NetworkPolicyState; problems: Finding[] }> {
  const problems: Finding[] = [];
  const policies = await readList(dir, "NetworkPolicy", problems);
  const namespaces = await readList(dir, "Namespace", problems);
  return {
    state: {
      ...(policies === undefined ? {} : { policies }),
      ...(namespaces === undefined ? {} : { namespaces }),
    },
    problems,
  };
}
