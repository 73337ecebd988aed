import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { endpointChain, portProtoHash } from "../kube-proxy/chain-names.ts";
import { demoEndpointChain, demoPortHash } from "./proxy-chain-names.ts";

// Two independent implementations of kube-proxy's naming: the diagnosis code's and the demo
// generator's own. Both are judged by kube-proxy's real output, never by each other.
const IMPLEMENTATIONS = [
  { name: "src/kube-proxy/chain-names.ts", endpointChain, portProtoHash },
  { name: "src/demo/proxy-chain-names.ts", endpointChain: demoEndpointChain, portProtoHash: demoPortHash },
] as const;

// Reads the shared fixtures (outside the pure core, which may not import node:fs).
const dir = join(process.cwd(), "../shared/fixtures/kube-proxy");
if (!existsSync(dir)) console.warn(`SKIP chain names against the fixtures: ${dir} absent`);

describe.each(IMPLEMENTATIONS)(
  "$name against the shared kube-proxy fixtures",
  ({ endpointChain, portProtoHash }) => {
    it.skipIf(!existsSync(dir))(
      "recomputes every KUBE-SVC/SEP/EXT/FW/XLB/SVL name of the fixtures from its comment",
      () => {
        const files = [
          ...readdirSync(dir)
            .filter((f) => f.startsWith("kube-proxy-iptables"))
            .map((f) => join(dir, f)),
          ...readdirSync(join(dir, "normalized"))
            .filter((f) => f.endsWith(".save.txt"))
            .map((f) => join(dir, "normalized", f)),
        ];
        let checked = 0;
        const mismatches: string[] = [];
        for (const file of files) {
          for (const line of readFileSync(file, "utf8").split("\n")) {
            // -A KUBE-SEP-X ... --comment "ns/svc:port" ... DNAT --to-destination ip:port
            const sep =
              /^-A (KUBE-SEP-\w{16}) .*--comment "?([^" ]+)"? .*-p (\w+).*--to-destination (\S+):(\d+)/.exec(
                line,
              ) ??
              /^-A (KUBE-SEP-\w{16}) .*--comment "?([^" ]+)"? .*-p (\w+).*DNAT --to-destination (\S+):(\d+)/.exec(
                line,
              );
            if (sep) {
              checked++;
              const got = endpointChain(sep[2]!, sep[3]!, sep[4]!.replace(/^\[|\]$/g, ""), Number(sep[5]));
              if (got !== sep[1]) mismatches.push(`${file}: ${line}`);
            }
            // Any rule whose comment starts with the service port name: the chain it is in and the
            // chain it jumps to, when they are per-service-port chains, carry that name's hash.
            const spn = /--comment "?([a-z0-9.-]+\/[a-z0-9.-]+(?::[\w-]*)?)[" ]/.exec(line)?.[1];
            if (spn !== undefined) {
              const names = [
                /^-A (KUBE-(?:SVC|SVL|EXT|FW|XLB)-\w{16}) /.exec(line)?.[1],
                / -j (KUBE-(?:SVC|SVL|EXT|FW|XLB)-\w{16})\b/.exec(line)?.[1],
              ];
              for (const chain of names) {
                if (chain === undefined) continue;
                checked++;
                const hash = chain.slice(chain.lastIndexOf("-") + 1);
                if (!["tcp", "udp", "sctp"].some((p) => portProtoHash(spn, p) === hash))
                  mismatches.push(`${file}: ${chain} in ${line}`);
              }
            }
            const svc =
              /^-A KUBE-SERVICES .*--comment "?([^"]+?) cluster IP"? .*-p (\w+)|^-A KUBE-SERVICES .*-p (\w+) .*--comment "?([^"]+?) cluster IP"?/.exec(
                line,
              );
            const jump = / -j (KUBE-(?:SVC|SVL)-\w{16})$/.exec(line);
            if (svc && jump) {
              checked++;
              const spn = (svc[1] ?? svc[4])!;
              const proto = (svc[2] ?? svc[3])!;
              if (`${jump[1]!.slice(0, 9)}${portProtoHash(spn, proto)}` !== jump[1])
                mismatches.push(`${file}: ${line}`);
            }
          }
        }
        expect(mismatches).toEqual([]);
        expect(checked).toBeGreaterThan(200);
      },
    );
  },
);
