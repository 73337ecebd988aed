/**
 * Spring Boot's relaxed names. A property written `server-addr`, `serverAddr` or `server_addr`
 * is the same property; an environment variable overrides it under the documented name
 * (uppercase, `.` to `_`, `-` removed, `[0]` to `_0_`) or the legacy one (`-` to `_`).
 */

/** Splits `a.b[0].c` into `["a", "b", "[0]", "c"]` (brackets kept on indexed elements). */
export function nameElements(name: string): string[] {
  const out: string[] = [];
  let cur = "";
  let i = 0;
  while (i < name.length) {
    const c = name[i]!;
    if (c === "[") {
      if (cur !== "") out.push(cur);
      cur = "";
      const end = name.indexOf("]", i);
      const stop = end < 0 ? name.length : end + 1;
      out.push(name.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === ".") {
      if (cur !== "") out.push(cur);
      cur = "";
    } else {
      cur += c;
    }
    i++;
  }
  if (cur !== "") out.push(cur);
  return out;
}

function joinElements(elements: readonly string[]): string {
  let out = "";
  for (const e of elements) out += e.startsWith("[") || out === "" ? e : `.${e}`;
  return out;
}

/**
 * The form Spring Boot compares names in: each non-indexed element lowercased with everything
 * but letters and digits removed; indexes (`[0]`, `[a.b]`) kept as written.
 */
export function uniformKey(name: string): string {
  return joinElements(
    nameElements(name).map((e) => (e.startsWith("[") ? e : e.toLowerCase().replace(/[^a-z0-9]/g, ""))),
  );
}

/**
 * True when Spring Boot treats the name as a configuration property name (lowercase letters,
 * digits and dashes between dots, indexes in brackets), so it is looked up with relaxed rules.
 * `NACOS_HOST` is not one: it is looked up as written, and in the environment.
 */
export function isCanonicalName(name: string): boolean {
  if (name === "") return false;
  return nameElements(name).every((e) => e.startsWith("[") || /^[a-z0-9-]+$/.test(e));
}

/**
 * The environment variable names that override a property when Spring Boot binds it, most
 * specific first: `SPRING_CLOUD_NACOS_DISCOVERY_SERVERADDR` (documented: `.` to `_`, `-` removed,
 * uppercase, `[0]` to `_0_`) and the legacy `SPRING_CLOUD_NACOS_DISCOVERY_SERVER_ADDR`.
 */
export function envNamesForProperty(name: string): string[] {
  const elements = nameElements(name);
  const index = (e: string) => e.slice(1, -1);
  const canonical = elements
    .map((e) => (e.startsWith("[") ? index(e) : e.replace(/[^A-Za-z0-9]/g, "").toUpperCase()))
    .join("_");
  const legacy = elements
    .map((e) => (e.startsWith("[") ? index(e) : e.replace(/[.-]/g, "_").toUpperCase()))
    .join("_");
  return canonical === legacy ? [canonical] : [canonical, legacy];
}

/**
 * The names Spring Framework's `SystemEnvironmentPropertySource` tries for a lookup such as
 * `${nacos.host}`: as written, `.` to `_`, `-` to `_`, both, then the same in uppercase.
 */
export function systemEnvironmentVariants(name: string): string[] {
  const forms = [name, name.replace(/\./g, "_"), name.replace(/-/g, "_"), name.replace(/[.-]/g, "_")];
  const all = [...forms, ...forms.map((f) => f.toUpperCase())];
  return [...new Set(all)];
}
