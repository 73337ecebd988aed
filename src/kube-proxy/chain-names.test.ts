import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sha256 } from "../text/sha256.ts";
import { endpointChain, serviceChain, servicePortName } from "./chain-names.ts";

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
    expect(endpointChain("default/kubernetes:https", "tcp", "192.168.1.105", 6443)).toBe(
      "KUBE-SEP-B5VO6EBO7JWDMZQ2",
    );
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
    expect(serviceChain("SVC", servicePortName("ns1", "svc1", "", true), "tcp")).toBe(
      "KUBE-SVC-AHZNAGK3SCETOS2T",
    );
  });
});

describe("kube-proxy chain names against real dumps", () => {
  const files = [
    "realworld/k3s-single-node-counters-c.save.txt",
    "realworld/k8s-kubeadm-flannel-master-1.8.4.save.txt",
    "realworld/k8s-kubeadm-flannel-nft-1.8.10.save.txt",
    "realkube/healthy/nodes/node1/iptables-save.txt",
    "realkube/drift/nodes/node2/iptables-save.txt",
  ].map((f) => resolve(process.cwd(), "../shared", f));
  const present = files.filter((f) => existsSync(f));
  if (present.length < files.length)
    console.warn(`SKIP some real dumps: ${files.filter((f) => !existsSync(f)).join(", ")} absent`);

  it.skipIf(present.length === 0)(
    "recomputes every KUBE-SEP- name from its rule's comment, protocol and DNAT target",
    () => {
      let checked = 0;
      for (const file of present) {
        for (const line of readFileSync(file, "utf8").split("\n")) {
          const m =
            /-A (KUBE-SEP-\w+) .*-p (\w+) .*--comment "?([^" ]+)"? .*--to-destination (\S+):(\d+)/.exec(line);
          if (m === null) continue;
          expect(endpointChain(m[3]!, m[2]!, m[4]!, Number(m[5])), line).toBe(m[1]);
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(40);
    },
  );
});
