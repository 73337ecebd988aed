import type { ConfigDocument, PropertyEntry } from "./config-types.ts";
import type { DerivedProperty } from "./env-derived-properties.ts";
import { matchesProfiles } from "./profile-expression.ts";
import {
  envNamesForProperty,
  isCanonicalName,
  systemEnvironmentVariants,
  uniformKey,
} from "./property-names.ts";
import type { Lookup, LookupResult, TextOrigin } from "./resolve-placeholders.ts";
import { resolvePlaceholders } from "./resolve-placeholders.ts";

/** One environment variable of the process (or container) whose configuration is resolved. */
export interface EnvVarValue {
  readonly name: string;
  /** Absent when the value is not known (a Secret, a fieldRef netdoctor cannot read). */
  readonly value?: string;
  /** `valueFrom.secretKeyRef`: the value is never read; only the names are reported. */
  readonly secret?: { readonly name: string; readonly key: string };
  /** Why the value is unknown, when it is neither given nor a Secret. */
  readonly unknown?: string;
  /** Where it was set, for the origin (`--env`, `pod eopx/gw env`, `configmap eopx/cfg key K`). */
  readonly source?: string;
}

export type EnvMap = ReadonlyMap<string, EnvVarValue>;

export interface SourcesOptions {
  /** Profiles given on the command line; they replace `spring.profiles.active` from env and files. */
  readonly profiles?: readonly string[];
  /** `kubernetes` when the app runs in a pod (activates `on-cloud-platform: kubernetes`). */
  readonly cloudPlatform?: string;
  /** Escape character for placeholders (see {@linkcode resolvePlaceholders}). */
  readonly escape?: string | undefined;
  /** Properties above the environment variables (`SPRING_APPLICATION_JSON`, `-D` system properties), highest first. */
  readonly overrides?: readonly DerivedProperty[];
}

interface FileInfo {
  readonly group: "application" | "bootstrap";
  readonly profile?: string;
  readonly rank: number;
  readonly external: number;
  readonly ext: number;
}

const FILE_NAME = /(?:^|\/)(application|bootstrap)(?:-([^/]+))?\.(properties|yml|yaml)$/;

/**
 * What kind of Spring config file a path is. Other `.yml`/`.properties` files (named on the command
 * line) count as `application` files; anything else is `undefined`.
 */
export function classifyConfigFile(path: string): FileInfo | undefined {
  const m = FILE_NAME.exec(path) ?? /()()\.(properties|yml|yaml)$/.exec(path);
  if (!m) return undefined;
  // classpath:/config/ and ./config/ override classpath:/ and ./ (Boot's default search locations).
  const rank = /(?:^|\/)config\/[^/]+$/.test(path) ? 1 : 0;
  // Files outside the jar (a ConfigMap mounted in ./config/) win over packaged ones, profiles or not.
  const external = path.startsWith("configmap:") ? 1 : 0;
  // In one location .properties wins over .yml, which wins over .yaml.
  const ext = m[3] === "properties" ? 2 : m[3] === "yml" ? 1 : 0;
  return {
    group: m[1] === "bootstrap" ? "bootstrap" : "application",
    ...(m[2] === undefined ? {} : { profile: m[2] }),
    rank,
    external,
    ext,
  };
}

interface Source {
  readonly doc: ConfigDocument;
  readonly uniform: ReadonlyMap<string, PropertyEntry>;
  readonly exact: ReadonlyMap<string, PropertyEntry>;
}

function makeSource(doc: ConfigDocument): Source {
  const uniform = new Map<string, PropertyEntry>();
  const exact = new Map<string, PropertyEntry>();
  for (const e of doc.entries) {
    uniform.set(uniformKey(e.key), e);
    exact.set(e.key, e);
  }
  return { doc, uniform, exact };
}

/**
 * Spring's property sources for a set of config files and an environment, in precedence order:
 * environment variables, then profile-specific `application-{profile}` files (last profile wins),
 * `application` files (later documents over earlier ones, `config/` over the root, `.properties`
 * over `.yml`), then `bootstrap-{profile}` and `bootstrap` (Spring Cloud adds the bootstrap context's
 * properties below the application's).
 */
