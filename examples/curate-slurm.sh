#!/bin/bash
# dinov2 curate on SLURM: a job array per sharded stage, then a dependent merge job.
# Each array task reads its index from SLURM_ARRAY_TASK_ID (the array must be numbered from 0),
# so `--shard N` means "part SLURM_ARRAY_TASK_ID of N". A requeued or rerun task resumes its part.
# Run it on the login node; it submits embed, its merge, dedup and its merge as dependent jobs:
#   N=16 DB=/shared/curate-db INPUT=/shared/uncurated bash examples/curate-slurm.sh
set -euo pipefail
N=${N:-16}
DB=${DB:-/shared/curate-db}           # a folder every node sees, or s3://bucket/path
INPUT=${INPUT:-/shared/uncurated}
MODEL=${MODEL:-/shared/models/dinov2-vits14}
AGAINST=${AGAINST:-/shared/eval/val}

embed=$(sbatch --parsable --array=0-$((N - 1)) --cpus-per-task=8 --mem=16G \
  --wrap "dinov2 curate embed --db $DB --input $INPUT --model $MODEL --shard $N")
merge=$(sbatch --parsable --dependency=afterok:$embed \
  --wrap "dinov2 curate embed --db $DB --merge")
dedup=$(sbatch --parsable --dependency=afterok:$merge --array=0-$((N - 1)) --cpus-per-task=8 --mem=16G \
  --wrap "dinov2 curate dedup --db $DB --against $AGAINST --shard $N")
sbatch --dependency=afterok:$dedup \
  --wrap "dinov2 curate dedup --db $DB --against $AGAINST --merge --shard $N"
echo "submitted embed ($embed), merge ($merge), dedup ($dedup) and the dedup merge"
