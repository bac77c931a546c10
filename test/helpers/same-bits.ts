// Bit-for-bit equality of two tensors' data (resume, init and config-key tests): the bytes of
// each typed array's own view, not of the buffer behind it.
export function sameBits(a: { readonly data: unknown }, b: { readonly data: unknown }): boolean {
  const bytes = (t: { readonly data: unknown }) => {
    const d = t.data as ArrayBufferView;
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  };
  return bytes(a).equals(bytes(b));
}
