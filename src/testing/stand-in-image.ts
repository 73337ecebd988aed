/**
 * Root filesystems made from this machine's own binaries, for tests that run the real image without a
 * registry: a stand-in for the image's base (`node:20-alpine` in real builds: Node plus busybox's sh
 * and chroot) and a stand-in for a node's host filesystem (the machine's real iptables, nft and
 * legacy, with their extensions), which the exporter container reaches as `chroot /host`.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/** The shared libraries `ldd` names for a binary or library (the loader included). */
function libraries(file: string): string[] {
  const out = execFileSync("ldd", [file], { encoding: "utf8" });
  return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
}

/** Copies `file` (symlinks followed) to the same path under `root`. */
function copyInto(root: string, file: string, as = file): void {
  const target = join(root, as);
  if (existsSync(target)) return;
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(file), target);
}

/** Copies binaries and every library they load to the same paths under `root`. */
function copyWithLibraries(root: string, files: readonly string[]): void {
  for (const file of files) {
    copyInto(root, file);
    for (const lib of libraries(file)) copyInto(root, lib);
  }
}

function link(root: string, path: string, to: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  if (!existsSync(join(root, path))) symlinkSync(to, join(root, path));
}

/** The busybox applets the image and the collector script use. */
const APPLETS = [
  "sh",
  "chroot",
  "cat",
  "env",
  "id",
  "ls",
  "gzip",
  "base64",
  "wc",
  "rm",
  "mkdir",
  "sleep",
  "wget",
];

/**
 * A base image's root: this machine's `node` at /usr/local/bin/node (where node:20-alpine has it),
 * busybox with its applets in /bin, /etc/passwd with root and nobody (65534), a world-writable /tmp.
 * Import it with {@linkcode STAND_IN_CHANGES}.
 */
export function standInBaseRootfs(root: string, options: { node?: string; busybox?: string } = {}): void {
  const node = options.node ?? process.execPath;
  const busybox = options.busybox ?? "/usr/bin/busybox";
  copyInto(root, node, "/usr/local/bin/node");
  for (const lib of libraries(node)) copyInto(root, lib);
  copyWithLibraries(root, [busybox]);
  copyInto(root, busybox, "/bin/busybox");
  for (const applet of APPLETS) link(root, `/bin/${applet}`, "busybox");
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(
    join(root, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
  );
  writeFileSync(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  mkdirSync(join(root, "tmp"), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
  mkdirSync(join(root, "root"), { recursive: true });
}

/** Image config of an imported stand-in base (`podman import --change`): what node:20-alpine sets. */
export const STAND_IN_CHANGES: readonly string[] = [
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  'CMD ["node"]',
];

/**
 * A busybox-only root, as the collector pod's default image (busybox:1.36) is: this machine's busybox at
 * /bin/busybox with its libraries and a link for every applet it has, and a world-writable /tmp.
 * Import it with {@linkcode BUSYBOX_CHANGES}.
 */
export function standInBusyboxRootfs(root: string, busybox = "/usr/bin/busybox"): void {
  copyWithLibraries(root, [busybox]);
  copyInto(root, busybox, "/bin/busybox");
  for (const applet of execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n")) {
    if (applet !== "" && applet !== "busybox") link(root, `/bin/${applet}`, "busybox");
  }
  mkdirSync(join(root, "etc"), { recursive: true });
  mkdirSync(join(root, "tmp"), { recursive: true });
  chmodSync(join(root, "tmp"), 0o1777);
}

/** Image config of an imported busybox stand-in: what busybox:1.36 sets. */
export const BUSYBOX_CHANGES: readonly string[] = ["ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["sh"]'];

/** Where iptables looks for its extensions (libxt_*.so), the first that exists here. */
function xtablesLibDir(): string {
  for (const dir of [
    "/usr/lib/x86_64-linux-gnu/xtables",
    "/usr/lib/aarch64-linux-gnu/xtables",
    "/usr/lib/xtables",
    "/usr/lib64/xtables",
  ]) {
    if (existsSync(dir)) return dir;
  }
  throw new Error("Cannot find the iptables extensions directory (xtables)");
}

/**
 * A node's host root as the DaemonSet sees it at /host: the machine's real iptables commands
 * (`iptables`, `iptables-save`, `iptables-legacy-save` resolved to the multi-call binaries they are
 * here, so `chroot /host iptables-save` runs the same binary as on the machine), every extension
 * and library they load, and /etc/protocols. `tools` adds more of the machine's commands (a shell,
 * `ip`, `nft`...) where this machine has them, at the paths it has them. Nothing else.
 */
export function standInHostRoot(root: string, options: { tools?: readonly string[] } = {}): void {
  const names = ["iptables", "iptables-save", "iptables-legacy", "iptables-legacy-save", "iptables-nft-save"];
  for (const name of names) {
    const path = join("/usr/sbin", name);
    if (!existsSync(path)) throw new Error(`Cannot make a stand-in host: ${path} is not installed`);
    const real = realpathSync(path);
    copyWithLibraries(root, [real]);
    link(root, path, basename(real));
  }
  const ext = xtablesLibDir();
  const modules = readdirSync(ext)
    .filter((f) => f.endsWith(".so"))
    .map((f) => join(ext, f));
  copyWithLibraries(root, modules);
  if (existsSync("/etc/protocols")) copyInto(root, "/etc/protocols");
  for (const tool of options.tools ?? []) {
    let path: string;
    try {
      path = execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
    } catch {
      continue; // not on this machine: absent on the stand-in node too
    }
    const real = realpathSync(path);
    copyWithLibraries(root, [real]);
    // Multi-call binaries (kmod's lsmod) dispatch on the name they are run by: keep it.
    if (path !== real) link(root, path, real);
  }
  for (const dir of ["run", "tmp", "var/lib", "proc"]) mkdirSync(join(root, dir), { recursive: true });
}

/**
 * Mounts what every node has mounted under its root and a pod reaches through the recursive hostPath
 * mount of `/`: a proc file system at `root`/proc (`chroot /host iptables-legacy-save` reads the table
 * names from /proc/net/ip_tables_names inside the chroot and prints nothing without it; /proc/net
 * follows the reading process's network namespace) and a /dev with null, zero, random and urandom
 * (the collector's `sh -c` scripts redirect to /dev/null inside the chroot). Returns the unmount.
 */
export function mountNodeFilesystems(root: string): () => void {
  const proc = join(root, "proc");
  const dev = join(root, "dev");
  mkdirSync(proc, { recursive: true });
  mkdirSync(dev, { recursive: true });
  execFileSync("mount", ["-t", "proc", "proc", proc], { stdio: "pipe" });
  execFileSync("mount", ["-t", "tmpfs", "-o", "mode=0755,size=64k", "nd-dev", dev], { stdio: "pipe" });
  for (const [name, minor] of [
    ["null", 3],
    ["zero", 5],
    ["random", 8],
    ["urandom", 9],
  ] as const) {
    execFileSync("mknod", ["-m", "666", join(dev, name), "c", "1", String(minor)], { stdio: "pipe" });
  }
  return () => {
    execFileSync("umount", ["-l", dev], { stdio: "pipe" });
    execFileSync("umount", ["-l", proc], { stdio: "pipe" });
  };
}
