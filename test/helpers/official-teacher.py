# An official teacher_checkpoint.pth WITH heads that fit its backbone, made by the official code,
# plus the official teacher's outputs on a few images (the expected values of
# test/e2e/official-teacher.test.ts).
#   /usr/bin/python3 test/helpers/official-teacher.py <reference dir> <out dir>
# writes <out>/teacher_checkpoint.pth and <out>/expected.pth.
#
# The network is the official SSLMetaArch's `teacher` nn.ModuleDict (backbone, dino_head,
# ibot_head), built by SSLMetaArch.__init__ from the official default config with tiny sizes,
# and saved exactly as dinov2/train/train.py's do_test does:
#   torch.save({"teacher": model.teacher.state_dict()}, ".../teacher_checkpoint.pth")
# Two things are added around the official code, neither of which changes what it builds:
# - a tiny arch, registered as the official vit_small is defined (DinoVisionTransformer with
#   MemEffAttention blocks, mlp_ratio 4) but 64 wide, 2 deep, 4 heads: the official archs are
#   too large for a test;
# - import stubs for what SSLMetaArch.__init__ never calls: ssl_meta_arch.py refuses to import
#   without xFormers ("xFormers is required for training"), which only its training forward uses
#   (fmha block-diagonal masks); dinov2/fsdp (FSDP wrapping, the sharded grad scaler) is used by
#   prepare_for_distributed_training and fp16 only, and torch 1.13's FSDP does not import on
#   Debian's Python 3.11 (a dataclass error in torch.distributed._shard); and the dinov2.train package __init__ imports the whole trainer (train.py: fvcore, data
#   loading), so dinov2.train is registered as a bare package and only ssl_meta_arch.py runs.
#   Attention runs the plain PyTorch path (XFORMERS_DISABLED), as without xFormers. That path
#   calls F.scaled_dot_product_attention (torch >= 2.0); on torch 1.13 it is supplied here as
#   its documented formula, softmax(q k^T / sqrt(d)) v (no mask, no dropout: eval mode).
# Every weight is then redrawn (seeded) so that no parameter sits at a value that would hide a
# mapping error: LayerScale gammas (1e-5 at init) and the heads' weight_g (1 at init) included.
import os
import sys
import types
from functools import partial

os.environ["XFORMERS_DISABLED"] = "1"
sys.path.insert(0, sys.argv[1])
out_dir = sys.argv[2]

import torch  # noqa: E402

if not hasattr(torch.nn.functional, "scaled_dot_product_attention"):

    def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
        assert attn_mask is None and dropout_p == 0 and not is_causal
        return torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1) @ v

    torch.nn.functional.scaled_dot_product_attention = scaled_dot_product_attention

xformers = types.ModuleType("xformers")
xformers_ops = types.ModuleType("xformers.ops")
xformers_ops.fmha = types.ModuleType("xformers.ops.fmha")
xformers.ops = xformers_ops


def not_here(*args, **kwargs):
    raise RuntimeError("FSDP is stubbed in this script")


dinov2_fsdp = types.ModuleType("dinov2.fsdp")
for name in ("get_fsdp_wrapper", "ShardedGradScaler", "get_fsdp_modules", "reshard_fsdp_model"):
    setattr(dinov2_fsdp, name, not_here)
dinov2_train = types.ModuleType("dinov2.train")
dinov2_train.__path__ = [os.path.join(sys.argv[1], "dinov2", "train")]
sys.modules.update(
    {
        "xformers": xformers,
        "xformers.ops": xformers_ops,
        "dinov2.fsdp": dinov2_fsdp,
        "dinov2.train": dinov2_train,
    }
)

from omegaconf import OmegaConf  # noqa: E402

import dinov2.models.vision_transformer as vits  # noqa: E402
from dinov2.configs import dinov2_default_config  # noqa: E402
from dinov2.layers import MemEffAttention  # noqa: E402
from dinov2.models.vision_transformer import Block, DinoVisionTransformer  # noqa: E402
from dinov2.train.ssl_meta_arch import SSLMetaArch  # noqa: E402


def vit_test(patch_size=16, num_register_tokens=0, **kwargs):
    # As the official vit_small, with test sizes.
    return DinoVisionTransformer(
        patch_size=patch_size,
        embed_dim=64,
        depth=2,
        num_heads=4,
        mlp_ratio=4,
        block_fn=partial(Block, attn_class=MemEffAttention),
        num_register_tokens=num_register_tokens,
        **kwargs,
    )


vits.vit_test = vit_test

cfg = OmegaConf.merge(
    OmegaConf.create(dinov2_default_config),
    OmegaConf.create(
        {
            "student": {"arch": "vit_test", "patch_size": 14, "block_chunks": 2},
            "crops": {"global_crops_size": 56, "local_crops_size": 28},
            "compute_precision": {"grad_scaler": False},
            "dino": {"head_n_prototypes": 96, "head_hidden_dim": 80, "head_bottleneck_dim": 32},
            "ibot": {
                "separate_head": True,
                "head_n_prototypes": 72,
                "head_hidden_dim": 56,
                "head_bottleneck_dim": 24,
            },
        }
    ),
)
torch.manual_seed(0)
model = SSLMetaArch(cfg)
teacher = model.teacher
gen = torch.Generator().manual_seed(1)
with torch.no_grad():
    for name, p in teacher.named_parameters():
        if name.endswith((".gamma", "weight_g")) or (p.dim() == 1 and "norm" in name and name.endswith("weight")):
            p.copy_(0.5 + torch.rand(p.shape, generator=gen))
        else:
            p.copy_(0.05 * torch.randn(p.shape, generator=gen))

os.makedirs(out_dir, exist_ok=True)
# dinov2/train/train.py, do_test:
new_state_dict = model.teacher.state_dict()
torch.save({"teacher": new_state_dict}, os.path.join(out_dir, "teacher_checkpoint.pth"))

teacher.eval()
images = torch.randn(2, 3, 56, 56, generator=gen)
with torch.no_grad():
    f = teacher.backbone(images, is_training=True)
    cls = f["x_norm_clstoken"]
    patches = f["x_norm_patchtokens"]
    dino = teacher.dino_head(cls)
    ibot = teacher.ibot_head(patches)
expected = {
    "in.images": images,
    "out.cls": cls,
    "out.patches": patches,
    "out.dino_head": dino,
    "out.ibot_head": ibot,
}
torch.save({k: v.contiguous().clone() for k, v in expected.items()}, os.path.join(out_dir, "expected.pth"))
print(" ".join(f"{k}{list(v.shape)}" for k, v in expected.items()))
print("keys:", " ".join(list(new_state_dict.keys())[:6]), "...", len(new_state_dict))
