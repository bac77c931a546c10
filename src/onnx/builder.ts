// OnnxBuilder: node(), initializers and inputs with fresh, deterministic names (like onnx.helper).
import {
  type DType,
  type HostTensor,
  hostTensor,
  type OnnxAttr,
  type OnnxEmitter,
  type ValueType,
} from "../core/index.js";

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

export { ONNX_DTYPE } from "../core/index.js";

export interface NodeRecord {
  readonly opType: string;
  readonly inputs: readonly string[];
  outputs: string[];
  readonly name: string;
  readonly attrs: Readonly<Record<string, OnnxAttr>>;
  readonly domain: string;
}

export interface InitializerRecord {
  readonly name: string;
  readonly value: HostTensor;
}

/** Collects nodes, initializers and graph inputs while a graph is lowered. */
export class OnnxBuilder implements OnnxEmitter {
  readonly nodes: NodeRecord[] = [];
  readonly initializers: InitializerRecord[] = [];
  readonly inputs = new Map<string, ValueType>();
  /** Module path of the node being lowered: prefixes the names it creates. */
  scope = "";
  private counter = 0;
  private readonly smallConsts = new Map<string, string>();
  private readonly producer = new Map<string, NodeRecord>();

  constructor(readonly opset: number = ONNX_OPSET) {}

  private fresh(base: string): string {
    const prefix = this.scope ? `${this.scope}/` : "";
    return `${prefix}${base}_${this.counter++}`;
  }

  node(
    opType: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, OnnxAttr>> = {},
    domain = "",
  ): string {
    const out = this.fresh(opType);
    const rec: NodeRecord = { opType, inputs, outputs: [out], name: out, attrs, domain };
    this.nodes.push(rec);
    this.producer.set(out, rec);
    return out;
  }

  constInt64(values: readonly number[]): string {
    return this.small("int64", [values.length], values);
  }

  constScalar(value: number, dtype: DType): string {
    return this.small(dtype, [], [value]);
  }

  constTensor(value: HostTensor): string {
    if (value.data.length <= 16) {
      return this.small(
        value.dtype,
        value.shape,
        Array.from(value.data as ArrayLike<number | bigint>, Number),
      );
    }
    const name = this.fresh("const");
    this.initializers.push({ name, value });
    return name;
  }

  input(name: string, type: ValueType): string {
    this.inputs.set(name, type);
    return name;
  }

  nodeOutput(first: string, index: number): string {
    const rec = this.producer.get(first);
    if (!rec || rec.outputs[0] !== first) {
      throw new Error(`nodeOutput: "${first}" is not the first output of a node of this graph`);
    }
    if (!rec.outputs[index]) {
      while (rec.outputs.length <= index) rec.outputs.push("");
      const name = `${first}:${index}`;
      rec.outputs[index] = name;
      this.producer.set(name, rec);
    }
    return rec.outputs[index]!;
  }

  /** Gives the value `from` the graph-output name `to`: renames its producer, or adds Identity. */
  nameOutput(from: string, to: string): void {
    const rec = this.producer.get(from);
    if (rec && !this.inputs.has(to) && !this.producer.has(to)) {
      rec.outputs = rec.outputs.map((o) => (o === from ? to : o));
      this.producer.delete(from);
      this.producer.set(to, rec); // called right after `from` was made: nothing consumes it yet
      return;
    }
    const id: NodeRecord = {
      opType: "Identity",
      inputs: [from],
      outputs: [to],
      name: `${to}/Identity`,
      attrs: {},
      domain: "",
    };
    this.nodes.push(id);
    this.producer.set(to, id);
  }

  private small(dtype: DType, shape: readonly number[], values: readonly number[]): string {
    const key = `${dtype}|${shape.join(",")}|${values.join(",")}`;
    let name = this.smallConsts.get(key);
    if (!name) {
      name = `const/${dtype}[${shape.join(",")}]{${values.join(",")}}`;
      if (name.length > 120) name = `const/${this.counter++}`;
      this.smallConsts.set(key, name);
      this.initializers.push({ name, value: hostTensor(dtype, shape, values) });
    }
    return name;
  }
}
