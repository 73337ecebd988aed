/**
 * What `diagnose` must say about the overlay lab's cases (issue 17, done-when): per case, the
 * question asked of the collected bundle and, written by hand from how the case breaks the lab, the
 * status of the route / overlay / endpoint-node links, and for the broken one the node where the
 * path stops, the catalogue code that proves it, its node, and the files its evidence must cite.
 * overlay-lab.test.ts also checks each expectation against the kernel's outcome of the probes.
 */
import type { LinkStatus } from "../model/diagnosis.ts";

export type PathLinkStatus = Readonly<Record<"route" | "overlay" | "endpoint-node", LinkStatus>>;

export interface LabDiagnosis {
  readonly from: string;
  /** `--to` as a person types it (a pod IP or ClusterIP with its port). */
  readonly to: string;
  readonly links: PathLinkStatus;
  readonly broken?: {
    /** The node the detail names as where the path stops. */
    readonly at: string;
    /** Codes that may prove it (the first error the checks give for the cause). */
    readonly codes: readonly string[];
    readonly proofNode: string;
    /** Every one must be cited by the proof (or the findings that go with it). */
    readonly files: readonly RegExp[];
  };
}

const OK: PathLinkStatus = { route: "ok", overlay: "ok", "endpoint-node": "ok" };
const LOCAL_OK: PathLinkStatus = {
  route: "not-applicable",
  overlay: "not-applicable",
  "endpoint-node": "ok",
};
const ROUTE: PathLinkStatus = {
  route: "broken",
  overlay: "not-applicable",
  "endpoint-node": "not-applicable",
};
const OVERLAY: PathLinkStatus = { route: "ok", overlay: "broken", "endpoint-node": "not-applicable" };
const ENDPOINT: PathLinkStatus = { route: "ok", overlay: "ok", "endpoint-node": "broken" };
const B = "198.18.2.10:8080";
const C = "198.18.3.10:8080";

/** By case name (overlay-lab-cases*.ts); asked of the case's last bundle (after `change`). */
export const LAB_DIAGNOSES: Readonly<Record<string, readonly LabDiagnosis[]>> = {
  healthy: [
    { from: "default/a1", to: B, links: OK },
    { from: "default/a1", to: C, links: OK },
    { from: "default/a1", to: "198.18.1.11:8080", links: LOCAL_OK },
    { from: "default/b1", to: "198.18.1.10:8080", links: OK },
  ],
  "route-missing": [
    {
      from: "default/a1",
      to: B,
      links: ROUTE,
      broken: {
        at: "node-a",
        codes: ["overlay-route-missing"],
        proofNode: "node-a",
        files: [/^nodes\/node-a\/ip-route\.json$/],
      },
    },
    { from: "default/a1", to: C, links: OK },
  ],
  "neighbor-missing": [
    {
      from: "default/a1",
      to: B,
      links: OVERLAY,
      broken: {
        at: "node-a",
        codes: ["overlay-neighbor-missing"],
        proofNode: "node-a",
        files: [/^nodes\/node-a\/ip-neigh\.json$/],
      },
    },
  ],
  "fdb-missing": [
    {
      from: "default/a1",
      to: B,
      links: OVERLAY,
      broken: {
        at: "node-a",
        codes: ["overlay-fdb-missing"],
        proofNode: "node-a",
        files: [/^nodes\/node-a\/bridge-fdb\.json$/],
      },
    },
  ],
  // The frame is dropped by node-b (for a MAC its new VTEP does not have); the cause is node-a's
  // stale entries, whose evidence cites node-b's flannel.1 too.
  "vtep-mac-changed": [
    {
      from: "default/a1",
      to: B,
      links: OVERLAY,
      broken: {
        at: "node-b",
        codes: ["overlay-neighbor-stale", "overlay-fdb-stale"],
        proofNode: "node-a",
        files: [/^nodes\/node-a\/(ip-neigh|bridge-fdb)\.json$/, /^nodes\/node-b\/ip-link\.json$/],
      },
    },
    { from: "default/a1", to: C, links: OK },
  ],
  // Every node's flannel.1 is bound to the same NAT address: VXLAN to a peer comes back to node-a
  // until the TTL runs out.
  "nat-interface": [
    {
      from: "default/a1",
      to: B,
      links: OVERLAY,
      broken: {
        at: "node-a",
        codes: ["overlay-public-ip-duplicate"],
        proofNode: "node-a",
        files: [/^cluster\/nodes\.json$/],
      },
    },
  ],
  "asymmetric-rp-strict": [
    {
      from: "default/a1",
      to: B,
      links: OVERLAY,
      broken: {
        at: "node-b",
        codes: ["rp-filter-drop"],
        proofNode: "node-b",
        files: [/^nodes\/node-b\/sysctl\.txt$/],
      },
    },
  ],
  "asymmetric-rp-loose": [{ from: "default/a1", to: B, links: OK }],
  // Small packets pass (the question's packet is small); full-size ones are lost, which the MTU
  // checks show: the overlay is at risk, not broken.
  "mtu-mismatch": [
    { from: "default/a1", to: B, links: { route: "ok", overlay: "at-risk", "endpoint-node": "ok" } },
  ],
  "ip-forward-off-receiver": [
    {
      from: "default/a1",
      to: B,
      links: ENDPOINT,
      broken: {
        at: "node-b",
        codes: ["ip-forward-disabled"],
        proofNode: "node-b",
        files: [/^nodes\/node-b\/sysctl\.txt$/],
      },
    },
  ],
  "ip-forward-off-sender": [
    {
      from: "default/a1",
      to: B,
      links: ROUTE,
      broken: {
        at: "node-a",
        codes: ["ip-forward-disabled"],
        proofNode: "node-a",
        files: [/^nodes\/node-a\/sysctl\.txt$/],
      },
    },
    { from: "default/a1", to: "198.18.1.11:8080", links: LOCAL_OK },
  ],
  "forward-drop": [
    {
      from: "default/a1",
      to: B,
      links: ENDPOINT,
      broken: {
        at: "node-b",
        codes: ["node-rules-drop"],
        proofNode: "node-b",
        files: [/^nodes\/node-b\/iptables-save\.txt$/],
      },
    },
  ],
  "vxlan-port-blocked": [
    {
      from: "default/a1",
      to: B,
      links: OVERLAY,
      broken: {
        at: "node-b",
        codes: ["node-rules-drop"],
        proofNode: "node-b",
        files: [/^nodes\/node-b\/iptables-save\.txt$/],
      },
    },
  ],
  // The client's resolver flow (source port 40053) is pinned to the dead CoreDNS pod; the
  // Service's rules send new flows to the new pod.
  "stale-conntrack-dns": [
    {
      from: "default/a1",
      to: "198.19.0.10:53",
      links: ENDPOINT,
      broken: {
        at: "node-a",
        codes: ["conntrack-stale-endpoint"],
        proofNode: "node-a",
        files: [/^nodes\/node-a\/conntrack\.txt$/, /^cluster\/services\.json$/],
      },
    },
  ],
  "hairpin-bridge-nf-off": [
    {
      from: "default/a1",
      to: "198.19.0.20:80",
      links: { route: "not-applicable", overlay: "not-applicable", "endpoint-node": "broken" },
      broken: {
        at: "node-a",
        codes: ["bridge-nf-disabled"],
        proofNode: "node-a",
        files: [/^nodes\/node-a\/sysctl\.txt$/],
      },
    },
  ],
  "hairpin-bridge-nf-on": [{ from: "default/a1", to: "198.19.0.20:80", links: LOCAL_OK }],
};
