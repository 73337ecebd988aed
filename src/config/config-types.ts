/**
 * The data of Spring configuration discovery: files, flattened properties with their source line,
 * the origin of every part of a resolved value, endpoints and unresolved placeholders.
 * `netdoctor config -o json` prints a {@linkcode ConfigReport}.
 */

/** A configuration file as read from a jar, a directory or the command line. */
export interface ConfigFile {
  /** Display path: inside an archive `BOOT-INF/classes/bootstrap.yml`, else as given. */
  readonly path: string;
  readonly text: string;
}

/** One flattened property (`a.b[0].c`) and where it was written. */
export interface PropertyEntry {
  readonly key: string;
  readonly value: string;
  readonly file: string;
  /** 1-indexed line of the value (of the key for properties files). */
  readonly line: number;
  /** The source line, for evidence. */
  readonly text: string;
}

/** One YAML document (or `#---` section of a properties file) with its activation conditions. */
export interface ConfigDocument {
  readonly file: string;
  /** 0-indexed document number in its file. */
  readonly index: number;
  readonly entries: readonly PropertyEntry[];
  /** `spring.config.activate.on-profile` (or legacy `spring.profiles`), comma-joined. */
  readonly onProfile?: string;
  /** `spring.config.activate.on-cloud-platform`. */
  readonly onCloudPlatform?: string;
}

/** Where a part of a resolved value came from. */
export type OriginKind = "file" | "env" | "default";

export interface OriginPart {
  /** The text this part contributed. */
  readonly part: string;
  readonly from: OriginKind;
  /** The `${NAME}` whose value or default this is (the innermost one). */
  readonly placeholder?: string;
  /** For `from: "env"`: the environment variable that was read. */
  readonly env?: string;
  /** For `from: "env"`: where the variable was set (`--env`, a pod's env, a ConfigMap key). */
  readonly envSource?: string;
  /** For `from: "env"` over a `${NAME:default}`: the default that the variable overrode. */
  readonly overrides?: string;
  /** The property whose text this is, when it is not the property itself (a `${other.property}`). */
  readonly property?: string;
  readonly file?: string;
  readonly line?: number;
}

export type UnresolvedReason =
  | "unresolvable"
  | "unterminated"
  | "cycle"
  | "secret"
  | "unknown-env"
  | "malformed";

export interface Unresolved {
  readonly property: string;
  readonly placeholder?: string;
  readonly reason: UnresolvedReason;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
}

/** A network endpoint named by a property. */
export interface ConfigEndpoint {
  readonly property: string;
  /** The endpoint's text in the resolved value (one entry of a list, or `host:port` of a host/port pair). */
  readonly value: string;
  readonly host: string;
  /** Absent when neither the value nor the scheme gives one (for example `mongodb+srv`). */
  readonly port?: number;
  /** True when the port is the scheme's or the client's default, not written anywhere. */
  readonly defaultPort?: boolean;
  readonly scheme?: string;
  /** The property holding the port, for host/port pairs such as `spring.redis.port`. */
  readonly portProperty?: string;
  readonly origin: readonly OriginPart[];
}

/** A property after precedence and placeholder resolution. */
export interface ResolvedProperty {
  readonly key: string;
  readonly value: string;
  readonly raw: string;
  readonly origin: readonly OriginPart[];
}

export interface ConfigReport {
  readonly files: readonly string[];
  readonly profiles: readonly string[];
  /** Where the active profiles came from (`--profile`, an env var, or file:line). */
  readonly profilesFrom?: string;
  readonly endpoints: readonly ConfigEndpoint[];
  readonly unresolved: readonly Unresolved[];
  /** Files that could not be parsed, with the line (Spring would refuse to start). */
  readonly errors: readonly { readonly file: string; readonly line?: number; readonly message: string }[];
  /** Things the answer depends on that netdoctor cannot see (an envFrom Secret, the image's ENV). */
  readonly notes?: readonly string[];
  /** Every resolved property, only when asked for. */
  readonly properties?: readonly ResolvedProperty[];
}
