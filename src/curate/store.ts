// The curation workspace: one LanceDB database (a local folder, or an object-store URI such as
// s3://bucket/pool) holding every stage's tables. This file is the only one that talks to
// LanceDB; stages read and write plain columns through it.
import type * as Lance from "@lancedb/lancedb";
import {
  type Table as ArrowTable,
  type DataType,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Schema,
  Utf8,
} from "apache-arrow";
import { CurateError } from "./errors.js";

export type AnnKind = "ivf-pq" | "hnsw-sq";

export type ColumnKind = "utf8" | "int32" | "float64" | { readonly vector: number };

/** Column name -> kind, in table order. */
export type Columns = Readonly<Record<string, ColumnKind>>;

/** A row as stages write it: strings, numbers and Float32Array vectors. */
export type Row = Readonly<Record<string, string | number | Float32Array>>;

export class CurateStore {
  private constructor(
    readonly uri: string,
    private readonly lancedb: typeof Lance,
    private readonly db: Lance.Connection,
  ) {}

  /**
   * Opens (creating when local and missing) the database at `uri`. LanceDB reads its log level
   * once, when its native module loads: unless LANCEDB_LOG is set, only errors are logged (its
   * warnings announce every table it creates).
   */
  static async open(uri: string): Promise<CurateStore> {
    process.env.LANCEDB_LOG ??= "error";
    const lancedb = await import("@lancedb/lancedb");
    return new CurateStore(uri, lancedb, await lancedb.connect(uri));
  }

  async has(name: string): Promise<boolean> {
    return (await this.db.tableNames()).includes(name);
  }

  async names(): Promise<string[]> {
    return this.db.tableNames();
  }

  /** Replaces table `name` with `rows` (an empty table when there are none). */
  async write(
    name: string,
    columns: Columns,
    rows: readonly Row[],
    metadata: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    const schema = toSchema(columns, metadata);
    const table = await this.db.createEmptyTable(name, schema, { mode: "overwrite" });
    if (rows.length > 0) await table.add(this.lancedb.makeArrowTable(rows as Row[], { schema }));
  }

  /** Appends rows to `name`, creating it first when missing. */
  async append(
    name: string,
    columns: Columns,
    rows: readonly Row[],
    metadata: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    const schema = toSchema(columns, metadata);
    if (!(await this.has(name))) {
      await this.db.createEmptyTable(name, schema, { mode: "create", existOk: true });
    }
    if (rows.length === 0) return;
    const table = await this.db.openTable(name);
    await table.add(this.lancedb.makeArrowTable(rows as Row[], { schema }));
  }

  async drop(name: string): Promise<void> {
    if (await this.has(name)) await this.db.dropTable(name);
  }

  async metadata(name: string): Promise<ReadonlyMap<string, string>> {
    const table = await this.open(name);
    return (await table.schema()).metadata;
  }

  async count(name: string): Promise<number> {
    return (await this.open(name)).countRows();
  }

  /** Reads `columns` of every row (optionally those matching the SQL `where`). */
  async read(name: string, columns: readonly string[], where?: string): Promise<ArrowTable> {
    const table = await this.open(name);
    let q = table.query().select([...columns]);
    if (where) q = q.where(where);
    return q.toArrow();
  }

  /** The LanceDB table, for index building and vector search. */
  async open(name: string): Promise<Lance.Table> {
    if (!(await this.has(name))) {
      throw new CurateError(
        `table "${name}"`,
        `not found in ${this.uri}`,
        "run the stage that writes it first (embed -> dedup -> cluster -> retrieve -> export)",
      );
    }
    return this.db.openTable(name);
  }

  /**
   * Builds LanceDB's own ANN index on a vector column (cosine): IVF-PQ with √n partitions and
   * 8–16 values per sub-vector, or HNSW over IVF with scalar quantisation.
   */
  async createVectorIndex(
    name: string,
    col: string,
    kind: AnnKind,
    rows: number,
    dim: number,
  ): Promise<void> {
    const table = await this.open(name);
    const { Index } = this.lancedb;
    const numPartitions = Math.max(1, Math.round(Math.sqrt(rows)));
    const config =
      kind === "ivf-pq"
        ? Index.ivfPq({
            numPartitions,
            numSubVectors: dim % 16 === 0 ? dim / 16 : dim % 8 === 0 ? dim / 8 : 1,
            distanceType: "cosine",
          })
        : Index.hnswSq({
            numPartitions: Math.max(1, Math.round(numPartitions / 8)),
            distanceType: "cosine",
          });
    await table.createIndex(col, { config, replace: true });
  }

  /** Whether column `col` of table `name` has a finished vector index. */
  async hasVectorIndex(name: string, col: string): Promise<boolean> {
    const indices = await (await this.open(name)).listIndices();
    return indices.some((ix) => ix.columns.includes(col));
  }

  /** The `k` rows nearest to `query` by cosine through the column's index; `key` column values and cosines. */
  async searchVectors(
    table: Lance.Table,
    col: string,
    key: string,
    query: Float32Array,
    k: number,
    tuning: { nprobes: number; refineFactor: number; ef: number },
  ): Promise<{ keys: number[]; sims: number[] }> {
    const rows = await table
      .vectorSearch(Array.from(query))
      .column(col)
      .distanceType("cosine")
      .limit(k)
      .nprobes(tuning.nprobes)
      .refineFactor(tuning.refineFactor)
      .ef(Math.max(tuning.ef, k * tuning.refineFactor))
      .select([key])
      .toArray();
    return {
      keys: rows.map((r) => r[key] as number),
      sims: rows.map((r) => 1 - (r._distance as number)),
    };
  }

  close(): void {
    this.db.close();
  }
}

function toSchema(columns: Columns, metadata: Readonly<Record<string, string>>): Schema {
  const fields = Object.entries(columns).map(
    ([name, kind]) => new Field(name, arrowType(kind), false),
  );
  return new Schema(fields, new Map(Object.entries(metadata)));
}

function arrowType(kind: ColumnKind): DataType {
  if (kind === "utf8") return new Utf8();
  if (kind === "int32") return new Int32();
  if (kind === "float64") return new Float64();
  return new FixedSizeList(kind.vector, new Field("item", new Float32(), true));
}

/** A utf8 / number column of an Arrow table as a JS array. */
export function column<T extends string | number>(table: ArrowTable, name: string): T[] {
  if (table.numRows === 0) return [];
  const col = table.getChild(name);
  if (!col) throw new CurateError(`column "${name}"`, "missing from the table read");
  return col.toArray() as unknown as T[];
}

/** A fixed-size-list float column as one row-major Float32Array [rows, dim]. */
export function vectors(table: ArrowTable, name: string): { data: Float32Array; dim: number } {
  if (table.numRows === 0) return { data: new Float32Array(0), dim: 0 };
  const col = table.getChild(name);
  if (!col) throw new CurateError(`column "${name}"`, "missing from the table read");
  const type = col.type as FixedSizeList;
  const dim = type.listSize;
  const out = new Float32Array(table.numRows * dim);
  let row = 0;
  for (const chunk of col.data) {
    const child = chunk.children[0]!;
    const start = child.offset + chunk.offset * dim;
    out.set((child.values as Float32Array).subarray(start, start + chunk.length * dim), row * dim);
    row += chunk.length;
  }
  return { data: out, dim };
}
