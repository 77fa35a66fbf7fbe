#!/usr/bin/env bash
# The CUDA check: the course CNN and the two-digit CNN on an NVIDIA GPU,
# against PyTorch on the same GPU, in one call on a machine that has CUDA,
# Python with PyTorch and numpy, and no Rust.
#
#   scripts/gpu-check.sh build        here: release binaries of cnn and
#                                     two-digit with `--features cuda`,
#                                     packed into target/gpu-check/
#   scripts/gpu-check.sh run [N]      there, in the repository, with
#                                     target/gpu-check/ carried over: on GPU
#                                     N (default 0), one table
#
# `run` trains the course CNN for one epoch on `--backend cuda` and on the
# CPU (flex), times the raw step of the course CNN and of the two-digit CNN
# (`bench --backend cuda`, which runs PyTorch's step on the same GPU in
# turn), trains PyTorch's course CNN for one epoch on the GPU, and prints
# one Markdown table (also written to $OUT/gpu-check.md when $OUT is set,
# with every command's log). Each step has its time limit; the whole run
# stays under 8 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."

pack=target/gpu-check
python=${PYTHON:-python3}

build() {
    cargo build --release --locked -p cnn -p two-digit --features mnist-train/cuda || exit
    rm -rf "$pack" && mkdir -p "$pack/bin" || exit
    for binary in cnn two-digit; do
        strip -o "$pack/bin/$binary" "target/release/$binary" || exit
    done
    # Two stripped binaries are about 90 MB; packed, a fifth of it.
    tar -C "$pack" -cJf "$pack/binaries.tar.xz" bin && rm -rf "$pack/bin" || exit
    git describe --always --dirty >"$pack/commit"
    echo "packed $(du -h "$pack/binaries.tar.xz" | cut -f1) into $pack/ at $(cat "$pack/commit")"
}

run() {
    local gpu=${1:-0}
    local out=${OUT:-$(mktemp -d)}
    local bin
    bin=$(mktemp -d)
    if [[ ! -f $pack/binaries.tar.xz ]]; then
        echo "error: no $pack/binaries.tar.xz: run \`scripts/gpu-check.sh build\` first, where Rust is" >&2
        exit 1
    fi
    if ! "$python" -c "import numpy, torch" 2>/dev/null; then
        echo "error: \`$python\` cannot import torch and numpy (set PYTHON to one that can)" >&2
        exit 1
    fi
    mkdir -p "$bin" && tar -C "$bin" -xJf "$pack/binaries.tar.xz" --strip-components=1 || exit
    echo "binaries of $(cat "$pack/commit" 2>/dev/null || echo '?'); $(nvidia-smi --query-gpu=name --format=csv,noheader -i "$gpu" 2>/dev/null || echo 'no nvidia-smi')"

    step() { # name, seconds, command...
        local name=$1 limit=$2
        shift 2
        echo "== $name: $*"
        local start=$SECONDS
        timeout "$limit" "$@" >"$out/$name.log" 2>&1
        local status=$?
        tail -n 30 "$out/$name.log"
        echo "== $name: exit $status after $((SECONDS - start)) s"
    }
    local reports=$out/reports
    step cnn-cuda 150 "$bin/cnn" --backend cuda --device "$gpu" --epochs 1 --run cuda \
        --reports "$reports" --overwrite
    step cnn-flex 120 "$bin/cnn" --backend flex --epochs 1 --run flex --reports "$reports" --overwrite
    step pytorch-cuda 120 "$python" crates/cnn/reference/course_cnn.py full 1 --epochs 1 \
        --device "cuda:$gpu"
    step cnn-bench 100 "$bin/cnn" bench --backend cuda --device "$gpu" --rounds 3 --steps 40 \
        --python "$python"
    step two-digit-bench 100 "$bin/two-digit" bench --backend cuda --device "$gpu" --rounds 3 \
        --steps 40 --python "$python"

    "$python" - "$out" "$reports/results.csv" <<'EOF' | tee "$out/gpu-check.md"
import csv, re, sys
from pathlib import Path
out, results = Path(sys.argv[1]), Path(sys.argv[2])
runs = {r["run"]: r for r in csv.DictReader(open(results))} if results.is_file() else {}
def run(name):
    r = runs.get(name)
    return (f"{float(r['epoch_seconds_median']):.1f} s", f"{100 * float(r['test_accuracy']):.2f} %") if r else ("failed", "—")
def log(name):
    path = out / f"{name}.log"
    return path.read_text(errors="replace") if path.is_file() else ""
torch = re.search(r"([\d.]+) % on 10,000 test images after 1 epoch\(s\); epoch ([\d.]+) s", log("pytorch-cuda"))
def paired(name, model):
    # bench's paired table: model, ours ms, PyTorch ms, ratio, ...
    m = re.search(rf"^{model}\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x", log(name), re.M)
    return (f"{m[1]} ms", f"{m[2]} ms", f"{m[3]}×") if m else ("failed", "—", "—")
print("| course CNN | Burn | PyTorch 2.9 | ours / PyTorch |")
print("|---|---|---|---|")
(cuda_epoch, cuda_acc), (flex_epoch, flex_acc) = run("cuda"), run("flex")
torch_epoch, torch_acc = (f"{torch[2]} s", f"{torch[1]} %") if torch else ("failed", "—")
print(f"| 1 epoch on the GPU (training and validation) | {cuda_epoch} | {torch_epoch} | |")
print(f"| test accuracy after 1 epoch, GPU | {cuda_acc} | {torch_acc} | |")
print(f"| test accuracy after 1 epoch, CPU (flex, same seed) | {flex_acc} | | |")
for conv in ("fused", "layers"):
    ours, theirs, ratio = paired("cnn-bench", conv)
    print(f"| raw step, batch 32, conv {conv} | {ours} | {theirs} | {ratio} |")
ours, theirs, ratio = paired("two-digit-bench", "cnn")
print(f"| two-digit CNN raw step, batch 64 | {ours} | {theirs} | {ratio} |")
EOF
}

case ${1:-} in
build) build ;;
run) run "${2:-0}" ;;
*)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
