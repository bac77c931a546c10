// The student (or teacher): backbone, DINO head and optional separate iBOT head, named as the
// official `nn.ModuleDict` (backbone.*, dino_head.*, ibot_head.*). Port of SSLMetaArch.__init__.

import type { VitOptions } from "../models/presets.js";
import { DinoVisionTransformer } from "../models/vision-transformer.js";
import { DinoHead, type DinoHeadOptions } from "../nn/dino-head.js";
import { Module } from "../nn/module.js";

export interface SslArch {
  readonly backbone: VitOptions;
  readonly dinoHead: DinoHeadOptions;
  /** Present when the iBOT head is untied (ibot.separate_head). */
  readonly ibotHead?: DinoHeadOptions;
}

export class SslModel extends Module {
  readonly backbone: DinoVisionTransformer;
  readonly dinoHead: DinoHead;
  readonly ibotHead: DinoHead | undefined;

  constructor(readonly arch: SslArch) {
    super();
    this.backbone = new DinoVisionTransformer(arch.backbone);
    this.dinoHead = new DinoHead(arch.dinoHead);
    this.ibotHead = arch.ibotHead ? new DinoHead(arch.ibotHead) : undefined;
  }
}

/** The submodule a parameter key belongs to (`backbone`, `dino_head`, `ibot_head`). */
export function submoduleOf(key: string): string {
  return key.slice(0, key.indexOf("."));
}
