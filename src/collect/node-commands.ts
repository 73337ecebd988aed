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
}

/** In bundle order; `iptables-save` first because it is the evidence that matters most. */
export const NODE_COMMANDS: readonly NodeCommand[] = [
  { stem: "iptables-save", argv: ["iptables-save"], optional: false },
  { stem: "iptables-version", argv: ["iptables", "--version"], optional: false },
  { stem: "iptables-legacy-save", argv: ["iptables-legacy-save"], optional: true },
  { stem: "nft-ruleset", argv: ["nft", "list", "ruleset"], optional: true },
  { stem: "k3s-version", argv: ["k3s", "--version"], optional: true },
  // Running ipset or ipvsadm would load the ip_set / ip_vs kernel modules on a node that does not
  // use them: only run them when the module is already there, otherwise report "absent" (127).
  {
    stem: "ipset-save",
    argv: ["sh", "-c", "if [ -d /sys/module/ip_set ]; then exec ipset save; else exit 127; fi"],
    optional: true,
  },
  {
    stem: "ipvsadm",
    argv: ["sh", "-c", "if [ -e /proc/net/ip_vs ]; then exec ipvsadm -Sn; else exit 127; fi"],
    optional: true,
  },
];

/**
 * Whether a failed run means "this binary is not installed": 127 from a shell or chroot, or the
 * "command not found" that sudo prints with exit code 1.
 */
export function commandAbsent(exit: number, stderr: string): boolean {
  if (exit === 127) return true;
  return exit !== 0 && /command not found|No such file or directory/.test(stderr) && stderr.length < 500;
}
