/**
 * One iptables rule as `nft` lists it after iptables-nft (1.8.9) wrote it: the statements of
 * `nft -j list ruleset` (libnftables JSON) and the words of `nft -a list ruleset`. Matches
 * iptables-nft translates to native expressions (`-s`, `-d`, `-p`, `--dport`, `-m mark`, the
 * standard verdicts and jumps) appear as such; the others stay xtables extensions, an opaque
 * `{"xt": …}` in the JSON and their libxtables translation in the text (`-m comment` prints nothing,
 * so its neighbours are two spaces apart). Checked against the real iptables-nft-restore and nft in a
 * network namespace (render-nft.kernel.test.ts); only the options the demo's rules use are known.
 */

/** A JSON value as nft prints it. */
export type NftJson =
  | null
  | string
  | number
  | boolean
  | readonly NftJson[]
  | { readonly [k: string]: NftJson };

/** One statement: its JSON object and its text (empty for `-m comment`). */
interface Stmt {
  readonly json: NftJson;
  readonly text: string;
  /** An xtables extension (ends nft's tracking of the protocol a payload match depends on). */
  readonly xt?: true;
  /** `meta l4proto P` that iptables-nft adds for `-p P`. */
  readonly l4proto?: string;
  /** A tcp/udp header match that depends on the protocol. */
  readonly payloadOf?: string;
}

/** Splits rule arguments as the shell would for iptables-save's quoting. */
export function splitArgs(args: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(args); m !== null; m = re.exec(args))
    out.push(m[1] === undefined ? m[2]! : m[1].replace(/\\(.)/g, "$1"));
  return out;
}

function xt(type: "match" | "target", name: string, text: string): Stmt {
  return { json: { xt: { type, name } }, text, xt: true };
}

function match(op: string, left: NftJson, right: NftJson, text: string): Stmt {
  return { json: { match: { op, left, right } }, text };
}

function address(field: "saddr" | "daddr", cidr: string, negate: boolean): Stmt {
  const [addr, len] = cidr.split("/");
  const whole = len === undefined || len === "32";
  const right: NftJson = whole ? addr! : { prefix: { addr: addr!, len: Number(len) } };
  const shown = whole ? addr! : `${addr}/${len}`;
  return match(
    negate ? "!=" : "==",
    { payload: { protocol: "ip", field } },
    right,
    `ip ${field} ${negate ? "!= " : ""}${shown}`,
  );
}

const hex8 = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

/** libxt_conntrack's translation of `--ctstate` (states in its order; the DNAT case as nft 1.0.6 prints it). */
function ctstate(states: string, negate: boolean): string {
  const list = states.split(",");
  if (negate && list.includes("DNAT")) return "ct status dnat";
  const order = ["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED"];
  const shown = order.filter((s) => list.includes(s)).map((s) => s.toLowerCase());
  return `ct state ${negate ? "!= " : ""}${shown.join(",")}`;
}

function portsText(proto: string, ports: string): string {
  const list = ports.split(",").map((p) => p.replace(":", "-"));
  return list.length === 1 ? `${proto} dport ${list[0]}` : `${proto} dport { ${list.join(", ")} }`;
}

/** `-m NAME OPTIONS…` from `at`; returns the statements and the index after the options. */
function module(t: readonly string[], at: number, proto: string): { stmts: Stmt[]; next: number } {
  const name = t[at]!;
  let i = at + 1;
  const opts = new Map<string, string>();
  const negated = new Set<string>();
  while (i < t.length && t[i] !== "-m" && t[i] !== "-j" && t[i] !== "-g") {
    if (t[i] === "!") {
      negated.add(t[i + 1]!);
      i++;
    } else if (t[i]!.startsWith("--")) {
      opts.set(t[i]!, t[i + 1] ?? "");
      i += 2;
    } else throw new RangeError(`Cannot render option "${t[i]}" of -m ${name} as nft`);
  }
  const stmts: Stmt[] = [];
  switch (name) {
    case "comment":
      stmts.push(xt("match", "comment", ""));
      break;
    case "conntrack":
      stmts.push(xt("match", "conntrack", ctstate(opts.get("--ctstate")!, negated.has("--ctstate"))));
      break;
    case "addrtype":
      stmts.push(xt("match", "addrtype", `fib daddr type ${opts.get("--dst-type")!.toLowerCase()}`));
      break;
    case "multiport":
      stmts.push(xt("match", "multiport", portsText(proto, opts.get("--dports")!)));
      break;
    case "statistic": {
      const p = Math.round(Number(opts.get("--probability")) * 0x80000000);
      stmts.push(xt("match", "statistic", `meta random & 2147483647 < ${p}`));
      break;
    }
    case "mark": {
      const [v, m] = opts.get("--mark")!.split("/").map(Number) as [number, number];
      const neg = negated.has("--mark");
      const text = `meta mark & ${hex8(m)} ${neg ? "!=" : "=="} ${hex8(v)}`;
      stmts.push(match(neg ? "!=" : "==", { "&": [{ meta: { key: "mark" } }, m] }, v, text));
      break;
    }
    case "tcp":
    case "udp": {
      const dport = opts.get("--dport");
      if (dport === undefined) stmts.push(xt("match", name, ""));
      else {
        const s = match("==", { payload: { protocol: name, field: "dport" } }, Number(dport), "");
        stmts.push({ ...s, text: `${name} dport ${dport}`, payloadOf: name });
      }
      break;
    }
    default:
      throw new RangeError(`Cannot render -m ${name} as nft`);
  }
  return { stmts, next: i };
}

