#!/bin/bash
# dinov2 curate on SLURM: a job array per sharded stage, then a dependent merge job.
# Each array task reads its index from SLURM_ARRAY_TASK_ID (the array must be numbered from 0),
# so `--shard N` means "part SLURM_ARRAY_TASK_ID of N". A requeued or rerun task resumes its part.
# Run it on the login node; it submits every stage as dependent jobs: the sharded ones (embed,
# dedup, cluster's assignment, retrieve, export) as arrays with a merge after each, and the ones
# that run once (cluster --fit, retrieve --build-index, report) as single jobs:
#   N=16 DB=/shared/curate-db INPUT=/shared/uncurated bash examples/curate-slurm.sh
set -euo pipefail
N=${N:-16}
DB=${DB:-/shared/curate-db}           # a folder every node sees, or s3://bucket/path
INPUT=${INPUT:-/shared/uncurated}
MODEL=${MODEL:-/shared/models/dinov2-vits14}
AGAINST=${AGAINST:-/shared/eval/val}
CURATED=${CURATED:-/shared/my-dataset}  # the curated set to retrieve look-alikes of
OUT=${OUT:-/shared/curated}
LEVELS=${LEVELS:-10000,1000,100}

embed=$(sbatch --parsable --array=0-$((N - 1)) --cpus-per-task=8 --mem=16G \
  --wrap "dinov2 curate embed --db $DB --input $INPUT --model $MODEL --shard $N")
merge=$(sbatch --parsable --dependency=afterok:$embed \
  --wrap "dinov2 curate embed --db $DB --merge")
dedup=$(sbatch --parsable --dependency=afterok:$merge --array=0-$((N - 1)) --cpus-per-task=8 --mem=16G \
  --wrap "dinov2 curate dedup --db $DB --against $AGAINST --shard $N")
dmerge=$(sbatch --parsable --dependency=afterok:$dedup \
  --wrap "dinov2 curate dedup --db $DB --against $AGAINST --merge --shard $N")
fit=$(sbatch --parsable --dependency=afterok:$dmerge --cpus-per-task=16 --mem=64G \
  --wrap "dinov2 curate cluster --db $DB --fit --levels $LEVELS")
assign=$(sbatch --parsable --dependency=afterok:$fit --array=0-$((N - 1)) --cpus-per-task=8 --mem=16G \
  --wrap "dinov2 curate cluster --db $DB --shard $N")
cmerge=$(sbatch --parsable --dependency=afterok:$assign \
  --wrap "dinov2 curate cluster --db $DB --merge --shard $N")
# One LanceDB IVF-PQ index over the kept embeddings, built once; every retrieve task searches it.
index=$(sbatch --parsable --dependency=afterok:$cmerge --cpus-per-task=16 --mem=64G \
  --wrap "dinov2 curate retrieve --db $DB --build-index --ann ivf-pq")
retrieve=$(sbatch --parsable --dependency=afterok:$index --array=0-$((N - 1)) --cpus-per-task=8 --mem=16G \
  --wrap "dinov2 curate retrieve --db $DB --curated $CURATED --model $MODEL --mode both --ann ivf-pq --shard $N")
rmerge=$(sbatch --parsable --dependency=afterok:$retrieve \
  --wrap "dinov2 curate retrieve --db $DB --mode both --merge --shard $N")
export=$(sbatch --parsable --dependency=afterok:$rmerge --array=0-$((N - 1)) \
  --wrap "dinov2 curate export --db $DB --output $OUT --shard $N")
emerge=$(sbatch --parsable --dependency=afterok:$export \
  --wrap "dinov2 curate export --db $DB --output $OUT --merge --shard $N")
sbatch --dependency=afterok:$emerge \
  --wrap "dinov2 curate report --db $DB --output $OUT/report.html"
echo "submitted embed ($embed) .. export merge ($emerge) and the report; then: dinov2 train --data $OUT/images"
