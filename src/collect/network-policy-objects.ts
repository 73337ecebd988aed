/**
 * Schema checks and conversion of `kubectl get networkpolicies -A -o json` and
 * `kubectl get namespaces -o json` lists into the plain types of model/network-policy.ts, with the
 * line of each object's uid for evidence. Pure (no I/O); a bad item is skipped and reported with its
 * field path, a file that is not a list of the kind throws {@linkcode BundleSchemaError}.
 */
import type { ObjectMeta } from "../model/cluster.ts";
import type {
  IPBlock,
  LabelSelector,
  LabelSelectorRequirement,
  Namespace,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  PolicyType,
} from "../model/network-policy.ts";
import {
  arr,
  describe,
  ItemError,
  isObj,
  type Json,
  obj,
  optObj,
  optStr,
  port,
  str,
  strList,
  strMap,
} from "./json-checks.ts";
import { BundleSchemaError, type ObjectProblem, uidLines } from "./kube-objects.ts";

function meta(item: Json, namespaced: boolean): ObjectMeta {
  const m = obj(item.metadata, "metadata");
  const name = str(m.name, "metadata.name");
  const namespace = optStr(m.namespace, "metadata.namespace");
  if (namespaced && namespace === undefined) throw new ItemError("metadata.namespace: missing");
  const uid = optStr(m.uid, "metadata.uid");
  const labels = strMap(m.labels, "metadata.labels");
  return {
    name,
    ...(namespace === undefined ? {} : { namespace }),
    ...(uid === undefined ? {} : { uid }),
    ...(labels === undefined ? {} : { labels }),
  };
}

const OPERATORS = new Set(["In", "NotIn", "Exists", "DoesNotExist"]);

function selector(v: unknown, path: string): LabelSelector {
  const s = obj(v, path);
  const matchLabels = strMap(s.matchLabels, `${path}.matchLabels`);
  const exprs = arr(s.matchExpressions, `${path}.matchExpressions`).map((x, i): LabelSelectorRequirement => {
    const p = `${path}.matchExpressions[${i}]`;
    const e = obj(x, p);
    const operator = str(e.operator, `${p}.operator`);
    if (!OPERATORS.has(operator)) {
      throw new ItemError(
        `${p}.operator: expected In, NotIn, Exists or DoesNotExist, got ${describe(operator)}`,
      );
    }
    const values = strList(e.values, `${p}.values`);
    return {
      key: str(e.key, `${p}.key`),
      operator: operator as LabelSelectorRequirement["operator"],
      values,
    };
  });
  return {
    ...(matchLabels === undefined ? {} : { matchLabels }),
    ...(exprs.length === 0 ? {} : { matchExpressions: exprs }),
  };
}

function optSelector(v: unknown, path: string): LabelSelector | undefined {
  return v === undefined || v === null ? undefined : selector(v, path);
}

function peer(v: unknown, path: string): NetworkPolicyPeer {
  const p = obj(v, path);
  const podSelector = optSelector(p.podSelector, `${path}.podSelector`);
  const namespaceSelector = optSelector(p.namespaceSelector, `${path}.namespaceSelector`);
  const ib = optObj(p.ipBlock, `${path}.ipBlock`);
  const ipBlock: IPBlock | undefined =
    ib === undefined
      ? undefined
      : { cidr: str(ib.cidr, `${path}.ipBlock.cidr`), except: strList(ib.except, `${path}.ipBlock.except`) };
  return {
    ...(podSelector === undefined ? {} : { podSelector }),
    ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
    ...(ipBlock === undefined ? {} : { ipBlock }),
  };
}

function policyPort(v: unknown, path: string): NetworkPolicyPort {
  const p = obj(v, path);
  const protocol = optStr(p.protocol, `${path}.protocol`);
  let value: number | string | undefined;
  if (typeof p.port === "string") value = /^\d+$/.test(p.port) ? Number(p.port) : p.port;
  else if (p.port !== undefined && p.port !== null) value = port(p.port, `${path}.port`);
  const endPort =
    p.endPort === undefined || p.endPort === null ? undefined : port(p.endPort, `${path}.endPort`);
  return {
    ...(protocol === undefined ? {} : { protocol }),
    ...(value === undefined ? {} : { port: value }),
    ...(endPort === undefined ? {} : { endPort }),
  };
}

