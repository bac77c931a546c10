// `dinov2 eval-retrieval`: instance retrieval on frozen features: L2-normalised CLS tokens (or GeM
// over the patch tokens) of --queries and --database, cosine ranking, the revisited Oxford/Paris
// mAP (Easy / Medium / Hard, junk ignored) and recall@{1, 5, 10}, and a picture of the top hits.
import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { maximum, mean, pow } from "../../core/index.js";
import { openDataset } from "../../data/datasets/dataset.js";
import { decodeImage } from "../../data/decode.js";
import type { Uint8Image } from "../../data/image.js";
import type { FeatureHead } from "../../eval/feature-stream.js";
import { encodePng, imageFromChw, type RgbImage } from "../../eval/png.js";
import {
  type HitKind,
  l2NormalizeRows,
  type Protocol,
  protocolTruth,
  type QueryTruth,
  rankDatabase,
  retrievalPicture,
  scoreRankings,
} from "../../eval/retrieval.js";
import { evalTransform, preprocessInto } from "../../inference/preprocess.js";
import { defineCommand } from "../command.js";
import {
  clsHead,
  type EvalSplit,
  folderSplitFlat,
  MODEL_FLAGS,
  pct,
  SYNTHETIC_SEEDS,
  setupModel,
  splitFeatures,
  syntheticSplit,
  writeResults,
} from "../eval-features.js";
import { intFlag } from "../flag-values.js";
import { readTruth } from "../retrieval-truth.js";
import { renderTable } from "../table.js";
import { UsageError } from "../usage-error.js";

const KS = [1, 5, 10] as const;

