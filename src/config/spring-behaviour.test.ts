// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring placeholders are the data under test
/**
 * A table of Spring's own behaviour, each row a config, an environment and the value Spring gives
 * a property (Spring Framework 6.2 / Spring Boot 3.4 unless the row says otherwise).
 */
import { describe, expect, it } from "vitest";
import type { ConfigFile } from "./config-types.ts";
import { type DiscoverOptions, discoverConfig } from "./discover-config.ts";
import type { EnvVarValue } from "./property-sources.ts";

function env(vars: Record<string, string>): Map<string, EnvVarValue> {
  return new Map(Object.entries(vars).map(([name, value]) => [name, { name, value }]));
}

interface Row {
  readonly name: string;
  readonly files: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly options?: DiscoverOptions;
  readonly property: string;
  /** The value Spring gives; `undefined` when the property does not exist. */
  readonly want: string | undefined;
}

const yml = (s: string) => ({ "application.yml": s });

const ROWS: readonly Row[] = [
  // Placeholders
  { name: "plain reference", files: yml("a: x\nb: ${a}\n"), property: "b", want: "x" },
  { name: "default when missing", files: yml("b: ${missing:fallback}\n"), property: "b", want: "fallback" },
  { name: "empty default", files: yml("b: x${missing:}y\n"), property: "b", want: "xy" },
  {
    name: "default keeps later colons",
    files: yml("u: ${DB_URL:jdbc:mysql://db:3306/x}\n"),
    property: "u",
    want: "jdbc:mysql://db:3306/x",
  },
  { name: "nested default", files: yml("b: ${a:${c:deep}}\n"), property: "b", want: "deep" },
  {
    name: "nested default, inner set",
    files: yml("c: mid\nb: ${a:${c:deep}}\n"),
    property: "b",
    want: "mid",
  },
  {
    name: "outer set wins over nested default",
    files: yml("a: top\nb: ${a:${c:deep}}\n"),
    property: "b",
    want: "top",
  },
  {
    name: "placeholder in the key",
    files: yml("suffix: host\nnacos.host: h1\nb: ${nacos.${suffix}}\n"),
    property: "b",
    want: "h1",
  },
  {
    name: "reference resolved recursively",
    files: yml("a: ${b}\nb: ${c}\nc: end\n"),
    property: "a",
    want: "end",
  },
  {
    name: "two placeholders",
    files: yml("s: ${H:eopx-register}:${P:8848}\n"),
    property: "s",
    want: "eopx-register:8848",
  },
  { name: "unresolvable kept as text", files: yml("b: ${nope}\n"), property: "b", want: "${nope}" },
  { name: "unterminated kept as text", files: yml('b: "x${open"\n'), property: "b", want: "x${open" },
  { name: "braces inside default", files: yml("b: ${a:{json}}\n"), property: "b", want: "{json}" },
  { name: "cycle kept as text", files: yml("a: ${b}\nb: ${a}\n"), property: "a", want: "${a}" },
  // Escapes (Spring Framework 6.2 / Boot 3.4+)
  {
    name: "escaped placeholder",
    files: { "application.properties": "b=\\\\${literal}\n" },
    property: "b",
    want: "${literal}",
  },
  { name: "escaped placeholder in YAML", files: yml("b: \\${literal}\n"), property: "b", want: "${literal}" },
  {
    name: "escaped separator in the key",
    files: { "application.properties": "a\\:b=v\nx=${a\\\\:b:def}\n" },
    property: "x",
    want: "v",
  },
  {
    name: "no escapes before 6.2",
    files: yml("a: v\nb: \\${a}\n"),
    options: { escape: null },
    property: "b",
    want: "\\v",
  },
  // Environment and relaxed binding
  {
    name: "env var by its own name",
    files: yml("s: ${NACOS_HOST:eopx-register}\n"),
    env: { NACOS_HOST: "10.42.1.17" },
    property: "s",
    want: "10.42.1.17",
  },
  {
    name: "env var found for a dotted placeholder",
    files: yml("s: ${nacos.host:x}\n"),
    env: { NACOS_HOST: "h" },
    property: "s",
    want: "h",
  },
  {
    name: "env var for a dashed placeholder (legacy _ form)",
    files: yml("s: ${my-app.host:x}\n"),
    env: { MY_APP_HOST: "h" },
    property: "s",
    want: "h",
  },
  {
    name: "env overrides a file property (dashes removed)",
    files: yml("spring.cloud.nacos.discovery.server-addr: a:1\n"),
    env: { SPRING_CLOUD_NACOS_DISCOVERY_SERVERADDR: "b:2" },
    property: "spring.cloud.nacos.discovery.server-addr",
    want: "b:2",
  },
  {
    name: "env overrides a file property (legacy dash to underscore)",
    files: yml("spring.cloud.nacos.discovery.server-addr: a:1\n"),
    env: { SPRING_CLOUD_NACOS_DISCOVERY_SERVER_ADDR: "c:3" },
    property: "spring.cloud.nacos.discovery.server-addr",
    want: "c:3",
  },
  {
    name: "env overrides a list item",
    files: yml("my:\n  hosts:\n    - a\n    - b\n"),
    env: { MY_HOSTS_1_: "x", MY_HOSTS_1: "z" },
    property: "my.hosts[1]",
    want: "z",
  },
  {
    name: "env overrides camelCase key",
    files: yml("spring.cloud.nacos.discovery.serverAddr: a:1\n"),
    env: { SPRING_CLOUD_NACOS_DISCOVERY_SERVERADDR: "b:2" },
    property: "spring.cloud.nacos.discovery.serverAddr",
    want: "b:2",
  },
  {
    name: "reference with relaxed name",
    files: yml("my.server-addr: a:1\nx: ${my.serveraddr}\n"),
    property: "x",
    want: "a:1",
  },
  {
    name: "uppercase placeholder is exact for files",
    files: yml("NACOS_HOST: f\nx: ${NACOS_HOST}\n"),
    property: "x",
    want: "f",
  },
  {
    name: "env value itself resolved",
    files: yml("a: inner\nx: ${E}\n"),
    env: { E: "v-${a}" },
    property: "x",
    want: "v-inner",
  },
  {
    name: "env-only well-known key",
    files: yml("a: 1\n"),
    env: { SPRING_DATASOURCE_URL: "jdbc:postgresql://pg/x" },
    property: "spring.datasource.url",
    want: "jdbc:postgresql://pg/x",
  },
  {
    name: "SPRING_APPLICATION_JSON over env vars",
    files: yml("spring.redis.host: file\n"),
    env: { SPRING_APPLICATION_JSON: '{"spring":{"redis":{"host":"json"}}}', SPRING_REDIS_HOST: "env" },
    property: "spring.redis.host",
    want: "json",
  },
  {
    name: "-D system property in JAVA_TOOL_OPTIONS over env vars",
    files: yml("a.b: file\nx: ${a.b}\n"),
    env: { JAVA_TOOL_OPTIONS: '-Xmx1g -Da.b="from jvm" -Dother=1', A_B: "env" },
    property: "x",
    want: "from jvm",
  },
  // Profiles and precedence
  {
    name: "profile file overrides application",
    files: { "application.yml": "a: base\nspring.profiles.active: dev\n", "application-dev.yml": "a: dev\n" },
    property: "a",
    want: "dev",
  },
  {
    name: "inactive profile file ignored",
    files: { "application.yml": "a: base\n", "application-dev.yml": "a: dev\n" },
    property: "a",
    want: "base",
  },
  {
    name: "default profile file without active profiles",
    files: { "application.yml": "a: base\n", "application-default.yml": "a: def\n" },
    property: "a",
    want: "def",
  },
  {
    name: "--profile replaces spring.profiles.active",
    files: {
      "application.yml": "a: base\nspring.profiles.active: dev\n",
      "application-dev.yml": "a: dev\n",
      "application-qa.yml": "a: qa\n",
    },
    options: { profiles: ["qa"] },
    property: "a",
    want: "qa",
  },
  {
    name: "SPRING_PROFILES_ACTIVE from env",
    files: { "application.yml": "a: base\n", "application-dev.yml": "a: dev\n" },
    env: { SPRING_PROFILES_ACTIVE: "dev" },
    property: "a",
    want: "dev",
  },
  {
    name: "spring.profiles.active with a placeholder",
    files: {
      "application.yml": "spring.profiles.active: ${P:qa}\na: base\n",
      "application-qa.yml": "a: qa\n",
    },
    property: "a",
    want: "qa",
  },
  {
    name: "last profile wins",
    files: {
      "application.yml": "spring.profiles.active: dev,qa\n",
      "application-dev.yml": "a: dev\n",
      "application-qa.yml": "a: qa\n",
    },
    property: "a",
    want: "qa",
  },
  {
    name: "profile group adds its members",
    files: {
      "application.yml": "spring.profiles.active: prod\nspring.profiles.group.prod: db,mq\n",
      "application-mq.yml": "a: mq\n",
    },
    property: "a",
    want: "mq",
  },
  {
    name: "profile group as a YAML list, with --profile",
    files: {
      "application.yml": "spring:\n  profiles:\n    group:\n      prod:\n        - db\n",
      "application-db.yml": "a: db\n",
    },
    options: { profiles: ["prod"] },
    property: "a",
    want: "db",
  },
  {
    name: "on-profile document active",
    files: yml("a: base\n---\nspring.config.activate.on-profile: dev\na: dev-doc\n"),
    options: { profiles: ["dev"] },
    property: "a",
    want: "dev-doc",
  },
  {
    name: "on-profile document inactive",
    files: yml("a: base\n---\nspring.config.activate.on-profile: dev\na: dev-doc\n"),
    property: "a",
    want: "base",
  },
  {
    name: "legacy spring.profiles document",
    files: yml("a: base\n---\nspring:\n  profiles: dev\na: legacy\n"),
    options: { profiles: ["dev"] },
    property: "a",
    want: "legacy",
  },
  {
    name: "negated profile expression",
    files: yml("a: base\n---\nspring.config.activate.on-profile: '!prod'\na: notprod\n"),
    options: { profiles: ["dev"] },
    property: "a",
    want: "notprod",
  },
  {
    name: "profile expression with &",
    files: yml("a: base\n---\nspring.config.activate.on-profile: dev & eu\na: both\n"),
    options: { profiles: ["dev"] },
    property: "a",
    want: "base",
  },
  {
    name: "on-cloud-platform kubernetes",
    files: yml("a: base\n---\nspring.config.activate.on-cloud-platform: kubernetes\na: k8s\n"),
    options: { cloudPlatform: "kubernetes" },
    property: "a",
    want: "k8s",
  },
  {
    name: "profile file over its on-profile document",
    files: {
      "application.yml": "a: base\n---\nspring.config.activate.on-profile: dev\na: doc\n",
      "application-dev.yml": "a: file\n",
    },
    options: { profiles: ["dev"] },
    property: "a",
    want: "file",
  },
  {
    name: "application overrides bootstrap",
    files: { "bootstrap.yml": "a: boot\nb: only-boot\n", "application.yml": "a: app\n" },
    property: "a",
    want: "app",
  },
  {
    name: "bootstrap-only property",
    files: { "bootstrap.yml": "a: boot\nb: only-boot\n", "application.yml": "a: app\n" },
    property: "b",
    want: "only-boot",
  },
  {
    name: ".properties over .yml in one location",
    files: { "application.yml": "a: yml\n", "application.properties": "a=props\n" },
    property: "a",
    want: "props",
  },
  {
    name: "config/ over the root",
    files: { "application.yml": "a: root\n", "config/application.yml": "a: config\n" },
    property: "a",
    want: "config",
  },
  {
    name: "env over every file",
    files: { "application.yml": "server.port: 1\n", "application-dev.yml": "server.port: 2\n" },
    env: { SERVER_PORT: "3", SPRING_PROFILES_ACTIVE: "dev" },
    property: "server.port",
    want: "3",
  },
  // YAML 1.1 scalars as SnakeYAML reads them
  { name: "yes is true", files: yml("a: yes\n"), property: "a", want: "true" },
  { name: "off is false", files: yml("a: off\n"), property: "a", want: "false" },
  { name: "y stays a string", files: yml("a: y\n"), property: "a", want: "y" },
  { name: "octal", files: yml("a: 010\n"), property: "a", want: "8" },
  { name: "hex", files: yml("a: 0x1F\n"), property: "a", want: "31" },
  { name: "base 60", files: yml("a: 1:30\n"), property: "a", want: "90" },
  { name: "underscores", files: yml("a: 1_000\n"), property: "a", want: "1000" },
  { name: "float as Java prints it", files: yml("a: 1.50\n"), property: "a", want: "1.5" },
  { name: "09 is a float in SnakeYAML", files: yml("a: 09\n"), property: "a", want: "9.0" },
  { name: "timestamps stay strings", files: yml("a: 2024-01-31\n"), property: "a", want: "2024-01-31" },
  { name: "null is empty", files: yml("a: ~\n"), property: "a", want: "" },
  { name: "quoted stays", files: yml("a: '010'\n"), property: "a", want: "010" },
  { name: "boolean key in brackets", files: yml("a:\n  on: x\n"), property: "a[true]", want: "x" },
  { name: "list flattening", files: yml("a:\n  - b: 1\n  - b: 2\n"), property: "a[1].b", want: "2" },
  {
    name: "merge key",
    files: yml("base: &b\n  host: h\n  port: 1\nsvc:\n  <<: *b\n  port: 2\n"),
    property: "svc.host",
    want: "h",
  },
  { name: "bracket key keeps dots", files: yml('map:\n  "[a.b]": v\n'), property: "map[a.b]", want: "v" },
];

describe("Spring behaviour", () => {
  it.each(ROWS)("$name", (row) => {
    const files: ConfigFile[] = Object.entries(row.files).map(([path, text]) => ({ path, text }));
    const report = discoverConfig(files, {
      ...row.options,
      env: env(row.env ?? {}),
      includeProperties: true,
    });
    expect(report.errors).toEqual([]);
    const prop = report.properties?.find((p) => p.key === row.property);
    expect(prop?.value).toBe(row.want);
  });
});
