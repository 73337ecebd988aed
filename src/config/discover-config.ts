import { ConfigSyntaxError } from "./config-syntax-error.ts";
import type {
  ConfigDocument,
  ConfigFile,
  ConfigReport,
  OriginPart,
  ResolvedProperty,
  Unresolved,
} from "./config-types.ts";
import { WELL_KNOWN_KEYS } from "./endpoint-keys.ts";
import { envDerivedProperties } from "./env-derived-properties.ts";
import { extractEndpoints } from "./extract-endpoints.ts";
import { parseProperties } from "./parse-properties.ts";
import { parseYamlConfig } from "./parse-yaml-config.ts";
import { isCanonicalName, uniformKey } from "./property-names.ts";
import { classifyConfigFile, type EnvMap, PropertySources } from "./property-sources.ts";
import { resolvePlaceholders } from "./resolve-placeholders.ts";

export interface DiscoverOptions {
  /** The process environment (`--env`, a pod's env from a bundle). */
  readonly env?: EnvMap;
  /** Active profiles from the command line; they replace `spring.profiles.active`. */
  readonly profiles?: readonly string[];
  /** `kubernetes` when resolving for a pod. */
  readonly cloudPlatform?: string;
  /**
   * Placeholder escape character: `\` (the default) as Spring Framework 6.2+ / Boot 3.4+;
   * `null` for older versions, which have none.
   */
  readonly escape?: string | null;
  /** Also return every resolved property. */
  readonly includeProperties?: boolean;
}

/** Orders an origin's fields for reading and drops `property` when it is the property itself. */
function tidyOrigin(o: OriginPart, self: string): OriginPart {
  return {
    part: o.part,
    from: o.from,
    ...(o.placeholder === undefined ? {} : { placeholder: o.placeholder }),
    ...(o.env === undefined ? {} : { env: o.env }),
    ...(o.envSource === undefined ? {} : { envSource: o.envSource }),
    ...(o.overrides === undefined ? {} : { overrides: o.overrides }),
    ...(o.property === undefined || o.property === self ? {} : { property: o.property }),
    ...(o.file === undefined ? {} : { file: o.file }),
    ...(o.line === undefined ? {} : { line: o.line }),
  };
}

/** Parses one config file by its extension. */
export function parseConfigFile(file: ConfigFile): ConfigDocument[] {
  return /\.properties$/i.test(file.path)
    ? parseProperties(file.text, { file: file.path })
    : parseYamlConfig(file.text, { file: file.path });
}

/**
 * Answers "where does this app connect to, and where did that value come from": parses the
 * Spring config files, applies profiles and property-source precedence, resolves placeholders
 * against the environment with relaxed binding, and extracts the endpoints with the origin of
 * every part of their value. Bad files are reported in `errors`, never thrown.
 */
export function discoverConfig(files: readonly ConfigFile[], options: DiscoverOptions = {}): ConfigReport {
  const errors: { file: string; line?: number; message: string }[] = [];
  const docs: ConfigDocument[] = [];
  const used: string[] = [];
  for (const f of files) {
    if (!classifyConfigFile(f.path)) continue;
    used.push(f.path);
    try {
      docs.push(...parseConfigFile(f));
    } catch (error) {
      if (!(error instanceof ConfigSyntaxError)) throw error;
      errors.push({
        file: error.file,
        ...(error.line === undefined ? {} : { line: error.line }),
        message: error.message,
      });
    }
  }
  const escapeChar = options.escape === null ? undefined : (options.escape ?? "\\");
  const sources = new PropertySources(docs, options.env ?? new Map(), {
    ...(options.profiles === undefined ? {} : { profiles: options.profiles }),
    ...(options.cloudPlatform === undefined ? {} : { cloudPlatform: options.cloudPlatform }),
    escape: escapeChar,
    overrides: envDerivedProperties(options.env ?? new Map()),
  });
  const identity = (name: string) => (isCanonicalName(name) ? uniformKey(name) : name);
  const unresolved: Unresolved[] = [];
  const seen = new Set<string>();
  const properties: ResolvedProperty[] = [];
  for (const p of sources.effectiveProperties(WELL_KNOWN_KEYS)) {
    const r = resolvePlaceholders(p.raw, p.origin, {
      lookup: sources.lookup,
      escape: escapeChar,
      self: uniformKey(p.key),
      identity,
    });
    const origin = r.parts.map((o) => tidyOrigin(o, p.key));
    properties.push({ key: p.key, value: r.value, raw: p.raw, origin });
    for (const problem of r.problems) {
      const k = `${p.key}\u0000${problem.placeholder ?? ""}\u0000${problem.reason}`;
      if (seen.has(k)) continue;
      seen.add(k);
      unresolved.push({ property: p.key, ...problem });
    }
  }
  const endpoints = extractEndpoints(properties, {
    onMalformed: (property, text) => {
      const p = properties.find((x) => x.key === property);
      const where = p?.origin.find((o) => o.file !== undefined);
      const env = p?.origin.filter((o) => o.from === "env").map((o) => `${o.env} (${o.envSource ?? "env"})`);
      unresolved.push({
        property,
        reason: "malformed",
        message: `Cannot use "${text}" as host:port${env && env.length > 0 ? `: it comes from ${env.join(", ")}` : ""}`,
        ...(where?.file === undefined ? {} : { file: where.file }),
        ...(where?.line === undefined ? {} : { line: where.line }),
      });
    },
  });
  return {
    files: used,
    profiles: sources.profiles,
    ...(sources.profilesFrom === undefined ? {} : { profilesFrom: sources.profilesFrom }),
    endpoints,
    unresolved,
    errors,
    ...(options.includeProperties ? { properties } : {}),
  };
}
