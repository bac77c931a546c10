// One image file (or encoded bytes) -> the model input [3, S, S]: sharp decoding, then the
// shared eval transform (preprocess.ts, which stays free of Node imports for the browser page).
import { decodeImage } from "../data/decode.js";
import { type EvalTransform, preprocessInto } from "./preprocess.js";

/** Decodes a file or encoded bytes with sharp and applies the transform: [3, S, S] floats. */
export async function loadImage(
  source: string | Uint8Array,
  t: EvalTransform,
): Promise<Float32Array> {
  const out = new Float32Array(3 * t.cropPx * t.cropPx);
  preprocessInto(await decodeImage(source), t, out);
  return out;
}
