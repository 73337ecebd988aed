/**
 * Builds the netdoctor image of deploy/exporter/Dockerfile in a {@linkcode Podman} without a registry:
 * the base is a stand-in imported from this machine's Node and busybox (the Dockerfile's `BASE`
 * build argument; real builds use its default, node:20-alpine), the context a fresh `dist/`.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Podman } from "./podman.ts";
import { STAND_IN_CHANGES, standInBaseRootfs } from "./stand-in-image.ts";

/** The tag tests and benches build. */
export const TEST_IMAGE = "localhost/netdoctor:test";
const BASE = "localhost/netdoctor-base:stand-in";

/** Builds {@linkcode TEST_IMAGE}; returns the build context directory (its `dist/` is the build). */
export function buildNetdoctorImage(podman: Podman, root: string = process.cwd()): string {
  const base = join(podman.dir, "base-rootfs");
  standInBaseRootfs(base);
  podman.importRootfs(base, BASE, STAND_IN_CHANGES);
  const context = join(podman.dir, "context");
  execFileSync(process.execPath, [join(root, "scripts/build.mjs"), "--outdir", join(context, "dist")], {
    cwd: root,
    stdio: "pipe",
  });
  podman.run([
    "build",
    "--network",
    "none",
    "-f",
    join(root, "deploy/exporter/Dockerfile"),
    "--build-arg",
    `BASE=${BASE}`,
    "-t",
    TEST_IMAGE,
    context,
  ]);
  return context;
}
