// The student (or teacher): backbone, DINO head and optional separate iBOT head, named as the
// official `nn.ModuleDict` (backbone.*, dino_head.*, ibot_head.*). Port of SSLMetaArch.__init__.

import type { VitOptions } from "../models/presets.js";
import { DinoVisionTransformer } from "../models/vision-transformer.js";
import { DinoHead, type DinoHeadOptions } from "../nn/dino-head.js";
import { Module } from "../nn/module.js";

export interface SslArch {
  readonly backbone: VitOptions;
  /** Present when the DINO loss is on, or when it is the (shared) iBOT head. */
  readonly dinoHead?: DinoHeadOptions;
  /** Present when the iBOT loss is on and its head is untied (ibot.separate_head). */
  readonly ibotHead?: DinoHeadOptions;
}

export class SslModel extends Module {
  readonly backbone: DinoVisionTransformer;
  readonly dinoHead: DinoHead | undefined;
  readonly ibotHead: DinoHead | undefined;

  constructor(readonly arch: SslArch) {
    super();
    this.backbone = new DinoVisionTransformer(arch.backbone);
    this.dinoHead = arch.dinoHead ? new DinoHead(arch.dinoHead) : undefined;
    this.ibotHead = arch.ibotHead ? new DinoHead(arch.ibotHead) : undefined;
  }
}

/** The submodule a parameter key belongs to (`backbone`, `dino_head`, `ibot_head`). */
export function submoduleOf(key: string): string {
  return key.slice(0, key.indexOf("."));
}

/** The head of the iBOT patch loss: the untied one, else the DINO head. */
export function patchHeadOf(m: SslModel): { readonly head: DinoHead; readonly scope: string } {
  if (m.ibotHead) return { head: m.ibotHead, scope: "ibot_head" };
  if (!m.dinoHead) throw new Error("the model has neither a DINO nor an iBOT head");
  return { head: m.dinoHead, scope: "dino_head" };
}
