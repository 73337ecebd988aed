import type { NodeScan } from "../scan/scan-node.ts";
import type { KubeChains } from "./kube-chains.ts";
import type { SignatureHit } from "./rule-signatures.ts";
// RuleSignatureScanner lives in ./rule-signatures.ts

/** A small text file of a bundle's node directory, with its bundle-relative path for evidence. */
export interface EvidenceFile {
  /** Bundle-relative path, e.g. `nodes/agent1/iptables-version.txt`. */
  readonly file: string;
  readonly text: string;
}

/**
 * Everything known about one node's iptables, from a bundle or a live exporter: the input of
 * node-health checks and the known-bug catalogue.
 */
export interface NodeEvidence {
  readonly node: string;
  /** Streaming scan of `iptables-save` output; absent when it could not be read. */
  readonly scan?: NodeScan;
  /** `iptables --version` output. */
  readonly iptablesVersion?: EvidenceFile;
  /** stderr of a failed `iptables-save` (`iptables-save.err`), with its exit code when known. */
  readonly saveError?: EvidenceFile & { readonly exitCode?: number };
  /** Scan of `iptables-legacy-save` output, when collected. */
  readonly legacyScan?: NodeScan;
  /** `nft list ruleset` output, when collected. */
  readonly nftRuleset?: EvidenceFile;
  /** `k3s --version` output, when the node runs k3s. */
  readonly k3sVersion?: EvidenceFile;
  /** Rule lines of the dump that match a known-bug signature (from {@linkcode RuleSignatureScanner}). */
  readonly signatures?: readonly SignatureHit[];
  /**
   * kube-proxy's and kube-router's chains in each backend, when the node shows both backends (a
   * legacy iptables-save beside iptables-nft tables in nft-ruleset.txt, or iptables-legacy-save.txt
   * beside an nf_tables iptables-save): the mixed-iptables-backends check.
   */
  readonly kubeChains?: { readonly legacy: KubeChains; readonly nfTables: KubeChains };
  /** stderr files of other failed commands (`<command>.err`). */
  readonly otherErrors?: readonly EvidenceFile[];
}