function target(t: readonly string[], at: number): Stmt {
  const name = t[at]!;
  const rest = t.slice(at + 1);
  const opt = (o: string) => rest[rest.indexOf(o) + 1]!;
  switch (name) {
    case "ACCEPT":
    case "DROP":
    case "RETURN": {
      const v = name.toLowerCase();
      return { json: { [v]: null }, text: v };
    }
    case "DNAT":
      return xt("target", "DNAT", `dnat to ${opt("--to-destination")}`);
    case "REJECT": {
      // libipt_REJECT's translation: the default type is plain `reject`.
      const type = rest.includes("--reject-with") ? opt("--reject-with") : "icmp-port-unreachable";
      const kind = type.replace(/^icmp-/, "");
      return xt(
        "target",
        "REJECT",
        type === "icmp-port-unreachable" ? "reject" : `reject with icmp type ${kind}`,
      );
    }
    case "MASQUERADE":
      return xt(
        "target",
        "MASQUERADE",
        rest.includes("--random-fully") ? "masquerade fully-random" : "masquerade",
      );
    case "MARK": {
      const [v, m] = opt("--set-xmark").split("/").map(Number) as [number, number];
      const x = (n: number) => `0x${n.toString(16)}`;
      const text =
        v === m
          ? `meta mark set mark or ${x(v)}`
          : m === 0
            ? `meta mark set mark xor ${x(v)}`
            : `meta mark set mark and ${x(~m >>> 0)} xor ${x(v)}`;
      return xt("target", "MARK", text);
    }
    default:
      if (/^[A-Z]+$/.test(name) && !name.includes("-"))
        throw new RangeError(`Cannot render -j ${name} as nft`);
      return { json: { jump: { target: name } }, text: `jump ${name}` };
  }
}

/**
 * The statements of one rule (the arguments after `-A CHAIN`), as iptables-nft 1.8.9 orders them:
 * the protocol, the addresses, each `-m` in turn, a counter, the target. nft leaves out the `meta
 * l4proto` a tcp/udp header match implies unless an xtables extension stands between them.
 *
 * @throws {RangeError} For an option the demo does not use (nothing is guessed).
 */
export function nftRule(args: string): { readonly expr: NftJson[]; readonly text: string } {
  const t = splitArgs(args);
  const head: Stmt[] = [];
  const body: Stmt[] = [];
  let proto = "";
  let negate = false;
  let fin: Stmt | undefined;
  for (let i = 0; i < t.length; ) {
    const a = t[i]!;
    if (a === "!") {
      negate = true;
      i++;
    } else if (a === "-s" || a === "-d") {
      head.push(address(a === "-s" ? "saddr" : "daddr", t[i + 1]!, negate));
      negate = false;
      i += 2;
    } else if (a === "-p") {
      proto = t[i + 1]!;
      head.unshift({
        ...match("==", { meta: { key: "l4proto" } }, proto, `meta l4proto ${proto}`),
        l4proto: proto,
      });
      i += 2;
    } else if (a === "-m") {
      const m = module(t, i + 1, proto);
      body.push(...m.stmts);
      i = m.next;
    } else if (a === "-j") {
      fin = target(t, i + 1);
      break;
    } else throw new RangeError(`Cannot render option "${a}" as nft`);
  }
  let stmts = [...head, ...body];
  const dep = stmts.findIndex((s) => s.payloadOf !== undefined);
  if (stmts[0]?.l4proto !== undefined && dep > 0 && !stmts.slice(1, dep).some((s) => s.xt))
    stmts = stmts.slice(1);
  const counter: Stmt = { json: { counter: { packets: 0, bytes: 0 } }, text: "counter packets 0 bytes 0" };
  const all = [...stmts, counter, ...(fin === undefined ? [] : [fin])];
  return { expr: all.map((s) => s.json), text: all.map((s) => s.text).join(" ") };
}
