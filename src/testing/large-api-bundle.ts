/**
 * A bundle whose API lists are large enough for readBundle to read them in workers (read-lists.ts:
 * 8 MB and more), around one node whose dump kube-proxy wrote for exactly those Services (the
 * bench's generator, src/bench/generate-dump.ts), with a client pod for `diagnose --from`. The
 * objects are printed as `kubectl get -o json` prints them, so they are streamed.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateDump, generatedServices } from "../bench/generate-dump.ts";
import { apiLists, clientAndNodeLists } from "../bench/layout-bundle.ts";

export const LARGE_BUNDLE_NODE = "node-1";
/** A question whose client runs on the bundle's node and whose Service has endpoints. */
export const LARGE_BUNDLE_QUESTION = { from: "ns1/client", to: "svc-1:80" } as const;

/** Writes the bundle into `dir` (an empty directory); 4,000 Services make about 10 MB of lists. */
export async function writeLargeApiBundle(
  dir: string,
  options: { readonly services: number },
): Promise<void> {
  const dumpOptions = { services: options.services, layout: "kube-proxy" } as const;
  const services = generatedServices(dumpOptions);
  const json = (file: string, value: unknown) =>
    writeFile(join(dir, file), `${JSON.stringify(value, null, 4)}\n`);
  await mkdir(join(dir, "cluster"), { recursive: true });
  await mkdir(join(dir, "nodes", LARGE_BUNDLE_NODE), { recursive: true });
  await json("bundle.json", {
    format: "netdoctor-bundle/v1",
    cluster: "large",
    collectedAt: "2026-11-25T08:18:56Z",
  });
  const lists = apiLists(services, LARGE_BUNDLE_NODE);
  await json("cluster/services.json", lists.services);
  await json("cluster/endpointslices.json", lists.endpointSlices);
  const clientAndNode = clientAndNodeLists(LARGE_BUNDLE_NODE, "client");
  await json("cluster/pods.json", clientAndNode.pods);
  await json("cluster/nodes.json", clientAndNode.nodes);
  const nodeDir = join(dir, "nodes", LARGE_BUNDLE_NODE);
  await writeFile(join(nodeDir, "iptables-version.txt"), "iptables v1.8.9 (nf_tables)\n");
  await writeFile(join(nodeDir, "iptables-save.txt"), [...generateDump(dumpOptions)].join(""));
}
