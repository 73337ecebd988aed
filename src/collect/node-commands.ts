/**
 * The read-only commands netdoctor runs on a node, and the bundle files they feed. Nothing else
 * ever runs on a node: both the pod path and the SSH path take their command lines from here.
 */
export interface NodeCommand {
  /** File stem in `nodes/NODE/`: output goes to `<stem>.txt`, a failure to `<stem>.err` and `<stem>.exit`. */
  readonly stem: string;
  /** Program and arguments, run with the node's own binaries. */
  readonly argv: readonly string[];
  /** Optional commands leave no file when the binary is absent on the node. */
  readonly optional: boolean;
  /** Output file name when it is not `<stem>.txt` (e.g. JSON output). */
  readonly file?: string;
}

/** In bundle order; `iptables-save` first because it is the evidence that matters most. */
export const NODE_COMMANDS: readonly NodeCommand[] = [
  { stem: "iptables-save", argv: ["iptables-save"], optional: false },
  { stem: "iptables-version", argv: ["iptables", "--version"], optional: false },
  { stem: "iptables-legacy-save", argv: ["iptables-legacy-save"], optional: true },
  // nftables: the text with rule handles (file:line evidence) and the JSON the tracer evaluates.
  { stem: "nft-ruleset", argv: ["nft", "-a", "list", "ruleset"], optional: true },
  {
    stem: "nft-ruleset-json",
    argv: ["nft", "-j", "list", "ruleset"],
    optional: true,
    file: "nft-ruleset.json",
  },
  { stem: "k3s-version", argv: ["k3s", "--version"], optional: true },
];

/**
 * Whether a failed run means "this binary is not installed": 127 from a shell or chroot, or the
 * "command not found" that sudo prints with exit code 1.
 */
export function commandAbsent(exit: number, stderr: string): boolean {
  if (exit === 127) return true;
  return exit !== 0 && /command not found|No such file or directory/.test(stderr) && stderr.length < 500;
}
