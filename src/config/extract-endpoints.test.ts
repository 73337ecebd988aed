// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring placeholders are the data under test
import { describe, expect, it } from "vitest";
import { discoverConfig } from "./discover-config.ts";

function endpoints(text: string) {
  return discoverConfig([{ path: "application.yml", text }]).endpoints.map((e) => [
    e.property,
    e.host,
    e.port ?? null,
    e.defaultPort === true,
    e.scheme ?? null,
  ]);
}

describe("extractEndpoints()", () => {
  it.each([
    [
      "spring.datasource.url: jdbc:mysql://db:3307/x?a=b",
      [["spring.datasource.url", "db", 3307, false, "jdbc:mysql"]],
    ],
    [
      "spring.datasource.url: jdbc:postgresql://pg/x",
      [["spring.datasource.url", "pg", 5432, true, "jdbc:postgresql"]],
    ],
    [
      "spring.datasource.url: jdbc:sqlserver://sql:1444;databaseName=x",
      [["spring.datasource.url", "sql", 1444, false, "jdbc:sqlserver"]],
    ],
    [
      "spring.datasource.url: jdbc:oracle:thin:@ora:1522:ORCL",
      [["spring.datasource.url", "ora", 1522, false, "jdbc:oracle"]],
    ],
    [
      "spring.datasource.url: jdbc:oracle:thin:@//ora/svc",
      [["spring.datasource.url", "ora", 1521, true, "jdbc:oracle"]],
    ],
    ["spring.datasource.url: jdbc:h2:mem:test", []],
    [
      "spring.data.redis.url: rediss://:secret@cache:6380",
      [["spring.data.redis.url", "cache", 6380, false, "rediss"]],
    ],
    [
      "spring.data.mongodb.uri: mongodb://u:p@m1:27018,m2,m3:27019/db?replicaSet=rs",
      [
        ["spring.data.mongodb.uri", "m1", 27018, false, "mongodb"],
        ["spring.data.mongodb.uri", "m2", 27017, true, "mongodb"],
        ["spring.data.mongodb.uri", "m3", 27019, false, "mongodb"],
      ],
    ],
    [
      "spring.data.mongodb.uri: mongodb+srv://cluster0.example.net/db",
      [["spring.data.mongodb.uri", "cluster0.example.net", null, false, "mongodb+srv"]],
    ],
    [
      "spring.rabbitmq.addresses: amqp://mq1:5673,mq2",
      [
        ["spring.rabbitmq.addresses", "mq1", 5673, false, "amqp"],
        ["spring.rabbitmq.addresses", "mq2", 5672, true, null],
      ],
    ],
    [
      "spring.cloud.nacos.discovery.server-addr: n1:8848,n2:8849, n3",
      [
        ["spring.cloud.nacos.discovery.server-addr", "n1", 8848, false, null],
        ["spring.cloud.nacos.discovery.server-addr", "n2", 8849, false, null],
        ["spring.cloud.nacos.discovery.server-addr", "n3", 8848, true, null],
      ],
    ],
    [
      "spring.kafka.bootstrap-servers:\n  - k1:9093\n  - k2",
      [
        ["spring.kafka.bootstrap-servers[0]", "k1", 9093, false, null],
        ["spring.kafka.bootstrap-servers[1]", "k2", 9092, true, null],
      ],
    ],
    [
      "eureka.client.service-url.defaultZone: http://e1:8761/eureka/,https://e2/eureka/",
      [
        ["eureka.client.service-url.defaultZone", "e1", 8761, false, "http"],
        ["eureka.client.service-url.defaultZone", "e2", 443, true, "https"],
      ],
    ],
    [
      "spring.cloud.config.uri: http://[fd00::1]:8888",
      [["spring.cloud.config.uri", "fd00::1", 8888, false, "http"]],
    ],
    ["spring.redis:\n  host: r1\n  port: 6380", [["spring.redis.host", "r1", 6380, false, null]]],
    ["spring.rabbitmq.host: mq", [["spring.rabbitmq.host", "mq", 5672, true, null]]],
    ["sentinel.dashboard: dash:8080", [["sentinel.dashboard", "dash", 8080, false, null]]],
    ["server:\n  port: 8080\n  address: 0.0.0.0", []],
    ["time: '10:30'", []],
  ])("finds the endpoints of %j", (text, want) => {
    expect(endpoints(text)).toEqual(want);
  });

  it("masks the password of a URL in value and origin", () => {
    const [ep] = discoverConfig([
      { path: "application.yml", text: "spring.data.redis.url: redis://app:s3cret@cache:6379\n" },
    ]).endpoints;
    expect(ep?.value).toBe("redis://app:****@cache:6379");
    expect(JSON.stringify(ep)).not.toContain("s3cret");
  });

  it("gives each address of a list only the origin parts of its own text", () => {
    const [a, b] = discoverConfig([
      { path: "application.yml", text: "x.server-addr: ${A:a1}:1,${B:b1}:2\n" },
    ]).endpoints;
    expect(a?.origin.map((o) => [o.part, o.from, o.placeholder])).toEqual([
      ["a1", "default", "A"],
      ["1", "file", undefined],
    ]);
    expect(b?.origin.map((o) => [o.part, o.from, o.placeholder])).toEqual([
      ["b1", "default", "B"],
      ["2", "file", undefined],
    ]);
  });
});
