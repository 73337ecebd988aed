import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeBundleFiles } from "../src/collect/demo-bundle.ts";
import { buildBundle } from "../src/demo/build-bundle.ts";
import { healthyCluster } from "../src/testing/demo-bundles.ts";
import { realNodeFiles } from "../src/testing/host-bundle.ts";
const dir = process.argv[2]!;
const files = buildBundle(healthyCluster());
const real = realNodeFiles({
  nft: `table inet firewalld {
  chain filter_FORWARD {
    type filter hook forward priority filter + 10; policy accept;
    ct state { established, related } accept
    ct state invalid drop
    iifname "lo" accept
    jump filter_FORWARD_IN_ZONES
    reject with icmpx type admin-prohibited
  }
  chain filter_FORWARD_IN_ZONES {
    iifname "eth0" goto filter_FWDI_public
    goto filter_FWDI_public
  }
  chain filter_FWDI_public {
    jump filter_FWDI_public_allow
  }
  chain filter_FWDI_public_allow {
  }
}`,
  iptablesNft: files.get("nodes/master1/iptables-save.txt")!,
  interfaces: [{ name: "cni0", kind: "bridge", cidr: "10.42.0.1/24" }, { name: "eth0", kind: "bridge", cidr: "192.168.10.11/24" }],
});
for (const [n, t] of real) files.set(`nodes/master1/${n}`, t);
await writeBundleFiles(dir, files);
