// The flags of `dinov2 curate`, and which stages read which: a flag given to a stage that does not
// read it is refused (curate-stages.ts), so nothing accepted is silently ignored.
import { ANN_MODES, ANN_THRESHOLD } from "../curate/ann.js";
import { DESCRIPTORS } from "../curate/descriptors.js";

export const CURATE_FLAGS = {
  db: {
    type: "string",
    valueName: "URI",
    default: "curate-db",
    description: "LanceDB folder or object-store URI (s3://…)",
  },
  input: {
    type: "string",
    valueName: "PATH",
    description: "embed/run: image file or folder (more may follow as positionals)",
  },
  model: {
    type: "string",
    valueName: "PATH|PRESET",
    default: "vits14",
    description: "embedding backbone: checkpoint, HF folder, or preset (random weights)",
  },
  "image-size": {
    type: "string",
    valueName: "PX",
    default: "224",
    description: "crop side for the backbone",
  },
  "batch-size": {
    type: "string",
    valueName: "N",
    default: "32",
    description: "images per backbone run",
  },
  threads: { type: "string", valueName: "N", description: "intra-op threads (default: all cores)" },
  shard: {
    type: "string",
    valueName: "I/N",
    description:
      "embed/dedup/cluster/retrieve/export: run part I of N (N alone: I from the job array index)",
  },
  chunk: {
    type: "string",
    valueName: "N",
    description: "embed: files per committed chunk (a killed run redoes at most one; default 256)",
  },
  merge: {
    type: "boolean",
    description: "embed/dedup/cluster/retrieve/export: combine the finished parts",
  },
  fit: {
    type: "boolean",
    description: "cluster: train the hierarchy once, before `--shard I/N` workers assign",
  },
  descriptor: {
    type: "string",
    valueName: "NAME|FILE",
    description: `embed/run: a copy-detection model FILE.onnx (e.g. SSCD); dedup/calibrate: ${DESCRIPTORS.join(", ")} or that FILE.onnx (default phash)`,
  },
  "descriptor-size": {
    type: "string",
    valueName: "PX",
    description: "descriptor model input side when its shape is symbolic (static: read from it)",
  },
  "descriptor-mean": {
    type: "string",
    valueName: "R,G,B",
    description: "descriptor model normalisation mean (default ImageNet 0.485,0.456,0.406)",
  },
  "descriptor-std": {
    type: "string",
    valueName: "R,G,B",
    description: "descriptor model normalisation std (default ImageNet 0.229,0.224,0.225)",
  },
  planted: {
    type: "string",
    valueName: "DIR",
    description: "calibrate: folder with manifest.json of planted copies (`curate synth` output)",
  },
  threshold: {
    type: "string",
    valueName: "COS",
    description: "dedup: copy edge when cosine > this (default: the descriptor's)",
  },
  "relative-threshold": {
    type: "string",
    valueName: "COS",
    description: "dedup: remove pool images this close to an --against image",
  },
  k: { type: "string", valueName: "N", default: "64", description: "dedup: neighbours per image" },
  against: {
    type: "string",
    multiple: true,
    valueName: "DIR",
    description: "dedup/run: evaluation images to remove near-copies of (repeatable)",
  },
  levels: {
    type: "string",
    valueName: "K0,K1,..",
    description: "cluster: clusters per level, decreasing (default: pool/10, then /10 again)",
  },
  init: {
    type: "string",
    valueName: "NAME",
    default: "kmeans++",
    description: "cluster: kmeans++ or random",
  },
  spherical: { type: "boolean", description: "cluster: spherical k-means (unit centroids)" },
  iterations: {
    type: "string",
    valueName: "N",
    default: "25",
    description: "cluster: Lloyd iterations per level",
  },
  restarts: {
    type: "string",
    valueName: "N",
    default: "1",
    description: "cluster: k-means runs per level, best kept",
  },
  "max-points-per-centroid": {
    type: "string",
    valueName: "N",
    default: "256",
    description: "cluster: subsample to k×N points",
  },
  seed: {
    type: "string",
    valueName: "N",
    default: "0",
    description: "seed of k-means, sampling and random weights",
  },
  budget: {
    type: "string",
    valueName: "N",
    description: "sample/run: images drawn balanced over the hierarchy",
  },
  curated: {
    type: "string",
    valueName: "DIR",
    description: "retrieve/run: curated images to retrieve look-alikes of",
  },
  mode: {
    type: "string",
    valueName: "NAME",
    default: "sample",
    description: "retrieve: sample, cluster or both",
  },
  "per-query": {
    type: "string",
    valueName: "N",
    default: "4",
    description: "retrieve: nearest pool images per query",
  },
  "per-cluster": {
    type: "string",
    valueName: "N",
    default: "100",
    description: "retrieve: images from each selected cluster",
  },
  ann: {
    type: "string",
    valueName: "NAME",
    default: "auto",
    description: `retrieve: ${ANN_MODES.join(", ")} (auto: LanceDB IVF-PQ from ${ANN_THRESHOLD} kept images)`,
  },
  "build-index": {
    type: "boolean",
    description:
      "retrieve: build the ANN index over the kept embeddings once (one process), for the --shard workers to share",
  },
  cap: {
    type: "string",
    valueName: "N",
    default: "1000000",
    description: "retrieve: at most this many images",
  },
  from: {
    type: "string",
    valueName: "TABLE",
    description: "export: retrieved, sampled or dedup_kept (default: first present)",
  },
  output: {
    type: "string",
    valueName: "PATH",
    description: "export/run/synth: folder; report: .html file",
  },
} as const;

