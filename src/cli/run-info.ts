// Where and with what a command runs: versions, machine, git commit. Used by `dinov2 doctor` and
// recorded with every benchmark result.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadOrt } from "../runtime/index.js";

export interface Versions {
  readonly dinov2Ts: string;
  readonly node: string;
  readonly onnxruntimeNode: string;
  /** sharp and libvips, or why sharp did not load. */
  readonly sharp: string;
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly logicalCores: number;
  /** Physical cores (onnxruntime's own default thread count; createRuntime uses logicalCores). */
  readonly physicalCores: number;
  readonly memoryGiB: number;
  /** The SIMD features that bound fp32 MatMul speed, e.g. "avx2 fma" or "avx512f avx512_bf16". */
  readonly simd: string;
  readonly platform: string;
  readonly loadavg: readonly [number, number, number];
}

/** The version field of our package.json, found upwards from this file (src/, dist/ or a bundle). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === "dinov2-ts") return String(pkg.version);
    } catch {
      // no package.json here: keep climbing
    }
    const up = dirname(dir);
    if (up === dir) return "unknown";
    dir = up;
  }
}

/** Versions of dinov2-ts, Node, onnxruntime-node and sharp (loads both native modules). */
export async function collectVersions(): Promise<Versions> {
  const ort = await loadOrt();
  return {
    dinov2Ts: packageVersion(),
    node: process.versions.node,
    onnxruntimeNode: ort.env.versions.node ?? "unknown",
    sharp: await sharpVersion(),
  };
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const [l1, l5, l15] = os.loadavg();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    logicalCores: os.availableParallelism(),
    physicalCores: physicalCores() ?? os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    simd: simdFeatures(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadavg: [round2(l1 ?? 0), round2(l5 ?? 0), round2(l15 ?? 0)],
  };
}

/** The checked-out commit, with "+dirty" when the tree has changes; "unknown" outside git. */
export function gitCommit(cwd = process.cwd()): string {
  try {
    const git = (...args: string[]) =>
      execFileSync("git", args, {
        cwd,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    const sha = git("rev-parse", "HEAD");
    const dirty = git("status", "--porcelain", "--untracked-files=no");
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return "unknown";
  }
}

async function sharpVersion(): Promise<string> {
  try {
    const sharp = (await import("sharp")).default;
    return `${sharp.versions.sharp} (libvips ${sharp.versions.vips})`;
  } catch (e) {
    return `not loadable: ${(e as Error).message.split("\n")[0]}`;
  }
}

/** Distinct (physical id, core id) pairs in /proc/cpuinfo; undefined where there is none. */
function physicalCores(): number | undefined {
  const text = cpuinfo();
  if (text === undefined) return undefined;
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const phys = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (phys !== undefined && core !== undefined) cores.add(`${phys}:${core}`);
  }
  return cores.size > 0 ? cores.size : undefined;
}

const SIMD_FLAGS = [
  "avx2",
  "fma",
  "avx512f",
  "avx512_vnni",
  "avx512_bf16",
  "amx_tile",
  "asimd",
  "sve",
];

function simdFeatures(): string {
  const flags = new Set(
    /^(?:flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo() ?? "")?.[1]?.split(/\s+/) ?? [],
  );
  const found = SIMD_FLAGS.filter((f) => flags.has(f));
  return found.length ? found.join(" ") : "unknown";
}

function cpuinfo(): string | undefined {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return undefined;
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
