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
  /** Bundle file for stdout when it is not `<stem>.txt` (e.g. `ip-addr.json` for `ip -j` output). */
  readonly file?: string;
}

/** The bundle file a successful command's stdout goes to. */
export function outputFile(command: NodeCommand): string {
  return command.file ?? `${command.stem}.txt`;
}

/**
 * Most conntrack entries `conntrack.txt` keeps (about 200 bytes each, so about 4 MB). UDP entries are
 * listed first because stale UDP entries are the ones that keep traffic going to dead pods
 * (kubernetes/kubernetes#125467, #129617); when the limit cuts, a last line says how many were left out.
 */
export const CONNTRACK_MAX_ENTRIES = 20_000;

/** Fails with 127 (= not installed, see {@linkcode commandAbsent}) when `name` is not on the node. */
function need(name: string): string {
  return `command -v ${name} >/dev/null 2>&1 || { echo "${name}: command not found" >&2; exit 127; }`;
}

/** `sysctl -a` filtered to what the cross-node checks read (interface names print with `/` for `.`). */
const SYSCTL_SCRIPT = [
  need("sysctl"),
  "sysctl -a 2>/dev/null | grep -E '^net\\.(ipv4\\.ip_forward|ipv4\\.conf\\.[^.]+\\.(rp_filter|forwarding)|bridge\\.bridge-nf-call-iptables) '",
].join("\n");

/** `ethtool -k flannel.1`, or nothing when the node has no flannel.1. */
const ETHTOOL_SCRIPT = [
  need("ethtool"),
  "ip link show flannel.1 >/dev/null 2>&1 || exit 0",
  "exec ethtool -k flannel.1",
].join("\n");

/**
 * `conntrack -L -o extended`, UDP first, at most `max` lines (then a `# netdoctor: truncated: N more
 * entries ...` line), and the first failing listing's exit code as the exit code (so a failure is
 * never an empty, "clean" file). Exported for the kernel test of the limit.
 */
export function conntrackScript(max: number): string {
  return [
    need("conntrack"),
    need("awk"),
    '{ conntrack -L -p udp -o extended; echo "#nd-rc $?"; conntrack -L -o extended; echo "#nd-rc $?"; } |',
    `awk -v max=${max} '`,
    "/^#nd-rc / { sec++; if ($2 != 0 && rc == 0) rc = $2; next }",
    'sec == 1 && $3 == "udp" { next }',
    "{ n++; if (n <= max) print; else cut++ }",
    'END { if (cut > 0) print "# netdoctor: truncated: " cut " more entries not shown (limit " max " entries, UDP first)"; exit rc }',
    "'",
  ].join("\n");
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
  // nftables: the text with rule handles (file:line evidence) and the JSON the tracer evaluates.
  { stem: "nft-ruleset", argv: ["nft", "-a", "list", "ruleset"], optional: true },
  {
    stem: "nft-ruleset-json",
    argv: ["nft", "-j", "list", "ruleset"],
    optional: true,
    file: "nft-ruleset.json",
  },
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
  // Cross-node path (docs/bundle.md, "Host network evidence"): routes, overlay, neighbours, kernel.
  { stem: "ip-addr", argv: ["ip", "-j", "addr", "show"], optional: true, file: "ip-addr.json" },
  { stem: "ip-link", argv: ["ip", "-j", "-d", "link", "show"], optional: true, file: "ip-link.json" },
  {
    stem: "ip-route",
    argv: ["ip", "-j", "route", "show", "table", "all"],
    optional: true,
    file: "ip-route.json",
  },
  { stem: "ip-rule", argv: ["ip", "-j", "rule", "show"], optional: true, file: "ip-rule.json" },
  { stem: "ip-neigh", argv: ["ip", "-j", "neigh", "show"], optional: true, file: "ip-neigh.json" },
  { stem: "bridge-fdb", argv: ["bridge", "-j", "fdb", "show"], optional: true, file: "bridge-fdb.json" },
  { stem: "sysctl", argv: ["sh", "-c", SYSCTL_SCRIPT], optional: true },
  { stem: "lsmod", argv: ["lsmod"], optional: true },
  {
    stem: "flannel-subnet",
    argv: ["cat", "/run/flannel/subnet.env"],
    optional: true,
    file: "flannel-subnet.env",
  },
  {
    stem: "ethtool-flannel",
    argv: ["sh", "-c", ETHTOOL_SCRIPT],
    optional: true,
    file: "ethtool-k-flannel.1.txt",
  },
  { stem: "conntrack", argv: ["sh", "-c", conntrackScript(CONNTRACK_MAX_ENTRIES)], optional: true },
];

/**
 * Whether a failed run means "this binary is not installed": 127 from a shell or chroot, or the
 * "command not found" that sudo prints with exit code 1.
 */
export function commandAbsent(exit: number, stderr: string): boolean {
  if (exit === 127) return true;
  return exit !== 0 && /command not found|No such file or directory/.test(stderr) && stderr.length < 500;
}
