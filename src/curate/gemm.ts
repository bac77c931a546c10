// The heavy products of curation as graphs of our core, run by onnxruntime: block similarity
// (kNN for dedup and retrieval) and the k-means assignment step (argmax of x·cᵀ − ½‖c‖²).
// Blocks have fixed shapes (rows padded with zeros), so each shape compiles once and is reused.
import { argmax, hostTensor, input, matmul, max, mT, sub } from "../core/index.js";
import {
  createRuntime,
  type Executable,
  type Runtime,
  type RuntimeOptions,
} from "../runtime/index.js";

export interface Assignment {
  /** Nearest centroid of each row. */
  readonly labels: Int32Array;
  /** The row's score against it: x·c (spherical) or x·c − ½‖c‖² (Euclidean). */
  readonly scores: Float32Array;
}

/** Compiled similarity and assignment graphs for one feature width. */
export class CurateGemm {
  private readonly exes = new Map<string, Promise<Executable>>();

  private constructor(
    private readonly runtime: Runtime,
    readonly dim: number,
    readonly rowBlock: number,
  ) {}

  static async create(
    dim: number,
    opts: RuntimeOptions & { rowBlock?: number } = {},
  ): Promise<CurateGemm> {
    const { rowBlock, ...rt } = opts;
    return new CurateGemm(await createRuntime(rt), dim, rowBlock ?? 1024);
  }

  /**
   * sims[i, j] = q[i]·b[j] for q [qRows, D] (qRows ≤ rowBlock) against b [bRows, D]; returns a
   * [rowBlock, bBlock] buffer whose first qRows × bRows entries are meaningful.
   */
  async similarities(
    q: Float32Array,
    qRows: number,
    b: Float32Array,
    bBlock: number,
  ): Promise<Float32Array> {
    const exe = await this.compile(`sim:${bBlock}`, () => {
      const qi = input("q", [this.rowBlock, this.dim]);
      const bi = input("b", [bBlock, this.dim]);
      return { sims: matmul(qi, mT(bi)) };
    });
    const out = await exe.run({
      q: hostTensor(
        "float32",
        [this.rowBlock, this.dim],
        padRows(q, qRows, this.rowBlock, this.dim),
      ),
      b: hostTensor(
        "float32",
        [bBlock, this.dim],
        padRows(b, b.length / this.dim, bBlock, this.dim),
      ),
    });
    return out.sims!.data as Float32Array;
  }

  /**
   * Nearest of `k` centroids for rows x [rows, D]: spherical uses the largest x·c, Euclidean the
   * smallest ‖x − c‖², i.e. the largest x·c − ½‖c‖².
   */
  async assign(
    x: Float32Array,
    rows: number,
    centroids: Float32Array,
    k: number,
    spherical: boolean,
  ): Promise<Assignment> {
    const halfNorms = new Float32Array(k);
    if (!spherical) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let d = 0; d < this.dim; d++) s += centroids[c * this.dim + d]! ** 2;
        halfNorms[c] = s / 2;
      }
    }
    const exe = await this.compile(`assign:${k}`, () => {
      const xi = input("x", [this.rowBlock, this.dim]);
      const ci = input("c", [k, this.dim]);
      const hi = input("h", [k]);
      const scores = sub(matmul(xi, mT(ci)), hi);
      return { label: argmax(scores, 1), score: max(scores, 1) };
    });
    const labels = new Int32Array(rows);
    const scores = new Float32Array(rows);
    const c = hostTensor("float32", [k, this.dim], centroids);
    const h = hostTensor("float32", [k], halfNorms);
    for (let r0 = 0; r0 < rows; r0 += this.rowBlock) {
      const n = Math.min(this.rowBlock, rows - r0);
      const block = padRows(
        x.subarray(r0 * this.dim, (r0 + n) * this.dim),
        n,
        this.rowBlock,
        this.dim,
      );
      const out = await exe.run({
        x: hostTensor("float32", [this.rowBlock, this.dim], block),
        c,
        h,
      });
      const lab = out.label!.data as BigInt64Array;
      const sc = out.score!.data as Float32Array;
      for (let i = 0; i < n; i++) {
        labels[r0 + i] = Number(lab[i]);
        scores[r0 + i] = sc[i]!;
      }
    }
    return { labels, scores };
  }

  async release(): Promise<void> {
    for (const e of this.exes.values()) await (await e).release();
    this.exes.clear();
  }

  private compile(
    key: string,
    build: () => Record<string, ReturnType<typeof input>>,
  ): Promise<Executable> {
    let exe = this.exes.get(key);
    if (!exe) {
      exe = this.runtime.compile(build());
      this.exes.set(key, exe);
    }
    return exe;
  }
}

/** `rows` rows of `src`, zero-padded to `to` rows (no copy when already that size). */
function padRows(src: Float32Array, rows: number, to: number, dim: number): Float32Array {
  if (rows === to && src.length === to * dim) return src;
  const out = new Float32Array(to * dim);
  out.set(src.subarray(0, rows * dim));
  return out;
}
