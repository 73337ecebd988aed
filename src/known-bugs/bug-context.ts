/**
 * What a known bug's fix depends on besides the bug: which distribution and role the node has (k3s
 * server/agent, RKE2, kubeadm, from its Node object, else from `k3s --version` in the bundle) and its
 * k3s version, which decides whether `--prefer-bundled-bin` exists. The fix texts of the catalogue
 * are written from it, so a kubeadm node is never told to restart k3s.
 */
export { REMOVE_COPIES } from "../findings/health-entries.ts";

import type { NodeKind } from "../findings/kube-proxy-restart.ts";
import { BUNDLED_BIN_RELEASES, hasPreferBundledBin, isK3sVersion, k3sVersionLine } from "./k3s-version.ts";
import type { NodeEvidence } from "./node-evidence.ts";

export interface BugContext {
  readonly kind: NodeKind;
  /** The version line of `k3s --version`, e.g. `k3s version v1.23.6+k3s1 (418c3fa8)`. */
  readonly k3sVersion?: string;
}

const UNKNOWN: NodeKind = { distribution: "unknown", role: "unknown" };

/**
 * The node's kind from its Node object (`kind`, from `nodeKindOf`) and its files: a node the object
 * does not place, with `k3s --version` output naming a k3s release, runs k3s.
 *
 * @example
 * ```ts
 * bugContext(undefined, { node: "a1", k3sVersion: { file, text: "k3s version v1.27.3+k3s1 (abc)" } });
 * // { kind: { distribution: "k3s", role: "unknown" }, k3sVersion: "k3s version v1.27.3+k3s1 (abc)" }
 * ```
 */
export function bugContext(
  kind: NodeKind | undefined,
  evidence: Pick<NodeEvidence, "k3sVersion">,
): BugContext {
  const text = evidence.k3sVersion?.text;
  const line = text === undefined || !isK3sVersion(text) ? undefined : k3sVersionLine(text);
  const known = kind ?? UNKNOWN;
  const resolved: NodeKind =
    known.distribution === "unknown" && line !== undefined
      ? { distribution: "k3s", role: known.role }
      : known;
  return { kind: resolved, ...(line === undefined ? {} : { k3sVersion: line }) };
}

/** `--prefer-bundled-bin`, with what this node's k3s version says about it. */
function bundledBin(ctx: BugContext): string {
  const has = ctx.k3sVersion === undefined ? undefined : hasPreferBundledBin(ctx.k3sVersion);
  if (has === true) {
    return `start k3s with --prefer-bundled-bin (this node runs ${ctx.k3sVersion}, which has it: prefer-bundled-bin: true in /etc/rancher/k3s/config.yaml)`;
  }
  if (has === false) {
    return `upgrade k3s to ${BUNDLED_BIN_RELEASES} or later (this node runs ${ctx.k3sVersion}) and start it with --prefer-bundled-bin`;
  }
  return `start k3s with --prefer-bundled-bin (k3s ${BUNDLED_BIN_RELEASES} and later)`;
}

/**
 * How to get the writers of the rules off a broken iptables, for this node's kind. On k3s the
 * embedded controllers use the host's iptables unless k3s prefers its bundled binaries
 * (k3s-io/k3s#3117); elsewhere kubelet uses the host's and each DaemonSet or static pod its image's.
 *
 * @param target The iptables versions that work, e.g. `1.8.5 or later (not 1.8.7 or 1.8.10)`.
 */
export function iptablesUpgrade(ctx: BugContext, target: string): string {
  const elsewhere = `upgrade the iptables of the components that write the copies to ${target}: the host's for kubelet, the container image's for kube-proxy, flannel or kube-router pods`;
  switch (ctx.kind.distribution) {
    case "k3s":
      return `k3s's embedded controllers use the host's iptables: ${bundledBin(ctx)}, or upgrade the host's iptables to ${target}`;
    case "rke2":
    case "kubeadm":
      return elsewhere.charAt(0).toUpperCase() + elsewhere.slice(1);
    case "unknown":
      return `On k3s: ${bundledBin(ctx)} or upgrade the host's iptables to ${target}; elsewhere: ${elsewhere}`;
    default: {
      const never: never = ctx.kind.distribution;
      throw new TypeError(`Unknown distribution ${String(never)}`);
    }
  }
}
