# Reference values for src/eval/{seg-head,depth-losses,depth-head}.test.ts (torch 1.13, CPU, float64).
# Run: python3 test/reference/dense_eval_reference.py
import torch, torch.nn as nn, torch.nn.functional as F, math
torch.set_printoptions(precision=10)
def vals(n, seed):  # same xorshift as test/helpers/op-check.ts randomValues, lo=-1, hi=1
    s = seed & 0xffffffff or 1
    out=[]
    for _ in range(n):
        s ^= (s << 13) & 0xffffffff; s ^= s >> 17; s ^= (s << 5) & 0xffffffff
        out.append(-1 + (s / 2**32) * 2)
    return out
# SigLoss: pred, gt [1,1,3,4]; gt has two invalid (0) pixels and one above max_depth 10
pred = torch.tensor([0.5,1.2,2.0,3.1, 4.0,0.9,7.5,2.2, 1.1,5.5,9.0,0.3],dtype=torch.float64).reshape(1,1,3,4)
gt   = torch.tensor([0.6,1.0,0.0,3.0, 4.4,1.1,12.0,2.0, 1.0,0.0,8.0,0.35],dtype=torch.float64).reshape(1,1,3,4)
eps=0.001
m = (gt>0)&(gt<=10)
i,t = pred[m], gt[m]
g = torch.log(i+eps)-torch.log(t+eps)
print("sigloss", torch.sqrt(torch.var(g)+0.15*torch.mean(g)**2).item())
print("sigloss_warm", torch.sqrt(0.15*torch.mean(g)**2).item())
# GradientLoss (official gradientloss() body) on 2-D [H,W] = 7x9
H,W=7,9
p2 = torch.tensor([0.5+abs(v)*5 for v in vals(H*W, 11)],dtype=torch.float64).reshape(H,W)
g2 = torch.tensor([0.5+abs(v)*5 for v in vals(H*W, 12)],dtype=torch.float64).reshape(H,W)
g2[1,2]=0; g2[4,4]=0; g2[6,0]=0
def gradientloss(input, target, max_depth=None):
    input_downscaled = [input] + [input[:: 2 * i, :: 2 * i] for i in range(1, 4)]
    target_downscaled = [target] + [target[:: 2 * i, :: 2 * i] for i in range(1, 4)]
    gradient_loss = 0
    for input, target in zip(input_downscaled, target_downscaled):
        mask = target > 0
        N = torch.sum(mask)
        log_d_diff = torch.log(input + eps) - torch.log(target + eps)
        log_d_diff = torch.mul(log_d_diff, mask)
        v_gradient = torch.abs(log_d_diff[0:-2, :] - log_d_diff[2:, :])
        v_mask = torch.mul(mask[0:-2, :], mask[2:, :])
        v_gradient = torch.mul(v_gradient, v_mask)
        h_gradient = torch.abs(log_d_diff[:, 0:-2] - log_d_diff[:, 2:])
        h_mask = torch.mul(mask[:, 0:-2], mask[:, 2:])
        h_gradient = torch.mul(h_gradient, h_mask)
        gradient_loss += (torch.sum(h_gradient) + torch.sum(v_gradient)) / N
    return gradient_loss
print("gradloss", gradientloss(p2,g2).item())
torch.set_default_dtype(torch.float64)
x = torch.tensor(vals(24, 21)).reshape(2,3,2,2)
labels = torch.tensor([0,1,2,255, 1,1,2,0, 0,0,255,2, 2,1,0,1,  1,2,0,0, 255,255,1,2, 0,1,1,2, 2,2,0,1]).reshape(2,4,4)
bn = nn.BatchNorm2d(3); conv = nn.Conv2d(3,3,1)
with torch.no_grad():
    bn.weight.copy_(torch.tensor([1.5,0.5,-1.0])); bn.bias.copy_(torch.tensor([0.1,-0.2,0.3]))
    conv.weight.copy_(torch.tensor(vals(9, 22)).reshape(3,3,1,1)); conv.bias.copy_(torch.tensor([0.05,-0.1,0.2]))
bn.train()
logits = conv(bn(x))
up = F.interpolate(logits, size=(4,4), mode="bilinear", align_corners=False)
loss = F.cross_entropy(up, labels, ignore_index=255, reduction="none").mean()
print("train_loss", repr(loss.item()))
print("running_mean", bn.running_mean.tolist())
print("running_var", bn.running_var.tolist())
bn.eval()
print("eval_logits", [round(v, 10) for v in conv(bn(x)).flatten().tolist()])
# depth head, official order: upsample features x4, 1x1 conv to bins, relu+0.1, normalise, einsum
xd = torch.tensor(vals(16, 31)).reshape(1,4,2,2)
cd = nn.Conv2d(4,5,1)
with torch.no_grad():
    cd.weight.copy_(torch.tensor(vals(20, 32)).reshape(5,4,1,1)); cd.bias.copy_(torch.tensor(vals(5, 33)))
u = F.interpolate(xd, size=(8,8), mode="bilinear", align_corners=False)
lg = torch.relu(cd(u)) + 0.1
lg = lg / lg.sum(dim=1, keepdim=True)
bins = torch.linspace(0.001, 10, 5)
d = torch.einsum("ikmn,k->imn", [lg, bins])
print("depth", [round(v, 10) for v in d.flatten().tolist()])
