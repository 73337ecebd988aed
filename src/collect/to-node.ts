/** Nodes of a bundle's `cluster/nodes.json`, checked and converted to the cluster model. */
import type { Node } from "../model/cluster.ts";
import { arr, type Json, obj, optObj, optStr, str } from "./json-checks.ts";
import { objectMeta } from "./object-meta.ts";

/**
 * One item of `kubectl get nodes -o json` as a {@linkcode Node}: addresses, pod CIDR, versions and
 * readiness.
 *
 * @throws {ItemError} When a field has the wrong type.
 */
export function toNode(item: Json): Node {
  const spec = optObj(item.spec, "spec") ?? {};
  const status = optObj(item.status, "status") ?? {};
  const info = optObj(status.nodeInfo, "status.nodeInfo") ?? {};
  const conditions = arr(status.conditions, "status.conditions").map((c, i) =>
    obj(c, `status.conditions[${i}]`),
  );
  const readyCond = conditions.find((c) => c.type === "Ready");
  const podCIDR = optStr(spec.podCIDR, "spec.podCIDR");
  const kubelet = optStr(info.kubeletVersion, "status.nodeInfo.kubeletVersion");
  const proxy = optStr(info.kubeProxyVersion, "status.nodeInfo.kubeProxyVersion");
  const os = optStr(info.osImage, "status.nodeInfo.osImage");
  return {
    metadata: objectMeta(item, false),
    addresses: arr(status.addresses, "status.addresses").map((x, i) => {
      const a = obj(x, `status.addresses[${i}]`);
      return {
        type: str(a.type, `status.addresses[${i}].type`),
        address: str(a.address, `status.addresses[${i}].address`),
      };
    }),
    ...(podCIDR === undefined ? {} : { podCIDR }),
    ...(kubelet === undefined ? {} : { kubeletVersion: kubelet }),
    ...(proxy === undefined ? {} : { kubeProxyVersion: proxy }),
    ...(os === undefined ? {} : { osImage: os }),
    ...(readyCond === undefined ? {} : { ready: readyCond.status === "True" }),
  };
}
