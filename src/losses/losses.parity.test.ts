// Centering, center updates, KoLeo (value and gradient) and the DINO head (output and parameter
// gradients) against the official code, for every losses.* and dino_head.* fixture set.
import { it } from "vitest";
import { describeEachFixture, expectClose, readJson } from "../../test/helpers/fixtures.js";
import { testRuntime } from "../../test/helpers/op-check.js";
import {
  grad,
  type HostTensor,
  input,
  mean,
  mul,
  reshape,
  sum,
  type Tensor,
} from "../core/index.js";
import { readSafetensorsFile } from "../io/index.js";
import { DinoHead } from "../nn/dino-head.js";
import { bindInputs, namedParams } from "../nn/module.js";
import { centerUpdate, koleoLoss, softmaxCenter } from "./index.js";

async function run(
  outputs: Record<string, Tensor>,
  feeds: Record<string, HostTensor>,
): Promise<Record<string, HostTensor>> {
  const exe = await (await testRuntime()).compile(outputs);
  return exe.run(Object.fromEntries(Object.entries(feeds).filter(([k]) => exe.inputs.has(k))));
}

const feed = (fx: Map<string, HostTensor>, key: string) => input(key, fx.get(key)!.shape);

describeEachFixture("losses.safetensors", "losses, set $set.name", ({ path }) => {
  const fx = readSafetensorsFile(path);
  const cfg = readJson<{ teacher_temp: number; center_momentum: number }>(
    path.replace(/\.safetensors$/, ".json"),
  );
  const feeds = Object.fromEntries(fx);

  it("softmax centering and the EMA center update equal the official DINOLoss", async () => {
    const t = feed(fx, "in.teacher_logits");
    const c = feed(fx, "in.center");
    const got = await run(
      {
        probs: softmaxCenter(t, c, cfg.teacher_temp),
        center: centerUpdate(c, mean(t, 0, { keepDims: true }), cfg.center_momentum),
      },
      feeds,
    );
    expectClose(
      "out.teacher_softmax_centered",
      got.probs!,
      fx.get("out.teacher_softmax_centered")!,
    );
    expectClose("out.center_after_update", got.center!, fx.get("out.center_after_update")!);
  });

  it("iBOT centering and center update equal the official iBOTPatchLoss", async () => {
    const t = feed(fx, "in.ibot_teacher_logits");
    const c = feed(fx, "in.ibot_center");
    const k = t.shape[1]!;
    const got = await run(
      {
        probs: softmaxCenter(t, reshape(c, [1, k]), cfg.teacher_temp),
        center: centerUpdate(c, mean(t, 0, { keepDims: true }), cfg.center_momentum),
      },
      feeds,
    );
    expectClose(
      "out.ibot_teacher_softmax_centered",
      got.probs!,
      fx.get("out.ibot_teacher_softmax_centered")!,
    );
    expectClose(
      "out.ibot_center_after_update",
      got.center!,
      fx.get("out.ibot_center_after_update")!,
    );
  });

  it("KoLeo loss and its gradient equal the official KoLeoLoss", async () => {
    const x = feed(fx, "in.koleo");
    const loss = koleoLoss(x);
    const [g] = grad(loss, [x]);
    const got = await run({ loss: reshape(loss, [1]), g: g! }, feeds);
    expectClose("out.koleo_loss", got.loss!, fx.get("out.koleo_loss")!);
    expectClose("out.grad.koleo", got.g!, fx.get("out.grad.koleo")!);
  });
});

describeEachFixture("dino_head.safetensors", "DINO head, set $set.name", ({ path }) => {
  it("output and parameter gradients equal the official DINOHead", async () => {
    const fx = readSafetensorsFile(path);
    const c = readJson<{
      in_dim: number;
      out_dim: number;
      hidden_dim: number;
      bottleneck_dim: number;
      nlayers: number;
    }>(path.replace(/\.safetensors$/, ".json"));
    const head = new DinoHead({
      inDim: c.in_dim,
      outDim: c.out_dim,
      hiddenDim: c.hidden_dim,
      bottleneckDim: c.bottleneck_dim,
      nlayers: c.nlayers,
    });
    const params = bindInputs(head, "weights.");
    const y = head.forward(feed(fx, "in.x"));
    const names = namedParams(head).map(([k]) => k);
    const grads = grad(
      sum(mul(y, feed(fx, "in.R"))),
      names.map((k) => params.get(k)!),
    );
    const outs: Record<string, Tensor> = { y };
    names.forEach((k, i) => {
      outs[`grad.${k}`] = grads[i]!;
    });
    const got = await run(outs, Object.fromEntries(fx));
    expectClose("out.y", got.y!, fx.get("out.y")!);
    for (const k of names) expectClose(`grad.${k}`, got[`grad.${k}`]!, fx.get(`grad.${k}`)!);
  });
});
