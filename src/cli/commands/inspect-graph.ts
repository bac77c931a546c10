// `dinov2 inspect-graph`: prints the traced graph of one transformer block or a whole backbone
// forward pass as SSA text (printGraph), with node counts per op. Parameters are graph inputs.
import { input, printGraph, type Tensor, topoSort, withScope } from "../../core/index.js";
import { isVitPreset, VIT_PRESETS, type VitOptions, vitOptions } from "../../models/presets.js";
import { blockOptions, DinoVisionTransformer } from "../../models/vision-transformer.js";
import { Block } from "../../nn/block.js";
import { bindInputs } from "../../nn/module.js";
import { defineCommand } from "../command.js";
import { choiceFlag, intFlag } from "../flag-values.js";
import { renderTable } from "../table.js";
import { UsageError } from "../usage-error.js";

const WHAT = ["block", "forward"] as const;

export const inspectGraphCommand = defineCommand({
  name: "inspect-graph",
  summary: "print the traced graph of a transformer block or a backbone forward pass",
  description: [
    "Builds the graph with every parameter as a graph input (no weights are loaded) and prints",
    "it one node per line, `%id = op(args) {attrs} : type   # module path`, then node counts.",
  ].join("\n"),
  flags: {
    model: {
      type: "string",
      valueName: "NAME",
      default: "vits14",
      description: `backbone preset: ${Object.keys(VIT_PRESETS).join(", ")}`,
    },
    what: {
      type: "string",
      valueName: "KIND",
      default: "forward",
      description: "block (blocks.0 alone) or forward (forward_features)",
    },
    "image-size": {
      type: "string",
      valueName: "PX",
      default: "224",
      description: "square input side, a multiple of the patch size",
    },
    batch: { type: "string", valueName: "N", default: "1", description: "images per batch" },
    summary: { type: "boolean", description: "print only the node counts" },
  },
  examples: [
    "dinov2 inspect-graph --what block",
    "dinov2 inspect-graph --model vitl14 --what forward --image-size 518 --summary",
  ],
  run: async (flags, ctx) => {
    if (!isVitPreset(flags.model)) {
      throw new UsageError(
        `--model: got "${flags.model}", expected one of ${Object.keys(VIT_PRESETS).join(", ")}`,
        { flag: "--model" },
      );
    }
    const what = choiceFlag(flags.what, "what", WHAT);
    const options = vitOptions(flags.model);
    const imageSize = intFlag(flags["image-size"], "image-size", { min: options.patchSize });
    if (imageSize % options.patchSize !== 0) {
      throw new UsageError(
        `--image-size: got ${imageSize}, expected a multiple of the patch size ${options.patchSize}`,
        { flag: "--image-size" },
      );
    }
    const batch = intFlag(flags.batch, "batch", { min: 1 });
    const outputs =
      what === "block"
        ? blockGraph(options, imageSize, batch)
        : forwardGraph(options, imageSize, batch);
    const title = `# ${flags.model} ${what}, batch ${batch}, ${imageSize}x${imageSize}`;
    ctx.out(
      flags.summary
        ? [title, countNodes(outputs)].join("\n")
        : [title, printGraph(outputs), "", countNodes(outputs)].join("\n"),
    );
    return 0;
  },
});

/** blocks.0 on packed tokens x: [B·N, D] (N = patches + cls + registers). */
function blockGraph(o: VitOptions, imageSize: number, batch: number): Record<string, Tensor> {
  const tokens = (imageSize / o.patchSize) ** 2 + 1 + o.numRegisterTokens;
  const block = new Block(blockOptions(o));

  bindInputs(block, "blocks.0.");
  const x = input("x", [batch * tokens, o.embedDim]);
  const y = withScope("blocks.0", () => block.forward(x, [{ batch, tokens }]));
  return { y };
}

/** forward_features: the normed cls token and patch tokens. */
function forwardGraph(o: VitOptions, imageSize: number, batch: number): Record<string, Tensor> {
  const model = new DinoVisionTransformer(o);
  bindInputs(model);
  const images = input("images", [batch, o.inChans, imageSize, imageSize]);
  const f = model.forwardFeatures(images);
  return { cls: f.clsToken, patches: f.patchTokens };
}

function countNodes(outputs: Readonly<Record<string, Tensor>>): string {
  const nodes = topoSort(Object.values(outputs));
  const byOp = new Map<string, number>();
  for (const t of nodes) byOp.set(t.op.name, (byOp.get(t.op.name) ?? 0) + 1);
  const rows = [...byOp].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [
    `${nodes.length} nodes, ${byOp.size} distinct ops`,
    renderTable([["op", "nodes"], ...rows.map(([op, n]) => [op, String(n)])]),
  ].join("\n");
}