export const evalRetrievalCommand = defineCommand({
  name: "eval-retrieval",
  summary: "instance retrieval: revisited-Oxford mAP (E/M/H, junk ignored) and recall@1/5/10",
  description: [
    "Ranks --database by cosine similarity to each query of --gt (images in --queries, cropped",
    "to the query's bbox when given), with L2-normalised CLS tokens or --pooling gem (GeM, p = 3,",
    'over the patch tokens). --gt is JSON: {"queries": [{"query": "q.jpg", "relevant":',
    '["db.jpg", ...], "junk": [...]}]}, or easy/hard lists (revisited Oxford/Paris: Easy,',
    "Medium and Hard are scored). The README shows the one-liner converting gnd_roxford5k.pkl.",
    "--synthetic N_QUERY,N_DB: the built-in shapes, relevant = same class.",
    "Images go through the eval transform (resize + center crop at --image-size).",
    "Writes results_eval_retrieval.json and top_hits.png to --output-dir.",
  ].join("\n"),
  flags: {
    ...MODEL_FLAGS,
    queries: { type: "string", valueName: "DIR", description: "query images" },
    database: { type: "string", valueName: "DIR", description: "database images" },
    gt: { type: "string", valueName: "FILE", description: "ground truth JSON" },
    synthetic: {
      type: "string",
      valueName: "N_QUERY,N_DB",
      description: "the built-in synthetic set instead (relevant = same class)",
    },
    pooling: {
      type: "string",
      valueName: "cls|gem",
      description: "global descriptor",
      default: "cls",
    },
    "gem-p": { type: "string", valueName: "P", description: "GeM exponent", default: "3" },
    show: { type: "string", valueName: "N", description: "queries in the picture", default: "4" },
  },
  examples: [
    "dinov2 eval-retrieval --model dinov2-small/ --queries roxford5k/jpg --database roxford5k/jpg --gt gnd_roxford5k.json",
    "dinov2 eval-retrieval --model runs/demo/export --synthetic 100,1000 --image-size 56",
  ],
  run: async (v, ctx) => {
    const log = (s: string) => process.stderr.write(`${s}\n`);
    if (v.pooling !== "cls" && v.pooling !== "gem") {
      throw new UsageError(`--pooling: got "${v.pooling}", expected cls or gem`, {
        flag: "--pooling",
      });
    }
    const p = Number(v["gem-p"]);
    if (!(p > 0))
      throw new UsageError(`--gem-p: got "${v["gem-p"]}", expected > 0`, { flag: "--gem-p" });
    const show = intFlag(v.show, "show", { min: 0 });
    const setup = await loadSets(v, log);
    const m = await setupModel(v, "eval-retrieval", log);
    const head = v.pooling === "gem" ? gemHead(p) : clsHead;
    const db = await splitFeatures(m, setup.database, log, head);
    const q = await splitFeatures(m, setup.queries, log, head);
    if (q.skipped > 0) {
      throw new UsageError(
        `${setup.queries.name}: ${q.skipped} query image(s) could not be decoded`,
      );
    }
    // Database rows that decoded; the truth refers to dataset indices.
    const rowOf = new Map<number, number>();
    db.indices.forEach((index, row) => {
      rowOf.set(index, row);
    });
    const toRows = (xs: readonly number[]) =>
      xs.map((i) => {
        const r = rowOf.get(i);
        if (r === undefined) {
          throw new UsageError(
            `${setup.gtName} names database image ${setup.databaseNames[i]}, which could not be decoded`,
          );
        }
        return r;
      });
    const truths = setup.truth.map((t) => ({
      easy: toRows(t.easy),
      hard: toRows(t.hard),
      junk: toRows(t.junk),
    }));
    const rankings = rankDatabase(
      l2NormalizeRows(q.features, q.dim),
      l2NormalizeRows(db.features, db.dim),
      q.dim,
    );
    const protocols: readonly (Protocol | "all")[] = setup.revisited
      ? ["easy", "medium", "hard"]
      : ["all"];
    const scores = protocols.map((name) => ({
      name,
      ...scoreRankings(
        rankings,
        truths.map(
          (t): QueryTruth =>
            name === "all" ? { relevant: t.easy, junk: t.junk } : protocolTruth(t, name),
        ),
        KS,
      ),
    }));
    const picture = join(m.outputDir, "top_hits.png");
    if (show > 0) {
      const medium = truths.map((t) => protocolTruth(t, "medium"));
      writeFileSync(
        picture,
        encodePng(
          await hitsPicture(setup, rankings, medium, db.indices, Math.min(show, rankings.length)),
        ),
      );
    }
    const results = {
      command: "eval-retrieval",
      model: m.description,
      queries: setup.queries.name,
      database: setup.database.name,
      ground_truth: setup.gtName,
      image_size: m.imageSize,
      pooling: v.pooling === "gem" ? { kind: "gem", p } : { kind: "cls" },
      protocol:
        "revisited Oxford/Paris compute_map: junk removed from the ranking; recall@k = a relevant image in the top k",
      database_skipped: db.skipped,
      results: Object.fromEntries(
        scores.map((s) => [
          s.name,
          { mAP: s.mAP, recall: s.recall, empty_queries: s.empty, ap: s.ap },
        ]),
      ),
      files: show > 0 ? { top_hits: picture } : {},
    };
    const path = writeResults(m.outputDir, "eval_retrieval", results);
    ctx.out(
      renderTable([
        ["protocol", "mAP", ...KS.map((k) => `R@${k}`), "queries"],
        ...scores.map((s) => [
          s.name,
          pct(s.mAP),
          ...KS.map((k) => pct(s.recall[k]!)),
          String(rankings.length - s.empty),
        ]),
      ]),
    );
    ctx.out(
      JSON.stringify({
        retrieval: Object.fromEntries(
          scores.map((s) => [s.name, { mAP: s.mAP, recall: s.recall }]),
        ),
        results: path,
      }),
    );
    return 0;
  },
});

/** GeM over the patch tokens: (mean_p max(x, 1e-6)^p)^(1/p), [B, D]. */
function gemHead(p: number): FeatureHead {
  return (model, images) => {
    const patches = model.forwardFeatures(images).patchTokens;
    return { x: pow(mean(pow(maximum(patches, 1e-6), p), 1), 1 / p) };
  };
}

interface RetrievalSets {
  readonly queries: EvalSplit;
  readonly database: EvalSplit;
  readonly gtName: string;
  readonly databaseNames: readonly string[];
  /** Per query (in query-split order), database dataset indices. */
  readonly truth: readonly { easy: number[]; hard: number[]; junk: number[] }[];
  readonly revisited: boolean;
  readonly thumb: (which: "query" | "database", index: number) => Promise<Uint8Image | null>;
}

