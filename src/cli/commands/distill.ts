// `dinov2 distill`: a frozen, larger network teaches a student (paper §5). The training loop of
// `dinov2 train` with a frozen teacher; the result is the student's EMA.
import { defineCommand } from "../command.js";
import { intFlag, requiredFlag } from "../flag-values.js";
import { runTrainCommand, TRAIN_FLAGS } from "./train.js";

export const distillCommand = defineCommand({
  name: "distill",
  summary: "distill a frozen teacher (backbone + heads) into a student, as the paper's §5",
  description: [
    "The pretraining iteration with a frozen teacher: DINO and iBOT cross-entropy against the",
    "teacher's centred (or Sinkhorn-Knopp) targets, KoLeo, the official schedules, parameter groups,",
    "clipping and AdamW. The paper's differences are config keys with its values as defaults:",
    "  distillation.ibot_all_patches=true     no masking; iBOT on every patch of both global crops",
    "  distillation.student_ema=true          a spare EMA of the student is the exported result",
    "  distillation.student_drop_path_rate=0  no stochastic depth on the student",
    "The student's heads take the teacher's prototype counts. The teacher is a training",
    "checkpoint with heads: the official teacher_checkpoint.pth or training checkpoint, our",
    "checkpoints/*.safetensors, or eval/training_<N>/teacher_checkpoint.safetensors.",
    "Every `dinov2 train` flag works here (see `dinov2 train --help`).",
  ].join("\n"),
  flags: {
    teacher: {
      type: "string",
      valueName: "FILE",
      description: "the frozen teacher (backbone + DINO/iBOT heads)",
    },
    "teacher-num-heads": {
      type: "string",
      valueName: "N",
      description: "the teacher's attention heads, when its width is not a multiple of 64",
    },
    ...TRAIN_FLAGS,
  },
  examples: [
    "dinov2 distill --teacher runs/big/checkpoints/checkpoint-0002000.safetensors --preset vits14-demo --set student.depth=3 --output-dir runs/distilled --iters 500",
    "dinov2 distill --teacher teacher_checkpoint.pth --preset vits14 --data ~/images --output-dir runs/s14",
  ],
  run: (v, ctx) =>
    runTrainCommand(v, ctx, {
      teacher: requiredFlag(v.teacher, "teacher", "distill"),
      ...(v["teacher-num-heads"]
        ? { teacherNumHeads: intFlag(v["teacher-num-heads"], "teacher-num-heads", { min: 1 }) }
        : {}),
    }),
});
