#!/usr/bin/env bash
# More 20 Newsgroups Transformer seeds side by side, for the ensemble.
set -u
mkdir -p /tmp/r
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
LIMIT=${LIMIT:-520}
job() {
  local name=$1; shift
  timeout $LIMIT python3 benchmarks/classification_quality.py train --ids .device_data/newsgroups.npz --models transformer --epochs 8 --patience 2 --out /tmp/r/$name.json "$@" > /tmp/r/$name.log 2>&1 &
}
B=1048576
for s in 2 3 4 5; do job ng_trb$s --bigram-buckets $B --seeds $s --dropout 0.2; done
for s in 0 1 3 4; do job ng_trp$s --seeds $s --dropout 0.2; done
for s in 6 7; do job ng_trb_d03_$s --bigram-buckets $B --seeds $s --dropout 0.3; done
wait
tar czf $OUT/ng_results.tar.gz -C /tmp r
