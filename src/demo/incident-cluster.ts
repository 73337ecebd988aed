/** The demo cluster's nodes and the eopx platform's ordinary apps (src/demo/incident.ts tells the story). */

export const K3S = "v1.23.6+k3s1";
/** Each node's MACs: flannel.1 (the VtepMAC of its flannel annotations), eth0 and cni0. */
export const NODES = [
  {
    name: "master1",
    ip: "192.168.10.11",
    podCIDR: "10.42.0.0/24",
    roles: ["control-plane", "master", "etcd"],
    vtepMac: "2e:8c:41:d5:6a:07",
    ethMac: "52:54:00:3a:91:11",
    cniMac: "a6:1f:72:0c:e4:b8",
  },
  {
    name: "master2",
    ip: "192.168.10.12",
    podCIDR: "10.42.1.0/24",
    roles: ["control-plane", "master", "etcd"],
    vtepMac: "d2:5b:09:7e:c3:41",
    ethMac: "52:54:00:3a:91:12",
    cniMac: "fa:60:2d:b1:88:5c",
  },
  {
    name: "prod-agent1",
    ip: "192.168.10.21",
    podCIDR: "10.42.2.0/24",
    roles: [] as string[],
    vtepMac: "76:e2:1a:4f:0b:9d",
    ethMac: "52:54:00:3a:91:21",
    cniMac: "3e:a9:c4:57:16:f2",
  },
] as const;
export const IP = {
  master1: "192.168.10.11",
  master2: "192.168.10.12",
  "prod-agent1": "192.168.10.21",
} as const;

export const REGISTER_IP = "10.42.1.23";
export const REGISTER_OLD_IP = "10.42.2.17";

/** The rest of the eopx platform: ordinary Deployments whose rules make a healthy node's ~200 rules. */
export const APPS = [
  {
    name: "eopx-auth",
    port: 9000,
    clusterIP: "10.43.41.17",
    rs: "6b8d9f7c4d",
    pods: [
      ["master1", "10.42.0.21", "h7k2p"],
      ["master2", "10.42.1.33", "t9w4x"],
      ["prod-agent1", "10.42.2.45", "q2m8z"],
    ],
  },
  {
    name: "eopx-user",
    port: 9001,
    clusterIP: "10.43.152.88",
    rs: "58f6c9b7d5",
    pods: [
      ["master2", "10.42.1.41", "c3v7n"],
      ["prod-agent1", "10.42.2.52", "x8d4k"],
    ],
  },
  {
    name: "eopx-message",
    port: 9002,
    clusterIP: "10.43.97.230",
    rs: "7c5d8b6f9a",
    pods: [
      ["master1", "10.42.0.27", "m5r2t"],
      ["master2", "10.42.1.47", "j6p9w"],
    ],
  },
  {
    name: "eopx-file",
    port: 9003,
    clusterIP: "10.43.201.64",
    rs: "5d9b7c8f6e",
    pods: [
      ["prod-agent1", "10.42.2.58", "b4n7q"],
      ["master1", "10.42.0.33", "v8k3s"],
    ],
  },
  {
    name: "eopx-job-admin",
    port: 8090,
    clusterIP: "10.43.128.5",
    rs: "6f7b9d5c8b",
    pods: [["master2", "10.42.1.52", "z2h6m"]],
  },
  {
    name: "eopx-redis",
    port: 6379,
    clusterIP: "10.43.66.199",
    rs: "",
    pods: [["master1", "10.42.0.40", "0"]],
  },
  {
    name: "eopx-mysql",
    port: 3306,
    clusterIP: "10.43.12.140",
    rs: "",
    pods: [["master2", "10.42.1.60", "0"]],
  },
] as const;

export function appPodName(app: (typeof APPS)[number], suffix: string): string {
  return app.rs === "" ? `${app.name}-${suffix}` : `${app.name}-${app.rs}-${suffix}`;
}
