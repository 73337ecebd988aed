/** The tables of endpoint extraction: default ports, server-list keys, host/port pairs. */

/** Default ports by URL scheme (the last known part of `jdbc:mysql` and the like). */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  redis: 6379,
  rediss: 6379,
  amqp: 5672,
  amqps: 5671,
  mongodb: 27017,
  mysql: 3306,
  mariadb: 3306,
  postgresql: 5432,
  postgres: 5432,
  sqlserver: 1433,
  oracle: 1521,
  clickhouse: 8123,
  ldap: 389,
  ldaps: 636,
  nacos: 8848,
  zookeeper: 2181,
  kafka: 9092,
  nats: 4222,
  mqtt: 1883,
  ftp: 21,
  sftp: 22,
  smtp: 25,
  dm: 5236,
};

/** Properties holding comma-separated `host[:port]` lists, by uniform key, with the client's default port. */
export const LIST_KEYS: readonly [RegExp, number | undefined][] = [
  [/^spring\.cloud\.nacos(\.[a-z0-9]+)?\.serveraddr$/, 8848],
  [/(^|\.)nacos(\.[a-z0-9]+)*\.serveraddr$/, 8848],
  [/(^|\.)serveraddr$/, undefined],
  [/^spring\.kafka(\.[a-z0-9]+)*\.bootstrapservers$/, 9092],
  [/(^|\.)bootstrapservers$/, 9092],
  [/^spring\.cloud\.stream\.kafka\.binder\.brokers$/, 9092],
  [/^spring\.rabbitmq\.addresses$/, 5672],
  [/^spring\.cloud\.zookeeper\.connectstring$/, 2181],
  [/^spring\.(data\.)?redis\.cluster\.nodes$/, 6379],
  [/^spring\.(data\.)?redis\.sentinel\.nodes$/, 26379],
  [/^spring\.data\.cassandra\.contactpoints$/, 9042],
  [/^spring\.cloud\.sentinel\.transport\.dashboard$/, 8080],
];

/** `PREFIX.host` + `PREFIX.port` pairs with the client's default port. */
export const HOST_PORT_DEFAULTS: Readonly<Record<string, number>> = {
  "spring.redis": 6379,
  "spring.data.redis": 6379,
  "spring.rabbitmq": 5672,
  "spring.data.mongodb": 27017,
  "spring.cloud.consul": 8500,
  "spring.mail": 25,
  "spring.data.elasticsearch": 9200,
  "spring.cloud.nacos.discovery": 8848,
};

/** Prefixes whose host/port are where the app listens or announces itself, not where it dials. */
export const SELF_PREFIXES = [
  "server",
  "management.server",
  "eureka.instance",
  "spring.cloud.nacos.discovery.ip",
];

/** Keys only the environment may set whose endpoints must still be found (checked under relaxed names). */
export const WELL_KNOWN_KEYS: readonly string[] = [
  "spring.datasource.url",
  "spring.redis.host",
  "spring.redis.port",
  "spring.data.redis.host",
  "spring.data.redis.port",
  "spring.redis.url",
  "spring.data.redis.url",
  "spring.cloud.nacos.discovery.server-addr",
  "spring.cloud.nacos.config.server-addr",
  "spring.cloud.nacos.server-addr",
  "eureka.client.service-url.defaultZone",
  "spring.kafka.bootstrap-servers",
  "spring.rabbitmq.host",
  "spring.rabbitmq.port",
  "spring.rabbitmq.addresses",
  "spring.cloud.config.uri",
  "spring.data.mongodb.uri",
  "spring.elasticsearch.uris",
];
