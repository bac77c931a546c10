// `dinov2 doctor`: versions, machine, the execution providers that really start here, a numeric
// self-test of the core and a MatMul throughput figure on each. Exits 1 if the CPU self-test fails.
import { createRuntime, loadOrt, type Provider } from "../../runtime/index.js";
import { defineCommand } from "../command.js";
import { intFlag } from "../flag-values.js";
import { type MatmulRate, type MatmulRateOptions, measureMatmulRate } from "../matmul-rate.js";
import { quietProbe } from "../quiet-probe.js";
import { collectVersions, type MachineInfo, machineInfo, type Versions } from "../run-info.js";
import { runSelfTest, SELF_TEST_TOLERANCE, type SelfTestResult } from "../self-test.js";
import { renderPairs, renderTable } from "../table.js";

export interface ProviderReport {
  readonly provider: Provider;
  readonly starts: boolean;
  /** Why it does not start: onnxruntime's error, shortened. */
  readonly detail: string;
  readonly selfTest?: SelfTestResult;
  readonly matmul?: MatmulRate;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly versions: Versions;
  readonly machine: MachineInfo;
  /** Intra-op threads our runtime gives onnxruntime on the CPU provider. */
  readonly ortThreads: number;
  readonly providers: readonly ProviderReport[];
  /** What native libraries printed to stderr while the providers were probed (not shown). */
  readonly probeStderr: readonly string[];
}

/** Big enough to reach each kind of device's plateau, small enough to take well under a second. */
const MATMUL_SIZE: Readonly<Record<Provider, MatmulRateOptions>> = {
  cpu: { n: 1024, chain: 4, runs: 5 },
  webgpu: { n: 2048, chain: 8, runs: 5 },
  cuda: { n: 2048, chain: 8, runs: 5 },
};

export const doctorCommand = defineCommand({
  name: "doctor",
  summary: "check this machine: versions, execution providers, a numeric self-test, MatMul speed",
  description: [
    "Each execution provider is tried by creating a session and running a graph, never guessed.",
    "On each one that starts, a matmul -> softmax -> layerNorm graph and its gradient are checked",
    "against float64 JS (tolerance: forward 1e-4, gradient 1e-3, relative to max(1, |value|)),",
    "and a chain of fp32 MatMuls is timed. Exits 1 if the CPU provider fails its self-test.",
  ].join("\n"),
  flags: {
    json: { type: "boolean", description: "print one JSON object instead of tables" },
    threads: {
      type: "string",
      valueName: "N",
      description: "intra-op threads for onnxruntime (default: every core this process may use)",
    },
  },
  examples: ["dinov2 doctor", "dinov2 doctor --json --threads 1"],
  run: async (flags, ctx) => {
    const threads =
      flags.threads === undefined ? undefined : intFlag(flags.threads, "threads", { min: 1 });
    // onnxruntime logs failed provider loads to stderr itself; the probe reports them anyway.
    if (!ctx.isDebug) (await loadOrt()).env.logLevel = "fatal";
    const report = await diagnose(threads);
    ctx.out(flags.json ? JSON.stringify(report, null, 2) : renderReport(report, ctx.isDebug));
    return report.ok ? 0 : 1;
  },
});

async function diagnose(threads: number | undefined): Promise<DoctorReport> {
  const versions = await collectVersions();
  const machine = machineInfo();
  const providers: ProviderReport[] = [];
  const { probes, stderr } = await quietProbe();
  for (const probe of probes) {
    if (!probe.ok) {
      providers.push({ provider: probe.provider, starts: false, detail: shorten(probe.detail) });
      continue;
    }
    const rt = await createRuntime({ provider: probe.provider, ...(threads ? { threads } : {}) });
    const selfTest = await runSelfTest(rt);
    const matmul = selfTest.error
      ? undefined
      : await measureMatmulRate(rt, MATMUL_SIZE[probe.provider]);
    providers.push({
      provider: probe.provider,
      starts: true,
      detail: probe.detail,
      selfTest,
      ...(matmul ? { matmul } : {}),
    });
  }
  const cpu = providers.find((p) => p.provider === "cpu");
  return {
    ok: cpu?.selfTest?.ok === true,
    versions,
    machine,
    ortThreads: threads ?? machine.logicalCores, // createRuntime's default
    providers,
    probeStderr: stderr,
  };
}

function renderReport(r: DoctorReport, isDebug: boolean): string {
  const m = r.machine;
  const rows = r.providers.map((p) => [
    p.provider,
    p.starts ? "yes" : "no",
    p.selfTest ? selfTestCell(p.selfTest) : "-",
    p.matmul ? `${p.matmul.gflops.toFixed(0)} (${p.matmul.n}³ ×${p.matmul.chain})` : "-",
    p.starts ? "" : p.detail,
  ]);
  return [
    "Versions",
    renderPairs([
      ["dinov2-ts", r.versions.dinov2Ts],
      ["Node", r.versions.node],
      ["onnxruntime-node", r.versions.onnxruntimeNode],
      ["sharp", r.versions.sharp],
    ]),
    "",
    "Machine",
    renderPairs([
      ["CPU", `${m.cpuModel} (${m.logicalCores} logical, ${m.physicalCores} physical cores)`],
      ["SIMD", m.simd],
      ["memory", `${m.memoryGiB} GiB`],
      ["platform", m.platform],
      ["load average", m.loadavg.join(" ")],
      ["ORT threads", `${r.ortThreads} intra-op on the CPU provider`],
    ]),
    "",
    "Execution providers",
    renderTable([
      ["provider", "starts", "self-test: fwd / grad max err", "MatMul GFLOP/s", "why not"],
      ...rows,
    ]),
    "",
    ...stderrNote(r.probeStderr, isDebug),
    r.ok ? "doctor: ok" : "doctor: FAILED: the CPU provider did not pass its self-test",
  ]
    .filter((l, i, all) => l !== "" || all[i - 1] !== "")
    .join("\n");
}

function stderrNote(lines: readonly string[], isDebug: boolean): string[] {
  if (lines.length === 0) return [];
  if (isDebug) return ["Native stderr while probing:", ...lines.map((l) => `  ${l}`), ""];
  return [
    `(native libraries wrote ${lines.length} lines to stderr while probing; --debug shows them)`,
  ];
}

function selfTestCell(t: SelfTestResult): string {
  if (t.error) return `FAIL: ${t.error}`;
  const errs = `${t.forwardMaxErr.toExponential(1)} / ${t.gradMaxErr.toExponential(1)}`;
  return t.ok
    ? `pass ${errs}`
    : `FAIL ${errs} (limits ${SELF_TEST_TOLERANCE.forward} / ${SELF_TEST_TOLERANCE.grad})`;
}

/** onnxruntime's messages start with a source location; keep the sentence that says what failed. */
function shorten(detail: string): string {
  const at = detail.lastIndexOf("Failed");
  const text = at >= 0 ? detail.slice(at) : detail.replace(/^\/\S+:\d+\s+/, "");
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}
