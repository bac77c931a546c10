// Data movement: reshape, transpose, expand, slice, pad, concat, gather, indexAdd.
import { DTypeError, ShapeError } from "../errors.js";
import { defineOp, sameDtype } from "../op.js";
import {
  argsort,
  fmtShape,
  isPermutation,
  normalizeAxis,
  numel,
  type Shape,
  shapesEqual,
  tryBroadcastShapes,
} from "../shape.js";
import type { Tensor, ValueType } from "../tensor.js";
import { scalar } from "./leaf.js";

const reshapeOp = defineOp<{ readonly shape: Shape }>({
  name: "reshape",
  shape: ([x], { shape }) => {
    if (numel(shape) !== numel(x!.shape)) {
      throw new ShapeError(
        "reshape",
        `element counts differ; got ${fmtShape(x!.shape)} -> ${fmtShape(shape)}`,
      );
    }
    return shape;
  },
  dtype: ([x]) => x!.dtype,
  grad: ({ ins: [x], dout }) => [reshape(dout, x!.shape)],
  onnx: (b, [x], { shape }) => b.node("Reshape", [x!, b.constInt64(shape)]),
});

const transposeOp = defineOp<{ readonly perm: readonly number[] }>({
  name: "transpose",
  shape: ([x], { perm }) => {
    if (!isPermutation(perm, x!.shape.length)) {
      throw new ShapeError(
        "transpose",
        `perm [${perm}] is not a permutation of ${x!.shape.length} axes`,
      );
    }
    return perm.map((a) => x!.shape[a]!);
  },
  dtype: ([x]) => x!.dtype,
  grad: ({ dout, attrs: { perm } }) => [transpose(dout, argsort(perm))],
  onnx: (b, ins, { perm }) => b.node("Transpose", ins, { perm }),
});

// The grad engine sums the gradient back to the input shape (broadcasts: true).
const expandOp = defineOp<{ readonly shape: Shape }>({
  name: "expand",
  shape: ([x], { shape }) => {
    const s = tryBroadcastShapes(x!.shape, shape);
    if (!s || !shapesEqual(s, shape)) {
      throw new ShapeError(
        "expand",
        `cannot broadcast ${fmtShape(x!.shape)} to ${fmtShape(shape)}`,
      );
    }
    return shape;
  },
  dtype: ([x]) => x!.dtype,
  broadcasts: true,
  grad: ({ dout }) => [dout],
  onnx: (b, [x], { shape }) => b.node("Expand", [x!, b.constInt64(shape)]),
});

interface SliceAttrs {
  /** One entry per axis, normalised to 0 <= start <= end <= dim. */
  readonly starts: readonly number[];
  readonly ends: readonly number[];
}

const sliceOp = defineOp<SliceAttrs>({
  name: "slice",
  shape: ([x], { starts, ends }) => x!.shape.map((_, i) => ends[i]! - starts[i]!),
  dtype: ([x]) => x!.dtype,
  grad: ({ ins: [x], dout, attrs: { starts, ends } }) => [
    pad(dout, [...starts, ...x!.shape.map((d, i) => d - ends[i]!)]),
  ],
  onnx: (b, [x], { starts, ends }, _, [xt]) => {
    const axes = xt!.shape
      .map((_, i) => i)
      .filter((i) => starts[i] !== 0 || ends[i] !== xt!.shape[i]);
    if (axes.length === 0) return b.node("Identity", [x!]);
    return b.node("Slice", [
      x!,
      b.constInt64(axes.map((i) => starts[i]!)),
      b.constInt64(axes.map((i) => ends[i]!)),
      b.constInt64(axes),
    ]);
  },
});

