import type { ConfigDocument, PropertyEntry } from "./config-types.ts";
import { uniformKey } from "./property-names.ts";

const ON_PROFILE = uniformKey("spring.config.activate.on-profile");
const LEGACY_PROFILES = uniformKey("spring.profiles");
const ON_CLOUD = uniformKey("spring.config.activate.on-cloud-platform");

/** True for `key` or `key[n]` (a YAML list flattened by Spring). */
function isKeyOrItem(entryKey: string, wanted: string): boolean {
  const u = uniformKey(entryKey);
  return u === wanted || (u.startsWith(`${wanted}[`) && /^\[\d+\]$/.test(u.slice(wanted.length)));
}

/**
 * Builds a document from its flattened entries and reads its activation properties:
 * `spring.config.activate.on-profile` (Boot 2.4+), the legacy `spring.profiles` and
 * `spring.config.activate.on-cloud-platform`.
 */
export function makeDocument(
  entries: readonly PropertyEntry[],
  options: { readonly file: string; readonly index: number },
): ConfigDocument {
  const { file, index } = options;
  const profiles: string[] = [];
  const legacy: string[] = [];
  let cloud: string | undefined;
  for (const e of entries) {
    if (isKeyOrItem(e.key, ON_PROFILE)) profiles.push(e.value);
    else if (isKeyOrItem(e.key, LEGACY_PROFILES)) legacy.push(e.value);
    else if (uniformKey(e.key) === ON_CLOUD) cloud = e.value;
  }
  const onProfile =
    profiles.length > 0 ? profiles.join(",") : legacy.length > 0 ? legacy.join(",") : undefined;
  return {
    file,
    index,
    entries,
    ...(onProfile === undefined ? {} : { onProfile }),
    ...(cloud === undefined ? {} : { onCloudPlatform: cloud }),
  };
}