async function loadSets(
  v: { readonly [k: string]: string | boolean | undefined },
  log: (s: string) => void,
): Promise<RetrievalSets> {
  if (typeof v.synthetic === "string") {
    if (v.queries || v.database || v.gt) {
      throw new UsageError("--synthetic replaces --queries, --database and --gt", {
        flag: "--synthetic",
      });
    }
    const [a, b, extra] = v.synthetic.split(",");
    if (b === undefined || extra !== undefined) {
      throw new UsageError(`--synthetic: got "${v.synthetic}", expected N_QUERY,N_DB`, {
        flag: "--synthetic",
      });
    }
    const queries = syntheticSplit(SYNTHETIC_SEEDS.val, intFlag(a!, "synthetic", { min: 1 }));
    const database = syntheticSplit(SYNTHETIC_SEEDS.train, intFlag(b, "synthetic", { min: 1 }));
    const k = queries.classNames.length;
    const truth = Array.from({ length: queries.count }, (_, i) => ({
      easy: Array.from({ length: database.count }, (_, j) => j).filter((j) => j % k === i % k),
      hard: [],
      junk: [],
    }));
    const qd = openDataset(queries.spec);
    const dd = openDataset(database.spec);
    return {
      queries,
      database,
      gtName: "synthetic (relevant = same class)",
      databaseNames: Array.from({ length: database.count }, (_, j) => `synthetic #${j}`),
      truth,
      revisited: false,
      thumb: (which, i) => (which === "query" ? qd : dd).get(i),
    };
  }
  for (const flag of ["queries", "database", "gt"] as const) {
    if (typeof v[flag] !== "string" || v[flag] === "") {
      throw new UsageError(`--${flag} is required (or --synthetic N_QUERY,N_DB)`, {
        flag: `--${flag}`,
        hint: "run `dinov2 eval-retrieval --help`",
      });
    }
  }
  const [qDir, dbDir, gtPath] = [v.queries, v.database, v.gt] as string[];
  const dbFolder = await folderSplitFlat(dbDir!, log);
  const allQueries = await folderSplitFlat(qDir!, log);
  const qNames = relNames(allQueries);
  const parsed = readTruth(gtPath!, new Set(qNames), relNames(dbFolder));
  const dbNames = parsed.database;
  const dbRoot = dbFolder.spec.kind === "image-folder" ? dbFolder.spec.root : dbDir!;
  const dbFiles = dbNames.map((n) => join(dbRoot, n));
  const database: EvalSplit = {
    name: dbDir!,
    spec: {
      kind: "image-folder",
      root: dbRoot,
      files: dbFiles,
      labels: dbFiles.map(() => 0),
      classNames: ["database"],
    },
    classNames: [],
    count: dbFiles.length,
  };
  // The query split: the gt's queries in order (a file may appear twice, e.g. two crops).
  const files = parsed.queries.map((pq) =>
    join(allQueries.spec.kind === "image-folder" ? allQueries.spec.root : "", pq.query),
  );
  const bboxes = parsed.queries.map((pq) => pq.bbox);
  const queries: EvalSplit = {
    name: qDir!,
    spec: {
      kind: "image-folder",
      root: qDir!,
      files,
      labels: files.map(() => 0),
      classNames: ["query"],
    },
    classNames: ["query"],
    count: files.length,
    crop: (i) => bboxes[i],
  };
  return {
    queries,
    database,
    gtName: gtPath!,
    databaseNames: dbNames,
    truth: parsed.queries.map((pq) => ({
      easy: [...pq.truth.easy],
      hard: [...pq.truth.hard],
      junk: [...pq.truth.junk],
    })),
    revisited: parsed.kind === "revisited",
    thumb: async (which, i) =>
      decodeImage(which === "query" ? files[i]! : dbFiles[i]!).catch(() => null),
  };
}

function relNames(split: EvalSplit): string[] {
  if (split.spec.kind !== "image-folder") return [];
  const root = split.spec.root;
  return split.spec.files.map((f) => relative(root, f).split("\\").join("/"));
}

/** The first `n` queries with their top-5 database images (Medium truth for the frames). */
async function hitsPicture(
  s: RetrievalSets,
  rankings: readonly Int32Array[],
  truth: readonly QueryTruth[],
  dbIndices: Int32Array,
  n: number,
): Promise<RgbImage> {
  const side = 96;
  const t = evalTransform(side, 1);
  const buf = new Float32Array(3 * side * side);
  const thumb = (img: Uint8Image | null): RgbImage => {
    if (!img) return { width: side, height: side, data: new Uint8Array(side * side * 3).fill(200) };
    preprocessInto(img, t, buf);
    return imageFromChw(buf, side, side);
  };
  const rows = [];
  for (let q = 0; q < n; q++) {
    const relevant = new Set(truth[q]!.relevant);
    const junk = new Set(truth[q]!.junk);
    const hits = [];
    for (const row of rankings[q]!.subarray(0, 5)) {
      const kind: HitKind = relevant.has(row) ? "relevant" : junk.has(row) ? "junk" : "other";
      hits.push({ image: thumb(await s.thumb("database", dbIndices[row]!)), kind });
    }
    rows.push({ query: thumb(await s.thumb("query", q)), hits });
  }
  return retrievalPicture(rows);
}
