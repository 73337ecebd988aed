/**
 * Writes testdata/ipvs/lab (run as root): the overlay lab (node-a: a1, a2; node-b: b1; node-c: c1)
 * with node-a in kube-proxy's IPVS mode as far as this kernel allows (overlay-lab-ipvs.ts: the real
 * `ip`, `ipset` and `iptables-nft-save` output of kube-ipvs0, the glue and the ipsets), the Service
 * web, and the hand-written `nodes/node-a/ipvsadm.txt`.
 *
 * ```sh
 * npx tsx src/testing/overlay-lab-ipvs-capture.ts testdata/ipvs/lab
 * ```
 */
import { rmSync } from "node:fs";
import { createOverlayLab } from "./overlay-lab-build.ts";
import { writeLabBundle } from "./overlay-lab-bundle.ts";
import { defaultNodes } from "./overlay-lab-case-kit.ts";
import { IPVS_WEB, makeIpvsNode, writeIpvsFiles } from "./overlay-lab-ipvs.ts";

async function capture(out: string): Promise<void> {
  const lab = await createOverlayLab({ area: "capipvs", nodes: defaultNodes() });
  try {
    makeIpvsNode(lab);
    rmSync(out, { recursive: true, force: true });
    await writeLabBundle(lab, out, { services: [IPVS_WEB] });
    await writeIpvsFiles(out);
  } finally {
    await lab.destroy();
  }
}

const target = process.argv[2];
if (target !== undefined) {
  await capture(target);
  console.log(`wrote ${target}`);
}
