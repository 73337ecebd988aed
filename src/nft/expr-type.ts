/**
 * The datatype of an expression's value, which decides how the literals it is compared with are
 * read (`"tcp"` as protocol 6 next to `meta l4proto`, `"new"` as a ct state bit next to `ct state`).
 */
import { type NftDatatype, setDatatype } from "./nft-datatypes.ts";
import type { NftExpr, NftTable } from "./nft-ruleset.ts";

/** The datatypes of an expression's value (one per concatenated component), or undefined. */
export function typeOf(e: NftExpr, table?: NftTable): readonly NftDatatype[] | undefined {
  switch (e.kind) {
    case "payload":
      if (e.protocol === "ip")
        return e.field === "saddr" || e.field === "daddr"
          ? ["ipv4_addr"]
          : e.field === "protocol"
            ? ["inet_proto"]
            : ["integer"];
      if (e.protocol === "tcp" && e.field === "flags") return ["tcp_flag"];
      if (e.protocol === "icmp" && e.field === "type") return ["icmp_type"];
      if (e.field === "sport" || e.field === "dport") return ["inet_service"];
      return ["integer"];
    case "meta": {
      const m: Record<string, NftDatatype> = {
        l4proto: "inet_proto",
        nfproto: "nf_proto",
        protocol: "ether_type",
        iifname: "ifname",
        oifname: "ifname",
        iif: "ifname",
        oif: "ifname",
        mark: "mark",
        pkttype: "pkt_type",
      };
      return [m[e.key] ?? "integer"];
    }
    case "ct": {
      const k = e.key.replace(/^ip /, "");
      const m: Record<string, NftDatatype> = {
        state: "ct_state",
        status: "ct_status",
        mark: "mark",
        direction: "ct_dir",
        l3proto: "nf_proto",
        protocol: "inet_proto",
        saddr: "ipv4_addr",
        daddr: "ipv4_addr",
        "proto-src": "inet_service",
        "proto-dst": "inet_service",
      };
      return [m[k] ?? "integer"];
    }
    case "fib":
      return [e.result === "type" ? "fib_addrtype" : "ifname"];
    case "numgen":
      return ["integer"];
    case "binop":
      return typeOf(e.left, table);
    case "concat": {
      const out: NftDatatype[] = [];
      for (const i of e.items) {
        const t = typeOf(i, table);
        if (t === undefined) return undefined;
        out.push(...t);
      }
      return out;
    }
    case "map": {
      if (e.data.kind === "setref") {
        const set = table?.sets.get(e.data.name);
        const dt = set?.dataType?.map(setDatatype);
        return dt === undefined || dt.some((d) => d === undefined) ? undefined : (dt as NftDatatype[]);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}