const padOp = defineOp<{ readonly pads: readonly number[] }>({
  name: "pad",
  shape: ([x], { pads }) => {
    const r = x!.shape.length;
    if (pads.length !== 2 * r || pads.some((p) => !Number.isInteger(p) || p < 0)) {
      throw new ShapeError(
        "pad",
        `pads must be ${2 * r} non-negative integers (befores, then afters); got [${pads}]`,
      );
    }
    return x!.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
  },
  dtype: ([x]) => x!.dtype,
  grad: ({ ins: [x], dout, attrs: { pads } }) => {
    const r = x!.shape.length;
    return [
      sliceOp([dout], { starts: pads.slice(0, r), ends: x!.shape.map((d, i) => pads[i]! + d) }),
    ];
  },
  onnx: (b, [x], { pads }, out) =>
    b.node("Pad", [x!, b.constInt64(pads), b.constScalar(0, out.dtype)], { mode: "constant" }),
});

const concatOp = defineOp<{ readonly axis: number }>({
  name: "concat",
  shape: (ins, { axis }) => {
    const first = ins[0]!.shape;
    let total = 0;
    for (const t of ins) {
      const ok =
        t.shape.length === first.length && t.shape.every((d, i) => i === axis || d === first[i]);
      if (!ok) {
        throw new ShapeError(
          "concat",
          `shapes differ off axis ${axis}; got ${ins.map((u) => fmtShape(u.shape)).join(", ")}`,
        );
      }
      total += t.shape[axis]!;
    }
    return first.map((d, i) => (i === axis ? total : d));
  },
  dtype: sameDtype("concat"),
  grad: ({ ins, dout, attrs: { axis } }) => {
    let offset = 0;
    return ins.map((t) => {
      const g = slice(dout, axis, offset, offset + t.shape[axis]!);
      offset += t.shape[axis]!;
      return g;
    });
  },
  onnx: (b, ins, { axis }) => b.node("Concat", ins, { axis }),
});

const checkIndexDtype = (op: string, idx: ValueType): void => {
  if (idx.dtype !== "int64" && idx.dtype !== "int32") {
    throw new DTypeError(op, `indices must be int64 or int32; got ${idx.dtype}`);
  }
};

const gatherOp = defineOp<{ readonly axis: number }>({
  name: "gather",
  shape: ([x, idx], { axis }) => [
    ...x!.shape.slice(0, axis),
    ...idx!.shape,
    ...x!.shape.slice(axis + 1),
  ],
  dtype: ([x, idx]) => {
    checkIndexDtype("gather", idx!);
    return x!.dtype;
  },
  grad: ({ ins: [x, idx], dout, attrs: { axis } }) => {
    const m = numel(idx!.shape);
    const flatIdx = reshape(idx!, [m]);
    const flatDout = reshape(dout, [...x!.shape.slice(0, axis), m, ...x!.shape.slice(axis + 1)]);
    return [indexAdd(zeros(x!.shape, x!.dtype), axis, flatIdx, flatDout), null];
  },
  onnx: (b, ins, { axis }) => b.node("Gather", ins, { axis }),
});

// x with `updates` added at `indices` along `axis` (duplicates accumulate): torch index_add.
const indexAddOp = defineOp<{ readonly axis: number }>({
  name: "indexAdd",
  shape: ([x, idx, upd], { axis }) => {
    const want = x!.shape.map((d, i) => (i === axis ? idx!.shape[0]! : d));
    if (idx!.shape.length !== 1 || !shapesEqual(upd!.shape, want)) {
      throw new ShapeError(
        "indexAdd",
        `updates must be ${fmtShape(want)} for 1-D indices ${fmtShape(idx!.shape)}; got ${fmtShape(upd!.shape)}`,
      );
    }
    return x!.shape;
  },
  dtype: ([x, idx, upd]) => {
    checkIndexDtype("indexAdd", idx!);
    return sameDtype("indexAdd")([x!, upd!]);
  },
  grad: ({ ins: [, idx], dout, attrs: { axis } }) => [dout, null, gather(dout, idx!, axis)],
  onnx: (b, [x, idx, upd], { axis }, _, [, , ut]) => {
    if (axis === 0) {
      // Whole rows: ScatterND copies a slice per index, far faster than ScatterElements' per element.
      const rows = b.node("Unsqueeze", [idx!, b.constInt64([1])]);
      const rows64 = b.node("Cast", [rows], { to: 7 });
      return b.node("ScatterND", [x!, rows64, upd!], { reduction: "add" });
    }
    const r = ut!.shape.length;
    const col = ut!.shape.map((d, i) => (i === axis ? d : 1));
    const idxFull =
      r === 1
        ? idx!
        : b.node("Expand", [b.node("Reshape", [idx!, b.constInt64(col)]), b.constInt64(ut!.shape)]);
    return b.node("ScatterElements", [x!, idxFull, upd!], { axis, reduction: "add" });
  },
});

