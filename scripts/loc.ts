// Lines per folder of src/ (like tinygrad's sz.py): source and test lines apart, the largest
// file, and every file over the 500-line limit of docs/style.md.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

interface FolderStats {
  files: number;
  lines: number;
  testFiles: number;
  testLines: number;
  largest: { file: string; lines: number };
}

const LIMIT = 500;
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const stats = new Map<string, FolderStats>();
const overLimit: string[] = [];

for (const file of walk(src)) {
  const rel = relative(src, file);
  const folder = rel.includes(sep) ? rel.split(sep)[0]! : ".";
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "").length;
  const s = stats.get(folder) ?? {
    files: 0,
    lines: 0,
    testFiles: 0,
    testLines: 0,
    largest: { file: "", lines: 0 },
  };
  if (/\.(test|cases)\.ts$/.test(file)) {
    s.testFiles++;
    s.testLines += lines;
  } else {
    s.files++;
    s.lines += lines;
    if (lines > s.largest.lines) s.largest = { file: rel, lines };
    if (lines > LIMIT) overLimit.push(`${rel} (${lines})`);
  }
  stats.set(folder, s);
}

const rows = [...stats].sort((a, b) => b[1].lines - a[1].lines);
const total = rows.reduce(
  (t, [, s]) => ({ lines: t.lines + s.lines, tests: t.tests + s.testLines }),
  { lines: 0, tests: 0 },
);
const table = [
  ["folder", "files", "lines", "test files", "test lines", "largest file"],
  ...rows.map(([f, s]) =>
    [
      f,
      s.files,
      s.lines,
      s.testFiles,
      s.testLines,
      s.largest.file ? `${s.largest.file} (${s.largest.lines})` : "",
    ].map(String),
  ),
  ["total", "", String(total.lines), "", String(total.tests), ""],
];
const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
const fmt = (r: readonly string[]) =>
  r
    .map((cell, c) => (c >= 1 && c <= 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
    .join("  ")
    .trimEnd();
process.stdout.write(
  `${[fmt(table[0]!), fmt(widths.map((w) => "-".repeat(w))), ...table.slice(1).map(fmt)].join("\n")}\n`,
);
process.stdout.write("(non-blank lines; tests are *.test.ts and *.cases.ts)\n");
if (overLimit.length)
  process.stdout.write(
    `over ${LIMIT} lines (needs a reason in the header): ${overLimit.join(", ")}\n`,
  );

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}
