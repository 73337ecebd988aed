/**
 * Debian's podman for tests that build and run the real image. Every Podman instance keeps its
 * images and containers in its own storage under a temp directory (never the machine's
 * /var/lib/containers), and {@linkcode Podman.destroy} removes them all.
 *
 * Facts of this machine that decide the configuration (issue 19): podman 4.3 with crun fails here
 * (cgroups v1 "hybrid" mode, setrlimit refused), so the runtime is runc; podman's default ulimits
 * make runc's setrlimit fail too, so `default_ulimits = []`. Both go into a containers.conf named by
 * CONTAINERS_CONF, which overrides /etc/containers for this process's podman commands only.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandUnavailable } from "./capabilities.ts";

const CONTAINERS_CONF = `[containers]
default_ulimits = []

[engine]
runtime = "runc"
`;

/** Why podman cannot run containers here, or undefined when it can (root, podman, runc). */
export function podmanUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not running as root (the tests use rootful podman)";
  return (
    commandUnavailable("podman") ??
    commandUnavailable("runc") ??
    (existsSync("/sys/fs/cgroup/memory") || existsSync("/sys/fs/cgroup/cgroup.controllers")
      ? undefined
      : "no cgroup filesystem")
  );
}

/** What a podman command printed. */
export interface PodmanResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A podman with its own storage, configuration and cleanup. */
export class Podman {
  readonly dir: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #global: readonly string[];
  readonly #containers = new Set<string>();

  constructor(area: string) {
    this.dir = mkdtempSync(join(tmpdir(), `nd-podman-${area}-`));
    const conf = join(this.dir, "containers.conf");
    writeFileSync(conf, CONTAINERS_CONF);
    mkdirSync(join(this.dir, "tmp"));
    this.#env = { ...process.env, CONTAINERS_CONF: conf, TMPDIR: join(this.dir, "tmp") };
    this.#global = [
      "--root",
      join(this.dir, "storage"),
      "--runroot",
      join(this.dir, "run"),
      "--cgroup-manager",
      "cgroupfs",
      "--events-backend",
      "none",
    ];
  }

  /** Runs `podman ARGS` to the end; throws with podman's stderr when it fails. */
  run(args: readonly string[], options: { input?: string | Buffer; timeoutMs?: number } = {}): string {
    const r = this.#spawnSync(args, options);
    if (r.code !== 0) {
      throw new Error(`podman ${args.join(" ")} exited with ${r.code}:\n${r.stderr}${r.stdout}`);
    }
    return r.stdout;
  }

  /** Runs `podman ARGS` to the end and returns whatever happened. */
  try(args: readonly string[], options: { input?: string | Buffer; timeoutMs?: number } = {}): PodmanResult {
    return this.#spawnSync(args, options);
  }

  #spawnSync(
    args: readonly string[],
    options: { input?: string | Buffer; timeoutMs?: number },
  ): PodmanResult {
    const r = spawnSync("podman", [...this.#global, ...args], {
      env: this.#env,
      encoding: "utf8",
      maxBuffer: 256 << 20,
      timeout: options.timeoutMs ?? 600_000,
      ...(options.input === undefined ? {} : { input: options.input }),
    });
    return {
      code: r.status,
      stdout: r.stdout ?? "",
      stderr: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}`,
    };
  }

  /** `podman import` of a root filesystem directory as IMAGE, with image config `changes` (Dockerfile words). */
  importRootfs(rootfs: string, image: string, changes: readonly string[]): void {
    const tar = execFileSync("tar", ["-C", rootfs, "-c", "."], { maxBuffer: 1 << 30 });
    this.run(["import", ...changes.flatMap((c) => ["--change", c]), "-", image], { input: tar });
  }

  /**
   * Starts `podman run -d ARGS` and returns the container id; {@linkcode destroy} removes it. The
   * caller names the container (`--name`) or not; the id is what the other methods take.
   */
  start(args: readonly string[]): string {
    const id = this.run(["run", "-d", ...args]).trim();
    this.#containers.add(id);
    return id;
  }

  /** What a container printed so far, stdout and stderr. */
  logs(id: string): string {
    const r = this.try(["logs", id]);
    return `${r.stdout}${r.stderr}`;
  }

  /** Stops (SIGTERM, then SIGKILL after `graceSeconds`) and removes a container. */
  remove(id: string, graceSeconds = 10): void {
    this.try(["stop", "-t", String(graceSeconds), id]);
    this.try(["rm", "-f", id]);
    this.#containers.delete(id);
  }

  /**
   * Removes every container and image, then the storage directory. (`podman system reset` would do
   * it in one step but also resets machine-wide network configuration, which is not ours.)
   */
  destroy(): void {
    this.try(["rm", "-af", "-t", "0"]);
    this.#containers.clear();
    this.try(["rmi", "-af"]);
    // Whatever is still mounted under our storage (overlay layers, the shm of a container) goes first.
    const mounts = readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[1] ?? "")
      .filter((m) => m.startsWith(`${this.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) spawnSync("umount", ["-l", m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
