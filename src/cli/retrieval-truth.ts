// The ground-truth file of `dinov2 eval-retrieval`: JSON naming, per query image, its relevant
// database images (`relevant`, or the revisited Oxford/Paris `easy` + `hard`), optional `junk`
// and an optional query crop `bbox` [x1, y1, x2, y2]; an optional top-level `database` list
// limits the database to those images (revisited Oxford keeps its queries in the same folder).
// Names are paths relative to the query and database folders. The revisited ground-truth pickle converts with (see README):
//   python3 -c "import pickle,json;d=pickle.load(open('gnd_roxford5k.pkl','rb'));f=lambda l:[d['imlist'][i]+'.jpg' for i in l];print(json.dumps({'database':f(range(len(d['imlist']))),'queries':[{'query':q+'.jpg','bbox':[float(v) for v in g['bbx']],'easy':f(g['easy']),'hard':f(g['hard']),'junk':f(g['junk'])} for q,g in zip(d['qimlist'],d['gnd'])]}))" > gnd_roxford5k.json
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { RevisitedTruth } from "../eval/retrieval.js";
import { UsageError } from "./usage-error.js";

const Names = z.array(z.string().min(1));
const Entry = z
  .object({
    query: z.string().min(1),
    relevant: Names.optional(),
    easy: Names.optional(),
    hard: Names.optional(),
    junk: Names.optional(),
    bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
  })
  .strict();
const TruthFile = z
  .object({ queries: z.array(Entry).min(1), database: Names.min(1).optional() })
  .strict();

export interface ParsedQuery {
  readonly query: string;
  readonly bbox?: readonly [number, number, number, number];
  /** Database row indices. */
  readonly truth: RevisitedTruth;
}

export interface ParsedTruth {
  /** "revisited": Easy / Medium / Hard from easy + hard; "plain": one protocol from relevant. */
  readonly kind: "revisited" | "plain";
  readonly queries: readonly ParsedQuery[];
  /** The database images, in row order: the file's `database` list, or every folder image. */
  readonly database: readonly string[];
}

/**
 * Reads and checks `path` against the folders' image names; every name it mentions must exist.
 * A plain entry's `relevant` images become `easy` (so Medium = Easy = the plain protocol).
 */
export function readTruth(
  path: string,
  queryNames: ReadonlySet<string>,
  folderDatabase: readonly string[],
): ParsedTruth {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UsageError(`--gt ${path}: cannot read JSON (${(e as Error).message})`, {
      flag: "--gt",
    });
  }
  const parsed = TruthFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`--gt ${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}`, {
      flag: "--gt",
      hint: 'expected {"queries": [{"query": "q.jpg", "relevant": ["db.jpg", ...], "junk": [...]}, ...]} or easy/hard lists instead of relevant',
    });
  }
  const entries = parsed.data.queries;
  const revisited = entries.map((e) => e.relevant === undefined);
  const kind = revisited.every(Boolean) ? "revisited" : revisited.some(Boolean) ? null : "plain";
  if (kind === null || entries.some((e) => e.relevant && (e.easy || e.hard))) {
    throw new UsageError(
      `--gt ${path}: give every query either "relevant" or "easy"/"hard", not a mix`,
      { flag: "--gt" },
    );
  }
  const missingQueries = entries.map((e) => e.query).filter((q) => !queryNames.has(q));
  const inFolder = new Set(folderDatabase);
  const database = parsed.data.database ?? folderDatabase;
  const missingDb = new Set<string>(database.filter((n) => !inFolder.has(n)));
  const databaseIndex = new Map(database.map((n, i) => [n, i]));
  const rows = (names: readonly string[] | undefined) =>
    (names ?? []).flatMap((n) => {
      const i = databaseIndex.get(n);
      if (i === undefined) missingDb.add(n);
      return i === undefined ? [] : [i];
    });
  const queries = entries.map((e) => ({
    query: e.query,
    ...(e.bbox ? { bbox: e.bbox } : {}),
    truth: {
      easy: rows(e.relevant ?? e.easy),
      hard: rows(e.relevant ? [] : e.hard),
      junk: rows(e.junk),
    },
  }));
  if (missingQueries.length || missingDb.size) {
    const list = (xs: readonly string[]) =>
      `${xs.slice(0, 5).join(", ")}${xs.length > 5 ? `, … (${xs.length} in all)` : ""}`;
    throw new UsageError(
      [
        `--gt ${path} names images not among the query / database images:`,
        ...(missingQueries.length ? [`queries: ${list(missingQueries)}`] : []),
        ...(missingDb.size ? [`database: ${list([...missingDb])}`] : []),
      ].join(" "),
      { flag: "--gt", hint: "names are paths relative to --queries / --database, with extension" },
    );
  }
  return { kind, queries, database };
}
