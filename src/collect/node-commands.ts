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

/** Where kube-proxy (and k3s, which runs it in-process) serves its metrics and `/proxyMode`. */
export const KUBE_PROXY_METRICS_URL = "http://127.0.0.1:10249";

/**
 * A POSIX sh script that reads `url` with the node's curl (or wget) and prints the body. When
 * nothing answers it prints one `# netdoctor: …` line instead and still exits 0: a kube-proxy that
 * does not answer is evidence about the node (stopped, or replaced by eBPF), not a failed
 * collection. Exit 127 (neither tool installed) leaves no file, like any absent optional command.
 */
export function httpGetScript(url: string): string {
  return [
    `u='${url}'`,
    `if command -v curl >/dev/null 2>&1; then o=$(curl -sS --max-time 5 "$u" 2>&1); r=$?; t=curl`,
    `elif command -v wget >/dev/null 2>&1; then o=$(wget -q -T 5 -O - "$u" 2>&1); r=$?; t=wget`,
    `else echo "netdoctor: neither curl nor wget on the node" >&2; exit 127; fi`,
    `if [ "$r" -eq 0 ]; then printf '%s\\n' "$o"`,
    `else printf '# netdoctor: kube-proxy did not answer on %s (%s exit %s): %.300s\\n' "$u" "$t" "$r" "$(printf '%s' "$o" | tr '\\n' ' ')"; fi`,
  ].join("; ");
}

/** In bundle order; `iptables-save` first because it is the evidence that matters most. */
export const NODE_COMMANDS: readonly NodeCommand[] = [
  { stem: "iptables-save", argv: ["iptables-save"], optional: false },
  { stem: "iptables-version", argv: ["iptables", "--version"], optional: false },
  { stem: "iptables-legacy-save", argv: ["iptables-legacy-save"], optional: true },
  { stem: "nft-ruleset", argv: ["nft", "list", "ruleset"], optional: true },
  { stem: "k3s-version", argv: ["k3s", "--version"], optional: true },
  // kube-proxy's own view: whether it syncs (metrics) and how it proxies (/proxyMode).
  {
    stem: "kube-proxy-metrics",
    argv: ["sh", "-c", httpGetScript(`${KUBE_PROXY_METRICS_URL}/metrics`)],
    optional: true,
  },
  {
    stem: "kube-proxy-mode",
    argv: ["sh", "-c", httpGetScript(`${KUBE_PROXY_METRICS_URL}/proxyMode`)],
    optional: true,
  },
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
