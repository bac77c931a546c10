// Plain-text tables for command output: columns padded to their widest cell.

/** Renders rows as aligned columns; the first row is the header, underlined. */
export function renderTable(rows: readonly (readonly string[])[], indent = "  "): string {
  if (rows.length === 0) return "";
  const cols = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, c) =>
    Math.max(...rows.map((r) => (r[c] ?? "").length)),
  );
  const line = (r: readonly string[]) =>
    indent +
    widths
      .map((w, c) => (r[c] ?? "").padEnd(w))
      .join("  ")
      .trimEnd();
  const [header, ...body] = rows;
  return [line(header!), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** Key/value lines: "  key   value", keys padded to the widest. */
export function renderPairs(pairs: readonly (readonly [string, string])[], indent = "  "): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`).join("\n");
}
