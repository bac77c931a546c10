// The one declaration of a train step's graph inputs and outputs. Every input is created here
// with its name, shape, dtype and role, and every piece of state is paired with the output that
// replaces it after the step. The graph (train-step.ts), the feeds, the initial and next state
// (state.ts) and the parity test all read this record: no name is spelled twice.
import {
  type DType,
  fmtShape,
  type HostTensor,
  InternalError,
  input,
  type Shape,
  shapesEqual,
  type Tensor,
  topoSort,
} from "../core/index.js";

/** What feeds an input each step. */
export type InputRole = "batch" | "schedule" | "drop-path" | "state";

/** How a piece of state starts a run. */
export type StateInit =
  /** The student's random initialisation of parameter `key` (or a loaded checkpoint's). */
  | { readonly kind: "param"; readonly key: string }
  /** All zeros: AdamW moments, centers. */
  | { readonly kind: "zeros" }
  /** Weights `key` the caller must supply (a frozen distillation teacher). */
  | { readonly kind: "given"; readonly key: string };

export interface InputSpec {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly role: InputRole;
  /** State only: how it starts; `next` names the output that replaces it (absent: frozen). */
  readonly init?: StateInit;
  readonly next?: string;
}

export type OutputRole = "loss" | "state" | "grad";

export interface OutputSpec {
  readonly name: string;
  readonly role: OutputRole;
}

/** Prefix of the output that replaces state `name`. */
const NEXT = "new.";

/**
 * Built once per graph: `input`/`state` create the graph inputs, `update`/`output` register the
 * outputs, `seal` checks the declaration against the graph that was built.
 */
export class StepSignature {
  private readonly ins = new Map<string, InputSpec>();
  private readonly outs = new Map<string, OutputSpec>();
  private readonly tensors = new Map<string, Tensor>();
  private readonly inputTensors = new Map<string, Tensor>();
  private readonly updates = new Set<string>();

  /** A non-state input (batch, schedule or drop-path rows). */
  input(role: Exclude<InputRole, "state">, name: string, shape: Shape, dtype: DType = "float32") {
    return this.declare({ name, shape, dtype, role });
  }

  /** A piece of state; `frozen` state enters every step unchanged and has no output. */
  state(name: string, shape: Shape, init: StateInit, o: { frozen?: boolean } = {}): Tensor {
    return this.declare({
      name,
      shape,
      dtype: "float32",
      role: "state",
      init,
      ...(o.frozen ? {} : { next: NEXT + name }),
    });
  }

  /** The graph tensor of declared input `name`. */
  tensorOf(name: string): Tensor {
    const t = this.inputTensors.get(name);
    if (!t) throw new InternalError(`"${name}" is not a declared input`);
    return t;
  }

  /** The value state `name` takes after the step. */
  update(name: string, t: Tensor): void {
    const spec = this.ins.get(name);
    if (!spec?.next) throw new InternalError(`update of "${name}", which is not updated state`);
    if (!shapesEqual(spec.shape, t.shape))
      throw new InternalError(
        `update of "${name}" has shape ${fmtShape(t.shape)}, the state ${fmtShape(spec.shape)}`,
      );
    if (this.updates.has(name)) throw new InternalError(`"${name}" updated twice`);
    this.updates.add(name);
    this.addOutput(spec.next, "state", t);
  }

  /** A loss or diagnostic output. */
  output(role: Exclude<OutputRole, "state">, name: string, t: Tensor): void {
    this.addOutput(name, role, t);
  }

  /**
   * The graph outputs, after checking that every updated state has its update and that the
   * graph uses every declared input (an unused one could not be fed: ONNX drops it). Frozen
   * state nothing reads (a frozen teacher's mask token) is dropped from the declaration.
   */
  seal(): Record<string, Tensor> {
    for (const s of this.ins.values())
      if (s.next && !this.updates.has(s.name))
        throw new InternalError(`state "${s.name}" has no update`);
    const outputs = Object.fromEntries(this.tensors);
    const used = new Set(
      topoSort(Object.values(outputs))
        .filter((t) => t.op.name === "input")
        .map((t) => (t.attrs as { name: string }).name),
    );
    for (const spec of [...this.ins.values()])
      if (spec.role === "state" && !spec.next && !used.has(spec.name)) this.ins.delete(spec.name);
    const unused = [...this.ins.keys()].filter((n) => !used.has(n));
    if (unused.length > 0)
      throw new InternalError(`declared inputs the graph does not use: ${unused.join(", ")}`);
    return outputs;
  }

  get inputs(): readonly InputSpec[] {
    return [...this.ins.values()];
  }

  get outputs(): readonly OutputSpec[] {
    return [...this.outs.values()];
  }

  inputsOf(role: InputRole): InputSpec[] {
    return this.inputs.filter((s) => s.role === role);
  }

  outputsOf(role: OutputRole): OutputSpec[] {
    return this.outputs.filter((s) => s.role === role);
  }

  /** Checks a host tensor against the declaration of input `name`. */
  check(name: string, t: HostTensor | undefined, source: string): HostTensor {
    const spec = this.ins.get(name);
    if (!spec) throw new InternalError(`"${name}" is not an input of the step`);
    if (!t) throw new Error(`${source} has no "${name}" (${spec.dtype}${fmtShape(spec.shape)})`);
    if (t.dtype !== spec.dtype || !shapesEqual(t.shape, spec.shape))
      throw new Error(
        `${source}: "${name}" is ${t.dtype}${fmtShape(t.shape)}, the step takes ${spec.dtype}${fmtShape(spec.shape)}`,
      );
    return t;
  }

  private declare(spec: InputSpec): Tensor {
    if (this.ins.has(spec.name)) throw new InternalError(`input "${spec.name}" declared twice`);
    this.ins.set(spec.name, spec);
    const t = input(spec.name, spec.shape, spec.dtype);
    this.inputTensors.set(spec.name, t);
    return t;
  }

  private addOutput(name: string, role: OutputRole, t: Tensor): void {
    if (this.outs.has(name)) throw new InternalError(`output "${name}" declared twice`);
    this.outs.set(name, { name, role });
    this.tensors.set(name, t);
  }
}
