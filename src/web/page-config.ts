// What `dinov2 serve` tells its page at /config.json: the model's geometry and the gallery. The
// server (src/cli/page-server.ts) writes it, the page (main.ts) reads it; both import this type.

export interface GalleryEntry {
  /** File name as shown on the page (relative to the gallery folder). */
  readonly name: string;
  /** Where the page fetches the bytes: /gallery/<index>. */
  readonly url: string;
}

export interface PageConfig {
  /** One line naming the model, for the page header. */
  readonly model: string;
  /** The ONNX file (input pixel_values [B, 3, S, S], output last_hidden_state [B, N, D]). */
  readonly modelUrl: string;
  /** S: the square crop the model sees; the eval transform resizes to round(S·256/224) first. */
  readonly imageSize: number;
  readonly patchSize: number;
  readonly numRegisters: number;
  readonly dim: number;
  /** The page refuses dropped files larger than this. */
  readonly maxImageBytes: number;
  readonly gallery: readonly GalleryEntry[];
}
