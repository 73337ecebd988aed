/**
 * Writes an overlay lab as a netdoctor bundle: `cluster/*.json` in `kubectl get -o json` shape
 * (nodes with flannel's annotations, pods, Services, EndpointSlices) and `nodes/NODE/` from the real
 * commands of src/collect/node-commands.ts run in each node's namespace, through the same
 * bundle writer as `collect`.
 */

import { writeFile } from "node:fs/promises";
import { release } from "node:os";
import { join } from "node:path";
import {
  createBundleDir,
  createNodeDir,
  writeBundleFile,
  writeBundleJson,
  writeNodeResults,
} from "../collect/bundle-writer.ts";
import type { CommandResult } from "../collect/command-result.ts";
import { NODE_COMMANDS } from "../collect/node-commands.ts";
import {
  ANNOTATION_BACKEND_DATA,
  ANNOTATION_BACKEND_TYPE,
  ANNOTATION_PUBLIC_IP,
} from "../hostnet/flannel-node.ts";
import type { OverlayLab } from "./overlay-lab.ts";
import { nsTry } from "./overlay-lab-ns.ts";

/** A Service of the lab, with its endpoints (pod names). */
export interface LabService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string;
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
  readonly targetPort: number;
  /** Pod names whose IPs are the ready endpoints. */
  readonly endpoints: readonly string[];
}

export interface LabBundleOptions {
  readonly services?: readonly LabService[];
  /** `status.nodeInfo.kernelVersion` of every node (default: this machine's `uname -r`). */
  readonly kernelVersion?: string;
}

function list(kind: string, items: readonly unknown[]): string {
  return `${JSON.stringify({ apiVersion: "v1", kind: `${kind}List`, items }, null, 2)}\n`;
}

function nodesJson(lab: OverlayLab, kernelVersion: string): string {
  let i = 0;
  return list(
    "Node",
    [...lab.nodes.values()].map((n) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: n.spec.name,
        uid: `10000000-0000-4000-8000-${String(++i).padStart(12, "0")}`,
        annotations: {
          [ANNOTATION_BACKEND_DATA]: JSON.stringify({ VNI: 1, VtepMAC: n.vtepMac }),
          [ANNOTATION_BACKEND_TYPE]: "vxlan",
          "flannel.alpha.coreos.com/kube-subnet-manager": "true",
          [ANNOTATION_PUBLIC_IP]: n.publicIp,
        },
      },
      spec: { podCIDR: n.podCidr, podCIDRs: [n.podCidr] },
      status: {
        addresses: [
          { type: "InternalIP", address: n.eth0Ip },
          { type: "Hostname", address: n.spec.name },
        ],
        conditions: [{ type: "Ready", status: "True" }],
        nodeInfo: { kernelVersion, kubeletVersion: "v1.30.6+k3s1", osImage: "netdoctor overlay lab" },
      },
    })),
  );
}

function podsJson(lab: OverlayLab): string {
  return list(
    "Pod",
    [...lab.pods.values()].map((p) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: p.spec.name,
        namespace: p.spec.namespace ?? "default",
        uid: p.uid,
        labels: p.spec.labels ?? {},
      },
      spec: {
        nodeName: p.node,
        containers: [
          {
            name: "app",
            image: "lab",
            ports: [
              ...(p.spec.tcpPorts ?? []).map((port) => ({ containerPort: port, protocol: "TCP" })),
              ...(p.spec.udpPorts ?? []).map((port) => ({ containerPort: port, protocol: "UDP" })),
            ],
          },
        ],
      },
      status: {
        phase: "Running",
        podIP: p.spec.ip,
        podIPs: [{ ip: p.spec.ip }],
        conditions: [{ type: "Ready", status: "True" }],
      },
    })),
  );
}

function servicesJson(services: readonly LabService[]): string {
  return list(
    "Service",
    services.map((s, i) => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: s.name,
        namespace: s.namespace,
        uid: `20000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
      },
      spec: {
        type: "ClusterIP",
        clusterIP: s.clusterIP,
        clusterIPs: [s.clusterIP],
        ports: [{ name: "p", port: s.port, protocol: s.protocol, targetPort: s.targetPort }],
      },
    })),
  );
}

function slicesJson(lab: OverlayLab, services: readonly LabService[]): string {
  return list(
    "EndpointSlice",
    services.map((s, i) => ({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      addressType: "IPv4",
      metadata: {
        name: `${s.name}-x${i}`,
        namespace: s.namespace,
        uid: `30000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
        labels: { "kubernetes.io/service-name": s.name },
      },
      endpoints: s.endpoints
        .map((name) => lab.pods.get(name))
        .filter((p) => p !== undefined)
        .map((p) => ({
          addresses: [p.spec.ip],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: p.node,
          targetRef: { kind: "Pod", namespace: p.spec.namespace ?? "default", name: p.spec.name },
        })),
      ports: [{ name: "p", port: s.targetPort, protocol: s.protocol }],
    })),
  );
}

/** Runs every node command in the node's namespace, as the collector would on the node. */
async function collectNode(lab: OverlayLab, node: string, dir: string): Promise<void> {
  const ns = lab.node(node).ns;
  const results: CommandResult[] = [];
  for (const c of NODE_COMMANDS) {
    const r = nsTry(ns, c.argv);
    const stdoutPath = join(dir, `${c.stem}.stdout.part`);
    await writeFile(stdoutPath, r.stdout, { mode: 0o600 });
    results.push({
      stem: c.stem,
      exit: r.exit,
      stdoutPath,
      stdoutBytes: Buffer.byteLength(r.stdout),
      stderr: r.stderr,
    });
  }
  await writeNodeResults(dir, results);
}

/** Writes the lab as a bundle into the empty (or new) directory `out`. */
export async function writeLabBundle(
  lab: OverlayLab,
  out: string,
  options: LabBundleOptions = {},
): Promise<void> {
  const services = options.services ?? [];
  await createBundleDir(out);
  await writeBundleJson(out, { cluster: `overlay-lab-${lab.area}`, collectedAt: new Date().toISOString() });
  await writeBundleFile(
    join(out, "cluster", "nodes.json"),
    nodesJson(lab, options.kernelVersion ?? release()),
  );
  await writeBundleFile(join(out, "cluster", "pods.json"), podsJson(lab));
  await writeBundleFile(join(out, "cluster", "services.json"), servicesJson(services));
  await writeBundleFile(join(out, "cluster", "endpointslices.json"), slicesJson(lab, services));
  for (const [node, n] of lab.nodes) {
    const dir = await createNodeDir(out, node);
    await collectNode(lab, node, dir);
    // /run is the machine's own in a namespace: the lab writes the file flannel would have written
    // (FLANNEL_SUBNET is the first address of the node's pod CIDR) instead of touching the host.
    await writeBundleFile(
      join(dir, "flannel-subnet.env"),
      `FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.${n.spec.index}.1/24\nFLANNEL_MTU=${n.flannelMtu}\nFLANNEL_IPMASQ=true\n`,
    );
  }
}