/** Reshape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const resolved = resolveReshape(x.shape, shape);
  if (shapesEqual(resolved, x.shape)) return x;
  return reshapeOp([x], { shape: resolved });
}

/**
 * The target shape with its one -1 filled in; refuses negative sizes, several -1 and sizes that
 * do not divide the element count, naming both shapes.
 */
function resolveReshape(from: Shape, to: readonly number[]): Shape {
  const bad = (what: string) =>
    new ShapeError("reshape", `${what}; got ${fmtShape(from)} -> ${fmtShape(to)}`);
  if (to.some((d) => !Number.isInteger(d) || d < -1))
    throw bad("target sizes must be integers >= 0 or a single -1");
  const free = to.filter((d) => d === -1).length;
  if (free > 1) throw bad("at most one target size may be -1");
  if (free === 0) return to;
  const total = numel(from);
  const known = numel(to.filter((d) => d !== -1));
  if (known === 0 || total % known !== 0)
    throw bad(`${total} elements do not divide into the known sizes (product ${known})`);
  return to.map((d) => (d === -1 ? total / known : d));
}

/** Permute axes: output axis i is input axis perm[i]. */
export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.every((p, i) => p === i) && perm.length === x.rank) return x;
  return transposeOp([x], { perm });
}

/** Swap the last two axes. */
export function mT(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = x.rank;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return transpose(x, perm);
}

export function expand(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  return expandOp([x], { shape });
}

/** Elements [start, end) of `axis` (negative values count from the end). */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = normalizeAxis("slice", axis, x.rank);
  const dim = x.shape[a]!;
  const clamp = (v: number) => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
  const s = clamp(start);
  const e = Math.max(s, clamp(end ?? dim));
  if (s === 0 && e === dim) return x;
  return sliceOp([x], {
    starts: x.shape.map((_, i) => (i === a ? s : 0)),
    ends: x.shape.map((d, i) => (i === a ? e : d)),
  });
}

/** Zero padding: `pads` = befores for every axis, then afters (ONNX order). */
export function pad(x: Tensor, pads: readonly number[]): Tensor {
  if (pads.every((p) => p === 0) && pads.length === 2 * x.rank) return x;
  return padOp([x], { pads });
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new ShapeError("concat", "needs at least one input");
  if (xs.length === 1) return xs[0]!;
  return concatOp(xs, { axis: normalizeAxis("concat", axis, xs[0]!.rank) });
}

/** Rows of `x` along `axis` picked by integer `indices` (any shape). */
export function gather(x: Tensor, indices: Tensor, axis: number): Tensor {
  return gatherOp([x, indices], { axis: normalizeAxis("gather", axis, x.rank) });
}

export function indexAdd(x: Tensor, axis: number, indices: Tensor, updates: Tensor): Tensor {
  return indexAddOp([x, indices, updates], { axis: normalizeAxis("indexAdd", axis, x.rank) });
}

export function zeros(shape: Shape, dtype: ValueType["dtype"] = "float32"): Tensor {
  return expand(scalar(0, dtype), shape);
}

/** Split `axis` into pieces of the given sizes. */
export function split(x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  let offset = 0;
  return sizes.map((n) => {
    const part = slice(x, axis, offset, offset + n);
    offset += n;
    return part;
  });
}

export const MOVEMENT_OPS = [
  reshapeOp.def,
  transposeOp.def,
  expandOp.def,
  sliceOp.def,
  padOp.def,
  concatOp.def,
  gatherOp.def,
  indexAddOp.def,
] as const;
