// Graph -> SSA text (jaxpr-like), for tests, `dinov2 inspect-graph` and error context.
import { topoSort } from "./graph.js";
import { fmtType, type Tensor } from "./tensor.js";

/**
 * One line per node, e.g. `%3 = matmul(%1, %2) : f32[2,4]   # blocks.0.attn.qkv`.
 * Leaves print their name (inputs) or shape (constants); outputs are listed last.
 */
export function printGraph(outputs: Readonly<Record<string, Tensor>>): string {
  const order = topoSort(Object.values(outputs));
  const ids = new Map<Tensor, string>();
  const lines: string[] = [];
  for (const t of order) {
    const id = `%${ids.size}`;
    ids.set(t, id);
    const args = t.inputs.map((x) => ids.get(x)).join(", ");
    const attrs = fmtAttrs(t);
    const call = t.inputs.length ? `${t.op.name}(${args})` : `${t.op.name}${attrs}`;
    const tail = t.scope ? `   # ${t.scope}` : "";
    lines.push(`${id} = ${call}${t.inputs.length ? attrs : ""} : ${fmtType(t)}${tail}`);
  }
  for (const [name, t] of Object.entries(outputs)) lines.push(`return ${name} = ${ids.get(t)}`);
  return lines.join("\n");
}

function fmtAttrs(t: Tensor): string {
  const entries = Object.entries(t.attrs).filter(
    ([k]) => k !== "value" && k !== "shape" && k !== "dtype",
  );
  if (t.op.name === "constant") return "";
  if (entries.length === 0) return "";
  const body = entries.map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(",")}]` : String(v)}`);
  return ` {${body.join(", ")}}`;
}