export class PropertySources {
  readonly profiles: readonly string[];
  readonly profilesFrom: string | undefined;
  readonly env: EnvMap;
  readonly #options: SourcesOptions;
  readonly #sources: Source[];
  readonly #overUniform = new Map<string, DerivedProperty>();
  readonly #overExact = new Map<string, DerivedProperty>();

  constructor(docs: readonly ConfigDocument[], env: EnvMap, options: SourcesOptions = {}) {
    this.env = env;
    this.#options = options;
    for (const o of options.overrides ?? []) {
      if (!this.#overUniform.has(uniformKey(o.key))) this.#overUniform.set(uniformKey(o.key), o);
      if (!this.#overExact.has(o.key)) this.#overExact.set(o.key, o);
    }
    const base = docs.filter(
      (d) => d.onProfile === undefined && classifyConfigFile(d.file)?.profile === undefined,
    );
    const baseSources = this.#order(base, []).map(makeSource);
    const [profiles, from] = this.#activeProfiles(baseSources);
    this.profiles = profiles;
    this.profilesFrom = from;
    this.#sources = this.#order(docs, profiles).map(makeSource);
  }

  /** Documents that are active for the profiles, highest precedence first. */
  #order(docs: readonly ConfigDocument[], profiles: readonly string[]): ConfigDocument[] {
    const effective = profiles.length === 0 ? ["default"] : profiles;
    const active = new Set(effective);
    const cloud = this.#options.cloudPlatform;
    const score = (d: ConfigDocument): number[] => {
      const info = classifyConfigFile(d.file)!;
      const profileRank = info.profile === undefined ? 0 : 1 + effective.indexOf(info.profile);
      return [info.group === "application" ? 1 : 0, info.external, profileRank, info.rank, info.ext, d.index];
    };
    const keep = docs.filter((d) => {
      const info = classifyConfigFile(d.file);
      if (!info) return false;
      if (info.profile !== undefined && !active.has(info.profile)) return false;
      if (d.onCloudPlatform !== undefined && d.onCloudPlatform.toLowerCase() !== cloud?.toLowerCase())
        return false;
      return d.onProfile === undefined || matchesProfiles(d.onProfile, active) === true;
    });
    return keep
      .map((d) => ({ d, s: score(d) }))
      .sort((a, b) => {
        for (let i = 0; i < a.s.length; i++) if (a.s[i] !== b.s[i]) return b.s[i]! - a.s[i]!;
        return 0;
      })
      .map((x) => x.d);
  }

  #activeProfiles(base: readonly Source[]): [string[], string | undefined] {
    const split = (v: string) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    const lookup = this.#lookupIn(base);
    const value = (name: string): string[] => {
      const r = lookup(name);
      if (r?.kind !== "value") return [];
      return split(resolvePlaceholders(r.raw, r.origin, { lookup, escape: this.#options.escape }).value);
    };
    // spring.profiles.group.NAME (a comma list or a YAML list) adds its members after NAME.
    const expand = (profiles: readonly string[]): string[] => {
      const out: string[] = [];
      const add = (p: string, depth: number) => {
        if (out.includes(p)) return;
        out.push(p);
        if (depth > 8) return;
        const members = value(`spring.profiles.group.${p}`);
        for (let i = 0; i < 64; i++) {
          const item = value(`spring.profiles.group.${p}[${i}]`);
          if (item.length === 0) break;
          members.push(...item);
        }
        for (const m of members) add(m, depth + 1);
      };
      for (const p of profiles) add(p, 0);
      return out;
    };
    if (this.#options.profiles && this.#options.profiles.length > 0) {
      return [expand(this.#options.profiles.flatMap(split)), "--profile"];
    }
    const found = lookup("spring.profiles.active");
    const include = lookup("spring.profiles.include");
    const resolve = (r: LookupResult | undefined): string[] => {
      if (r?.kind !== "value") return [];
      return split(resolvePlaceholders(r.raw, r.origin, { lookup, escape: this.#options.escape }).value);
    };
    const active = expand([...resolve(include), ...resolve(found)]);
    if (active.length === 0) return [[], undefined];
    const o = found?.kind === "value" ? found.origin : include?.kind === "value" ? include.origin : undefined;
    const where = o === undefined ? undefined : o.from === "env" ? `env ${o.env}` : `${o.file}:${o.line}`;
    return [active, where];
  }

  /** Looks a name up as Spring's environment does: environment variables first, then files. */
  readonly lookup: Lookup = (name) => this.#lookupIn(this.#sources)(name);

  #lookupIn(sources: readonly Source[]): Lookup {
    return (name) => {
      const canonical = isCanonicalName(name);
      const id = canonical ? uniformKey(name) : name;
      const over = canonical ? this.#overUniform.get(id) : this.#overExact.get(name);
      if (over) return { kind: "value", raw: over.raw, origin: over.origin, key: id };
      const names = [...(canonical ? envNamesForProperty(name) : []), ...systemEnvironmentVariants(name)];
      const env = this.#envValue(names, id);
      if (env) return env;
      for (const s of sources) {
        const e = canonical ? s.uniform.get(id) : s.exact.get(name);
        if (e) return { kind: "value", raw: e.value, origin: fileOrigin(e), key: id };
      }
      return undefined;
    };
  }

  #envValue(names: readonly string[], id: string): LookupResult | undefined {
    for (const n of names) {
      const v = this.env.get(n);
      if (!v) continue;
      if (v.value !== undefined) {
        const origin: TextOrigin = {
          from: "env",
          env: n,
          ...(v.source === undefined ? {} : { envSource: v.source }),
        };
        return { kind: "value", raw: v.value, origin, key: id };
      }
      const detail = v.secret
        ? `Environment variable ${n} comes from Secret "${v.secret.name}" key "${v.secret.key}": value not read by design`
        : `Environment variable ${n} is set but its value is unknown: ${v.unknown ?? "not given"}`;
      return { kind: "hidden", reason: v.secret ? "secret" : "unknown-env", detail };
    }
    return undefined;
  }

  /**
   * Every property of the active documents with its winning raw value, as Spring Boot binds it
   * (an environment variable under the property's relaxed name overrides every file).
   * `extraKeys` adds properties that only the environment may set (well-known endpoint keys).
   */
  effectiveProperties(extraKeys: readonly string[] = []): { key: string; raw: string; origin: TextOrigin }[] {
    const keys = new Map<string, string>();
    for (let i = this.#sources.length - 1; i >= 0; i--) {
      for (const e of this.#sources[i]!.doc.entries) keys.set(uniformKey(e.key), e.key);
    }
    for (const k of extraKeys) if (!keys.has(uniformKey(k))) keys.set(uniformKey(k), k);
    for (const [u, o] of this.#overUniform) if (!keys.has(u)) keys.set(u, o.key);
    const out: { key: string; raw: string; origin: TextOrigin }[] = [];
    for (const [u, key] of keys) {
      const over = this.#overUniform.get(u);
      if (over) {
        out.push({ key, raw: over.raw, origin: over.origin });
        continue;
      }
      const env = this.#envValue(envNamesForProperty(key), u);
      if (env?.kind === "value") {
        out.push({ key, raw: env.raw, origin: env.origin });
        continue;
      }
      if (env?.kind === "hidden") {
        out.push({ key, raw: `\${${key}}`, origin: { from: "env" } });
        continue;
      }
      const src = this.#sources.find((s) => s.uniform.has(u));
      const e = src?.uniform.get(u);
      if (e) out.push({ key: e.key, raw: e.value, origin: fileOrigin(e) });
    }
    return out;
  }

  /** The active documents, highest precedence first. */
  get documents(): readonly ConfigDocument[] {
    return this.#sources.map((s) => s.doc);
  }
}

function fileOrigin(e: PropertyEntry): TextOrigin {
  return { from: "file", file: e.file, line: e.line, property: e.key };
}