export type FlagName = keyof typeof CURATE_FLAGS;

const EMBEDDING: FlagName[] = ["model", "image-size", "batch-size", "threads", "seed"];
const DESCRIPTOR: FlagName[] = [
  "descriptor",
  "descriptor-size",
  "descriptor-mean",
  "descriptor-std",
];
const DEDUP: FlagName[] = [...DESCRIPTOR, "threshold", "relative-threshold", "k", "against"];
const CLUSTER: FlagName[] = [
  "levels",
  "init",
  "spherical",
  "iterations",
  "restarts",
  "max-points-per-centroid",
  "seed",
];
const RETRIEVE: FlagName[] = [
  "curated",
  "mode",
  "per-query",
  "per-cluster",
  "ann",
  "cap",
  ...EMBEDDING,
];

export const STAGE_FLAGS: Record<string, { summary: string; flags: FlagName[] }> = {
  embed: {
    summary: "images -> pool table (embedding, pHash); rejects; exact duplicates dropped",
    flags: ["input", "shard", "merge", "chunk", ...DESCRIPTOR, ...EMBEDDING],
  },
  dedup: {
    summary: "copies (kNN + union-find) and near-eval images removed -> dedup_kept",
    flags: ["shard", "merge", ...DEDUP, ...EMBEDDING],
  },
  cluster: {
    summary: "hierarchical k-means of the kept embeddings -> clusters (--fit, --shard, --merge)",
    flags: ["fit", "shard", "merge", ...CLUSTER],
  },
  sample: {
    summary: "balanced sample over the hierarchy (Vo et al.) -> sampled",
    flags: ["budget", "seed", "shard"],
  },
  retrieve: {
    summary: "pool images near a curated set (sample/cluster-based) -> retrieved",
    flags: ["shard", "merge", "build-index", ...RETRIEVE],
  },
  export: {
    summary: "a curated table -> files.txt + folder of links for `dinov2 train --data`",
    flags: ["from", "output", "shard", "merge"],
  },
  report: {
    summary: "self-contained HTML: counts, duplicate groups, clusters, retrievals",
    flags: ["output", "shard"],
  },
  run: {
    summary: "embed -> dedup -> cluster -> retrieve (--curated) or sample -> export -> report",
    flags: ["input", "output", "budget", ...DEDUP, ...CLUSTER, ...RETRIEVE],
  },
  calibrate: {
    summary: "copy vs distinct-pair cosines of a descriptor on planted copies -> a threshold",
    flags: ["planted", ...DESCRIPTOR, "threads", "batch-size"],
  },
  synth: {
    summary: "write a planted synthetic pool (copies, near-test images, broken files)",
    flags: ["output", "seed"],
  },
};
