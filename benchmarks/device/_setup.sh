# Sourced by the device scripts (from the repository root): the GPU's short
# name as $gpu and $ATTNPRED_DEVICE (e.g. h200), and each archive of
# .device_data (.tar.gz, .tar.xz) unpacked there once.
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 \
  | tr 'A-Z' 'a-z' | sed 's/nvidia //; s/ .*//')
export ATTNPRED_DEVICE=$gpu
for archive in .device_data/*.tar.*; do
  [ -d "${archive%%.tar.*}" ] || tar -xf "$archive" -C .device_data
done
