#!/usr/bin/env bash
# Side-by-side classification trainings on one GPU; results tarred into $OUT.
set -u
mkdir -p /tmp/r
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
LIMIT=${LIMIT:-520}
job() {  # name, then the train arguments
  local name=$1; shift
  timeout $LIMIT python3 benchmarks/classification_quality.py train --out /tmp/r/$name.json "$@" > /tmp/r/$name.log 2>&1 &
}
B=1048576
job imdb_emb     --ids .device_data/imdb.npz --models embedding_attention --bigram-buckets $B --seeds 0 1 2 --epochs 6 --patience 1 --dropout 0.5
job imdb_gru0    --ids .device_data/imdb.npz --models bigru_attention --bigram-buckets $B --seeds 0 --epochs 4 --patience 1
job imdb_gru1    --ids .device_data/imdb.npz --models bigru_attention --bigram-buckets $B --seeds 1 --epochs 4 --patience 1
job imdb_gru2    --ids .device_data/imdb.npz --models bigru_attention --bigram-buckets $B --seeds 2 --epochs 4 --patience 1
job imdb_tr0     --ids .device_data/imdb.npz --models transformer --bigram-buckets $B --seeds 0 --epochs 5 --patience 1 --dropout 0.2
job ng_emb       --ids .device_data/newsgroups.npz --models embedding_attention --bigram-buckets $B --seeds 0 1 2 --epochs 12 --patience 2 --dropout 0.5
job ng_tr0       --ids .device_data/newsgroups.npz --models transformer --bigram-buckets $B --seeds 0 --epochs 8 --patience 2 --dropout 0.2
job ng_tr1       --ids .device_data/newsgroups.npz --models transformer --bigram-buckets $B --seeds 1 --epochs 8 --patience 2 --dropout 0.2
job ng_gru0      --ids .device_data/newsgroups.npz --models bigru_attention --bigram-buckets $B --seeds 0 --epochs 8 --patience 2
job ng_tr_plain  --ids .device_data/newsgroups.npz --models transformer --seeds 2 --epochs 8 --patience 2 --dropout 0.2
wait
nvidia-smi --query-gpu=name,driver_version --format=csv > /tmp/r/gpu.txt
tar czf $OUT/quality_results.tar.gz -C /tmp r
