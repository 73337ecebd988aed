import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { endpointChain, portProtoHash, serviceChain, servicePortName } from "./chain-names.ts";
import { sha256 } from "./sha256.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

describe("sha256", () => {
  it("matches the FIPS 180-2 test vectors", () => {
    expect(hex(sha256(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(sha256("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });
});

describe("kube-proxy chain names", () => {
  it("recomputes well-known names", () => {
    expect(serviceChain("SVC", "default/kubernetes:https", "tcp")).toBe("KUBE-SVC-NPX46M4PTMTKRN6Y");
    expect(endpointChain("default/kubernetes:https", "tcp", "192.168.1.105", 6443)).toBe("KUBE-SEP-B5VO6EBO7JWDMZQ2");
    expect(serviceChain("SVC", "kube-system/kube-dns:dns", "UDP")).toBe("KUBE-SVC-TCOU7JCQXEZGVUNU");
    expect(serviceChain("SVC", "kube-system/kube-dns:dns-tcp", "tcp")).toBe("KUBE-SVC-ERIFXISQEP7F7OF4");
    expect(serviceChain("SVC", "kube-system/kube-dns:metrics", "tcp")).toBe("KUBE-SVC-JD5MR3NA4I4DYORP");
    expect(endpointChain("ns1/svc1:p80", "tcp", "10.180.0.1", 80)).toBe("KUBE-SEP-SXIVWICOYRO3J4NJ");
    expect(endpointChain("ns1/svc1:p80", "tcp", "fd00:10:180::1", 80)).toBe("KUBE-SEP-OGYCNMB4EMRUSJ6N");
  });

  it("uses the pre-1.19 colon for unnamed ports only when asked", () => {
    expect(servicePortName("ns1", "svc1", undefined)).toBe("ns1/svc1");
    expect(servicePortName("ns1", "svc1", "", true)).toBe("ns1/svc1:");
    expect(serviceChain("SVC", servicePortName("ns1", "svc1", ""), "tcp")).toBe("KUBE-SVC-AQI2S6QIMU7PVVRP");
    expect(serviceChain("SVC", servicePortName("ns1", "svc1", "", true), "tcp")).toBe("KUBE-SVC-AHZNAGK3SCETOS2T");
  });

  const dir = join(process.cwd(), "../shared/fixtures/kube-proxy");
  it.skipIf(!existsSync(dir))("recomputes every KUBE-SVC/SEP/EXT/FW/XLB/SVL name of the fixtures from its comment", () => {
    const files = [
      ...readdirSync(dir).filter((f) => f.startsWith("kube-proxy-iptables")).map((f) => join(dir, f)),
      ...readdirSync(join(dir, "normalized")).filter((f) => f.endsWith(".save.txt")).map((f) => join(dir, "normalized", f)),
    ];
    let checked = 0;
    const mismatches: string[] = [];
    for (const file of files) {
      for (const line of readFileSync(file, "utf8").split("\n")) {
        // -A KUBE-SEP-X ... --comment "ns/svc:port" ... DNAT --to-destination ip:port
        const sep = /^-A (KUBE-SEP-\w{16}) .*--comment "?([^" ]+)"? .*-p (\w+).*--to-destination (\S+):(\d+)/.exec(line) ??
          /^-A (KUBE-SEP-\w{16}) .*--comment "?([^" ]+)"? .*-p (\w+).*DNAT --to-destination (\S+):(\d+)/.exec(line);
        if (sep) {
          checked++;
          const got = endpointChain(sep[2]!, sep[3]!, sep[4]!.replace(/^\[|\]$/g, ""), Number(sep[5]));
          if (got !== sep[1]) mismatches.push(`${file}: ${line}`);
        }
        const svc = /^-A KUBE-SERVICES .*--comment "?([^"]+?) cluster IP"? .*-p (\w+)|^-A KUBE-SERVICES .*-p (\w+) .*--comment "?([^"]+?) cluster IP"?/.exec(line);
        const jump = / -j (KUBE-(?:SVC|SVL)-\w{16})$/.exec(line);
        if (svc && jump) {
          checked++;
          const spn = (svc[1] ?? svc[4])!;
          const proto = (svc[2] ?? svc[3])!;
          if (`${jump[1]!.slice(0, 9)}${portProtoHash(spn, proto)}` !== jump[1]) mismatches.push(`${file}: ${line}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });
});
