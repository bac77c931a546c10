// The dispatch table of `dinov2` subcommands: the one place a command is registered.
// To add one: write src/cli/commands/<name>.ts exporting a defineCommand(...) result, then list
// it below (the order here is the order of `dinov2 --help`).
import type { Command } from "./command.js";
import { convertCommand } from "./commands/convert.js";
import { demoCommand } from "./commands/demo.js";
import { distillCommand } from "./commands/distill.js";
import { doctorCommand } from "./commands/doctor.js";
import { embedCommand } from "./commands/embed.js";
import { evalDepthCommand } from "./commands/eval-depth.js";
import { evalKnnCommand } from "./commands/eval-knn.js";
import { evalLinearCommand } from "./commands/eval-linear.js";
import { evalLogregCommand } from "./commands/eval-logreg.js";
import { evalRetrievalCommand } from "./commands/eval-retrieval.js";
import { evalSegCommand } from "./commands/eval-seg.js";
import { exportOnnxCommand } from "./commands/export-onnx.js";
import { inspectGraphCommand } from "./commands/inspect-graph.js";
import { serveCommand } from "./commands/serve.js";
import { trainCommand } from "./commands/train.js";
import { vizCommand } from "./commands/viz.js";

export const COMMANDS: readonly Command[] = [
  demoCommand,
  trainCommand,
  distillCommand,
  doctorCommand,
  embedCommand,
  evalKnnCommand,
  evalLinearCommand,
  evalLogregCommand,
  evalRetrievalCommand,
  evalSegCommand,
  evalDepthCommand,
  vizCommand,
  exportOnnxCommand,
  convertCommand,
  serveCommand,
  inspectGraphCommand,
];
