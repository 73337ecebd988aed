// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring placeholders are the data under test
import { strToU8, zipSync } from "fflate";

/**
 * The incident's `bootstrap.yml` (eopx-gateway): the config server's address is the Service name
 * and port as defaults, overridable by `NACOS_HOST` / `NACOS_PORT`. The discovery address is on
 * line 9, the config address on line 14.
 */
export const DEMO_BOOTSTRAP_YML = `server:
  port: 8080
spring:
  application:
    name: eopx-gateway
  cloud:
    nacos:
      discovery:
        server-addr: \${NACOS_HOST:eopx-register}:\${NACOS_PORT:8848}
        namespace: \${NACOS_NAMESPACE:public}
      config:
        file-extension: yaml
        group: EOPX
        server-addr: \${NACOS_HOST:eopx-register}:\${NACOS_PORT:8848}
`;

/** `application.yml` of the demo app: a Redis host and a database URL with defaults. */
export const DEMO_APPLICATION_YML = `spring:
  profiles:
    active: \${SPRING_PROFILES_ACTIVE:prod}
  redis:
    host: \${REDIS_HOST:eopx-redis}
    port: 6379
---
spring:
  config:
    activate:
      on-profile: prod
  datasource:
    url: jdbc:mysql://\${DB_HOST:eopx-mysql}:3306/eopx?useSSL=false
`;

/**
 * Builds the demo app's fat jar in memory (Spring Boot layout: `BOOT-INF/classes/` with the
 * config files, a manifest, a class file and a stored library jar), for tests and the demo.
 */
export function buildDemoAppJar(): Uint8Array {
  const lib = zipSync({ "META-INF/MANIFEST.MF": strToU8("Manifest-Version: 1.0\n") }, { level: 0 });
  return zipSync({
    "META-INF/MANIFEST.MF": strToU8(
      "Manifest-Version: 1.0\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\nStart-Class: com.eopx.gateway.GatewayApplication\n",
    ),
    "BOOT-INF/classes/bootstrap.yml": strToU8(DEMO_BOOTSTRAP_YML),
    "BOOT-INF/classes/application.yml": strToU8(DEMO_APPLICATION_YML),
    "BOOT-INF/classes/com/eopx/gateway/GatewayApplication.class": new Uint8Array([
      0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 61,
    ]),
    "BOOT-INF/lib/spring-cloud-starter-bootstrap-4.1.0.jar": [lib, { level: 0 }],
  });
}
