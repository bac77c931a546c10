// The embed bench's fixed input, the same in every process (bench/embed-worker.ts) and in
// scripts/profile-onnx.ts, so a profile describes the batches the bench timed.
export function benchPixels(batch: number, side: number): Float32Array {
  const n = batch * 3 * side * side;
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.01) * 2);
}
