/**
 * Decodes a config file's bytes as Spring Boot reads them: `.properties` as ISO-8859-1 (Java's
 * `Properties` rule; non-Latin-1 text must use `\uXXXX`), YAML as UTF-8 with an optional BOM.
 */
export function decodeConfigText(path: string, bytes: Uint8Array): string {
  if (/\.properties$/i.test(path)) {
    let s = "";
    for (let i = 0; i < bytes.length; i += 8192) {
      s += String.fromCharCode(...bytes.subarray(i, i + 8192));
    }
    return s;
  }
  return new TextDecoder("utf-8").decode(bytes).replace(/^\uFEFF/, "");
}

/** Names Spring Boot loads by default: `application` / `bootstrap` (+ `-profile`) `.properties|.yml|.yaml`. */
export const CONFIG_FILE_NAME = /^(?:application|bootstrap)(?:-[^/]+)?\.(?:properties|ya?ml)$/;
