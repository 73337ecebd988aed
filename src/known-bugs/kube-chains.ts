/**
 * kube-proxy's and kube-router's chains as one iptables backend holds them (issue 15, KB-07): the
 * `:CHAIN` declarations of an iptables-save text, or the `chain NAME {` blocks of iptables-nft's
 * tables (`table ip filter|nat|mangle|raw|security`) in `nft list ruleset` text. When both backends
 * hold them, the kernel runs both sets: the rules in the backend kube-proxy no longer writes are
 * stale and still act on every packet (kubernetes/kubernetes#107965, cloudnativelabs/kube-router#1069).
 * kubelet's canary and hint chains (KUBE-KUBELET-CANARY, KUBE-PROXY-CANARY, KUBE-IPTABLES-HINT)
 * are left out: each backend may hold those by design (kubernetes-sigs/iptables-wrappers).
 */

/** Chains kube-proxy (iptables mode) and kube-router's network policy write. */
const KUBE_CHAIN =
  /^KUBE-(SERVICES|SVC-|SVL-|SEP-|FW-|EXT-|XLB-|NODEPORTS|POSTROUTING|MARK-MASQ|FORWARD|EXTERNAL-SERVICES|PROXY-FIREWALL|ROUTER-|NWPLCY-|POD-FW-)/;

/** Where one backend's Kubernetes chains are declared: chain name → its line (1-based) and text. */
export interface KubeChains {
  readonly file: string;
  readonly chains: ReadonlyMap<string, { readonly line: number; readonly text: string }>;
}

/** Whether `name` is one of kube-proxy's or kube-router's chains. */
export function isKubeChain(name: string): boolean {
  return KUBE_CHAIN.test(name);
}

/** The Kubernetes chains an iptables-save text declares (`:KUBE-SERVICES - [0:0]`). */
export function kubeChainsOfSave(text: string, file: string): KubeChains {
  const chains = new Map<string, { line: number; text: string }>();
  let at = 0;
  let line = 0;
  while (at < text.length) {
    const end = text.indexOf("\n", at);
    const stop = end < 0 ? text.length : end;
    line++;
    if (text.startsWith(":KUBE-", at)) {
      const l = text.slice(at, stop).replace(/\r$/, "");
      const name = l.slice(1, l.indexOf(" ") < 0 ? l.length : l.indexOf(" "));
      if (isKubeChain(name) && !chains.has(name)) chains.set(name, { line, text: l });
    }
    at = stop + 1;
  }
  return { file, chains };
}

const IPTABLES_TABLE = /^table\s+ip\s+(filter|nat|mangle|raw|security)\s+\{/;

/** The Kubernetes chains in iptables-nft's tables of an `nft [-a] list ruleset` text. */
export function kubeChainsOfNft(text: string, file: string): KubeChains {
  const chains = new Map<string, { line: number; text: string }>();
  let inTable = false;
  text.split("\n").forEach((raw, i) => {
    const l = raw.trim();
    if (raw.startsWith("table ")) inTable = IPTABLES_TABLE.test(l);
    else if (inTable) {
      const m = /^chain\s+"?([^"\s{]+)"?\s+\{/.exec(l);
      if (m !== null && isKubeChain(m[1]!) && !chains.has(m[1]!)) chains.set(m[1]!, { line: i + 1, text: l });
    }
  });
  return { file, chains };
}
