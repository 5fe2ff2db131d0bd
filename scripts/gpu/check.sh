#!/usr/bin/env bash
# The GPU check: one command for a machine with an NVIDIA GPU and its driver (no CUDA
# toolkit needed: cudarc loads libcuda at run time, and the PTX is ours). In about five
# minutes it
#   1. builds the workspace with `--features ringkernel/cuda`;
#   2. runs the CUDA device tests and every backend-parametrised test on `Cuda`, with
#      RINGKERNEL_REQUIRE_CUDA=1 so that a missing GPU fails instead of skipping;
#   3. runs the differential test, which now also compares every golden and example kernel's
#      PTX on the GPU with the PTX VM and with native Rust;
#   4. runs the round-trip / pipelined / blackout benchmark on Cpu, Emulated and Cuda, and
#      the three-stage pipeline (direct links vs host forwarding) on the three, and the
#      pipeline example on Cuda (where its rings are, throughput, latency, `lost: 0`);
#   5. prints a summary (GPU name, pass/fail per step, the benchmark figures) to stdout and
#      to $OUT/gpu-check.txt when $OUT is set.
# Usage: scripts/gpu/check.sh        (from the repository root)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT_FILE="${OUT:-/tmp}/gpu-check.txt"
: > "$OUT_FILE"
say() { echo "$*" | tee -a "$OUT_FILE"; }
started=$(date +%s)
export RINGKERNEL_REQUIRE_CUDA=1 CUDA_MODULE_LOADING=EAGER CARGO_TERM_COLOR=never
FEATURES=(--features ringkernel/cuda)
status=0

step() { # step NAME LIMIT_SECONDS COMMAND...
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  if timeout "$limit" "$@" > "/tmp/gpu-check-$name.log" 2>&1; then
    say "PASS $name ($(( $(date +%s) - t0 )) s)"
  else
    say "FAIL $name (exit $?, $(( $(date +%s) - t0 )) s); last lines:"
    tail -25 "/tmp/gpu-check-$name.log" | tee -a "$OUT_FILE"
    status=1
  fi
}

say "== GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi not found')"
step build 240 cargo build --release --tests --benches --examples "${FEATURES[@]}"
step cuda_device 60 cargo test --release -p ringkernel "${FEATURES[@]}" --test cuda_device
step backend_suite_cuda 150 cargo test --release --no-fail-fast "${FEATURES[@]}" --test backend_suite --test hot_swap_load --test faulting_artifacts --test faults_and_budgets --test access --test pipeline --test pipeline_swap --test checkpoints cuda::
step differential_gpu_vs_vm 90 cargo test --release "${FEATURES[@]}" --test differential
step bench 150 cargo bench "${FEATURES[@]}" --bench emulated_backend -- --warm-up-time 1 --measurement-time 2
step bench_pipeline 90 cargo bench "${FEATURES[@]}" --bench pipeline -- --warm-up-time 1 --measurement-time 2
step example_pipeline 60 cargo run --release "${FEATURES[@]}" --example pipeline -- --backend cuda
say "== figures (criterion medians and the blackout table)"
grep -E "^emulated_vs_cpu/|time:|thrpt:|CUDA device|no CUDA|staging|swap blackout|^  (cpu|emulated|cuda) " /tmp/gpu-check-bench.log | tee -a "$OUT_FILE"
grep -E "^pipeline_|time:|thrpt:|skipped" /tmp/gpu-check-bench_pipeline.log | tee -a "$OUT_FILE"
grep -E "^(backend|rings|throughput|latency|checkpoint|sent)" /tmp/gpu-check-example_pipeline.log | tee -a "$OUT_FILE"
say "== done in $(( $(date +%s) - started )) s, status $status"
exit $status
