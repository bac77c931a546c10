# Usage: python3 scripts/make-vitg-pth.py OUT.pth [REGISTERS]  (torch + the official dinov2 package on
# sys.path; DINOV2_REFERENCE names its parent folder). Writes ~4.5 GB; delete it after.
# A ViT-g/14-shaped official state dict (the released dinov2_vitg14_pretrain.pth layout), random.
import sys, time, torch
import os
sys.path.insert(0, os.environ.get("DINOV2_REFERENCE", "../shared/reference"))
from dinov2.models.vision_transformer import vit_giant2
regs = int(sys.argv[2]) if len(sys.argv) > 2 else 0
with torch.device("meta"):
    m = vit_giant2(patch_size=14, img_size=518, init_values=1.0, ffn_layer="swiglufused",
                   block_chunks=0, num_register_tokens=regs,
                   interpolate_antialias=regs > 0, interpolate_offset=0.0 if regs else 0.1)
g = torch.Generator().manual_seed(0)
sd = {}
for k, v in m.state_dict().items():
    t = torch.empty(v.shape, dtype=torch.float32)
    if k.endswith("norm1.weight") or k.endswith("norm2.weight") or k == "norm.weight":
        t.fill_(1.0)
    else:
        t.normal_(0, 0.02, generator=g)
    sd[k] = t
t0 = time.time()
torch.save(sd, sys.argv[1])
print(len(sd), "tensors", sum(t.numel() for t in sd.values()), "params, saved in", round(time.time() - t0, 1), "s")