function toNetworkPolicy(item: Json): NetworkPolicy {
  const spec = obj(item.spec, "spec");
  const types = strList(spec.policyTypes, "spec.policyTypes").map((t, i) => {
    if (t !== "Ingress" && t !== "Egress") {
      throw new ItemError(`spec.policyTypes[${i}]: expected Ingress or Egress, got ${describe(t)}`);
    }
    return t as PolicyType;
  });
  const rules = (key: "ingress" | "egress", peers: "from" | "to") =>
    arr(spec[key], `spec.${key}`).map((x, i) => {
      const p = `spec.${key}[${i}]`;
      const r = obj(x, p);
      return {
        [peers]: arr(r[peers], `${p}.${peers}`).map((y, j) => peer(y, `${p}.${peers}[${j}]`)),
        ports: arr(r.ports, `${p}.ports`).map((y, j) => policyPort(y, `${p}.ports[${j}]`)),
      };
    });
  return {
    metadata: meta(item, true),
    podSelector: selector(spec.podSelector ?? {}, "spec.podSelector"),
    ...(spec.policyTypes === undefined || spec.policyTypes === null ? {} : { policyTypes: types }),
    ...(spec.ingress === undefined || spec.ingress === null ? {} : { ingress: rules("ingress", "from") }),
    ...(spec.egress === undefined || spec.egress === null ? {} : { egress: rules("egress", "to") }),
  };
}

function toNamespace(item: Json): Namespace {
  return { metadata: meta(item, false) };
}

type Kind = "NetworkPolicy" | "Namespace";

interface KindTypes {
  NetworkPolicy: NetworkPolicy;
  Namespace: Namespace;
}

const CONVERT = { NetworkPolicy: toNetworkPolicy, Namespace: toNamespace } as const;

/**
 * Checks that `data` (JSON-parsed from `file`) is a list of `kind` and converts each valid item;
 * invalid items are skipped and returned as problems naming the item and field.
 *
 * @throws {BundleSchemaError} When the file is not a list of that kind at all.
 */
export function convertPolicyList<K extends Kind>(
  kind: K,
  data: unknown,
  options: { readonly file: string; readonly text?: string },
): { items: KindTypes[K][]; problems: ObjectProblem[] } {
  const { file } = options;
  const command =
    kind === "NetworkPolicy" ? "kubectl get networkpolicies -A -o json" : "kubectl get namespaces -o json";
  if (!isObj(data) || (data.kind !== `${kind}List` && data.kind !== "List") || !Array.isArray(data.items)) {
    throw new BundleSchemaError(`Cannot read ${file}: expected a ${kind}List (${command})`);
  }
  const lines = options.text === undefined ? new Map<string, number>() : uidLines(options.text);
  const items: KindTypes[K][] = [];
  const problems: ObjectProblem[] = [];
  (data.items as unknown[]).forEach((raw, i) => {
    const m = isObj(raw) && isObj(raw.metadata) ? raw.metadata : {};
    const uid = typeof m.uid === "string" ? m.uid : undefined;
    const line = uid === undefined ? undefined : lines.get(uid);
    const label = [m.namespace, m.name].filter((x) => typeof x === "string").join("/");
    try {
      const item = obj(raw, "item");
      if (item.kind !== undefined && item.kind !== kind)
        throw new ItemError(`kind: expected ${kind}, got ${describe(item.kind)}`);
      const converted = (CONVERT[kind] as (j: Json) => KindTypes[K])(item);
      items.push({ ...converted, source: line === undefined ? { file } : { file, line } });
    } catch (error) {
      if (!(error instanceof ItemError)) throw error;
      problems.push({
        file,
        ...(line === undefined ? {} : { line }),
        message: `Cannot read ${file} items[${i}]${label === "" ? "" : ` (${label})`}: ${error.message}`,
      });
    }
  });
  return { items, problems };
}
