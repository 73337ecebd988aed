import { describe, expect, it } from "vitest";
import { podEnvironment } from "./pod-environment.ts";

const POD = {
  metadata: { name: "gw-1", namespace: "eopx", labels: { app: "gw" } },
  spec: {
    nodeName: "agent1",
    containers: [
      {
        name: "gw",
        envFrom: [
          { configMapRef: { name: "gw-env" } },
          { configMapRef: { name: "extra" }, prefix: "X_" },
          { secretRef: { name: "creds" } },
        ],
        env: [
          { name: "NACOS_HOST", value: "10.42.1.17" },
          { name: "URL", value: "http://$(NACOS_HOST):$(PORT)/$$(literal)" },
          { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
          { name: "FROM_CM", valueFrom: { configMapKeyRef: { name: "gw-env", key: "PORT" } } },
          { name: "MISSING_CM", valueFrom: { configMapKeyRef: { name: "nope", key: "k" } } },
          { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        ],
      },
      { name: "sidecar", env: [{ name: "S", value: "1" }] },
    ],
  },
  status: { podIP: "10.42.2.5" },
};
const CMS = [
  {
    metadata: { name: "gw-env", namespace: "eopx" },
    data: { PORT: "8848", NACOS_HOST: "overridden-by-env" },
  },
  { metadata: { name: "extra", namespace: "eopx" }, data: { A: "a" } },
  { metadata: { name: "gw-env", namespace: "other" }, data: { PORT: "1" } },
];

describe("podEnvironment()", () => {
  it("builds the container's env as the kubelet does, never reading Secrets", () => {
    const { container, env, notes } = podEnvironment(POD, {
      configMaps: CMS,
      file: "cluster/pods.json",
      lineOf: (n) => (n === "NACOS_HOST" ? 42 : undefined),
    });
    expect(container).toBe("gw");
    const values = Object.fromEntries(
      [...env].map(([k, v]) => [
        k,
        v.value ?? (v.secret ? `secret:${v.secret.name}/${v.secret.key}` : `unknown:${v.unknown}`),
      ]),
    );
    expect(values).toEqual({
      PORT: "8848",
      NACOS_HOST: "10.42.1.17",
      X_A: "a",
      URL: "http://10.42.1.17:8848/$(literal)",
      DB_PASSWORD: "secret:db/password",
      FROM_CM: "8848",
      MISSING_CM: "unknown:ConfigMap eopx/nope key k is not in the bundle",
      POD_IP: "10.42.2.5",
      APP: "gw",
    });
    expect(env.get("NACOS_HOST")?.source).toBe("cluster/pods.json:42 (pod eopx/gw-1, container gw)");
    expect(notes).toEqual([
      "envFrom Secret eopx/creds sets variables netdoctor does not read: any placeholder may come from it",
    ]);
  });

  it("picks a container by name and says which exist when it is missing", () => {
    expect([...podEnvironment(POD, { container: "sidecar" }).env.keys()]).toEqual(["S"]);
    expect(() => podEnvironment(POD, { container: "nope" })).toThrow(
      'Cannot find container "nope" in pod eopx/gw-1: it has gw, sidecar',
    );
  });

  it("includes Spring config files of a ConfigMap mounted in a config/ directory, and only names the others", () => {
    const pod = {
      metadata: { name: "gw-1", namespace: "eopx" },
      spec: {
        containers: [
          {
            name: "gw",
            volumeMounts: [
              { name: "cfg", mountPath: "/app/config/" },
              { name: "other", mountPath: "/etc/x" },
            ],
          },
        ],
        volumes: [
          { name: "cfg", configMap: { name: "gw-config" } },
          { name: "other", configMap: { name: "other-config" } },
        ],
      },
    };
    const cms = [
      {
        metadata: { name: "gw-config", namespace: "eopx" },
        data: { "application.yaml": "a: 1\n", "logback.xml": "<x/>" },
      },
      { metadata: { name: "other-config", namespace: "eopx" }, data: { "application.yml": "b: 2\n" } },
    ];
    const r = podEnvironment(pod, { configMaps: cms });
    expect(r.mountedFiles).toEqual([
      { path: "configmap:eopx/gw-config/config/application.yaml", text: "a: 1\n" },
    ]);
    expect(r.notes).toEqual([
      "ConfigMap eopx/gw-config mounted at /app/config/ adds application.yaml above the jar's own files",
      "ConfigMap eopx/other-config holds application.yml (mounted at /etc/x): not included; Spring reads it only from ./config/ or spring.config.location",
    ]);
  });
});

describe("serviceLinks()", () => {
  it("sets the kubelet's variables for Services of the namespace, overridden by the container's env", () => {
    const services = [
      {
        metadata: { name: "nacos", namespace: "eopx", creationTimestamp: "2024-01-01T00:00:00Z" },
        spec: { clusterIP: "10.43.0.5", ports: [{ name: "http", port: 8848, protocol: "TCP" }] },
      },
      {
        metadata: { name: "later", namespace: "eopx", creationTimestamp: "2025-06-01T00:00:00Z" },
        spec: { clusterIP: "10.43.0.6", ports: [{ port: 1 }] },
      },
      {
        metadata: { name: "headless", namespace: "eopx" },
        spec: { clusterIP: "None", ports: [{ port: 2 }] },
      },
      {
        metadata: { name: "kubernetes", namespace: "default" },
        spec: { clusterIP: "10.43.0.1", ports: [{ name: "https", port: 443 }] },
      },
      {
        metadata: { name: "elsewhere", namespace: "other" },
        spec: { clusterIP: "10.43.0.7", ports: [{ port: 3 }] },
      },
    ];
    const pod = {
      metadata: { name: "gw-1", namespace: "eopx", creationTimestamp: "2025-01-01T00:00:00Z" },
      spec: { containers: [{ name: "gw", env: [{ name: "NACOS_SERVICE_HOST", value: "mine" }] }] },
    };
    const env = podEnvironment(pod, { services }).env;
    expect(env.get("NACOS_PORT")).toEqual({
      name: "NACOS_PORT",
      value: "tcp://10.43.0.5:8848",
      source: "service link of Service eopx/nacos",
    });
    expect(env.get("NACOS_SERVICE_PORT_HTTP")?.value).toBe("8848");
    expect(env.get("NACOS_PORT_8848_TCP_ADDR")?.value).toBe("10.43.0.5");
    expect(env.get("NACOS_SERVICE_HOST")?.value).toBe("mine");
    expect(env.get("KUBERNETES_SERVICE_HOST")?.value).toBe("10.43.0.1");
    expect([...env.keys()].filter((k) => /^(LATER|HEADLESS|ELSEWHERE)_/.test(k))).toEqual([]);
    const noLinks = { ...pod, spec: { ...pod.spec, enableServiceLinks: false } };
    expect(podEnvironment(noLinks, { services }).env.has("NACOS_PORT")).toBe(false);
  });
});
