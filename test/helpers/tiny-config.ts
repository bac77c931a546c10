// A training config small enough for tests: a 48-wide ViT (vit_nano) on 28px global and 14px local
// crops, tiny heads, batch 4, on the vits14-demo preset.
export const TINY_TRAIN_SETS: readonly string[] = [
  "student.arch=vit_nano",
  "student.depth=1",
  "crops.global_crops_size=28",
  "crops.local_crops_size=14",
  "crops.local_crops_number=2",
  "train.batch_size_per_gpu=4",
  "dino.head_n_prototypes=32",
  "dino.head_hidden_dim=32",
  "dino.head_bottleneck_dim=16",
  "ibot.head_n_prototypes=32",
];
