#!/usr/bin/env bash
# The one test command: formatting, clippy (warnings denied), and every
# crate's tests. The curriculum is graded by these tests, so it ends with a
# grade sheet: one line per crate, then "N passed, M failed".
#
#   ./run_tests.sh              everything
#   ./run_tests.sh -p cnn       only the tests of one crate (nextest filters)
#
# First it installs what the tests need beyond Rust, or names the command that
# does and stops (RUN_TESTS_NO_INSTALL=1: never install); see
# scripts/setup-test-tools.sh.
set -uo pipefail
cd "$(dirname "$0")"

bash scripts/setup-test-tools.sh || exit

passed=0
failed=0
sheet=()

check() { # name, command...
    local name=$1
    shift
    echo "== $name: $*"
    if "$@"; then
        sheet+=("$name: passed")
        passed=$((passed + 1))
    else
        sheet+=("$name: FAILED")
        failed=$((failed + 1))
    fi
}

# Clippy checks the code of every backend (the wgpu and cuda arms of
# `--backend` included). The tests run the wgpu backend for real on CI's
# software Vulkan device, in tests/wgpu.rs only (feature test-wgpu): a binary
# with the wgpu backend compiled in takes minutes to build, so the part
# binaries are tested without it. The CUDA backend's crates are built with the
# tests (feature cuda-deps; there is no GPU to run them on), sharing the rest
# of Burn with them: a separate `--features cuda` build would compile all of
# Burn again with other features.
all_backends=mnist-train/wgpu,mnist-train/cuda,mnist-train/tch-check,mnist-train/test-wgpu
features=mnist-train/test-wgpu,mnist-train/cuda-deps
# The coursework check builds the learner edition into the same target
# folder; with the same features it shares every dependency.
export COURSEWORK_FEATURES=$features COURSEWORK_CLIPPY_FEATURES=$all_backends

check setup-script bash scripts/test-setup.sh
check rustfmt cargo fmt --all --check
check clippy cargo clippy --workspace --all-targets --locked --features "$all_backends" -- -D warnings
check build cargo nextest run --workspace --features "$features" --profile grade --locked --no-run

# The coursework checks build other editions of the workspace in this target
# folder (the learner edition, partial editions, the instrumented edition of
# `coursework check-tests`). Their crates are versioned apart, so each
# edition keeps its own builds, but all link their programs to
# target/debug/<name>: the checks run one at a time, after every other test,
# so that no test runs another edition's program. (The next Cargo command in
# this workspace links the reference's back.)
editions='package(coursework) & (test(=reference_and_learner_editions_grade_as_they_should) | test(=editions_at_two_paths_in_one_target_folder_grade_their_own_code) | test(=the_graded_tests_catch_every_wrong_solution) | test(=every_kind_of_upload_is_graded_or_told_how_to_upload))'
junit=target/nextest/grade/junit.xml
reports=()
status=0
for phase in together alone; do
    if [[ $phase == together ]]; then
        filter="not ($editions)" threads=()
    else
        filter=$editions threads=(--test-threads 1)
    fi
    echo "== tests: cargo nextest run --workspace --features $features --profile grade -E '$filter' ${threads[*]} $*"
    rm -f "$junit"
    cargo nextest run --workspace --features "$features" --profile grade --locked \
        --no-tests=warn -E "$filter" "${threads[@]}" "$@" || status=$?
    if [[ -f $junit ]]; then
        reports+=("$junit.${#reports[@]}")
        mv "$junit" "${reports[-1]}"
    fi
done
if [[ ${#reports[@]} -gt 0 ]]; then
    # One <testsuite name="crate::binary" tests=".." failures=".." errors=".."> per
    # test binary; add them up per crate.
    while read -r crate total bad; do
        sheet+=("$crate: $((total - bad))/$total checks passed")
        passed=$((passed + total - bad))
        failed=$((failed + bad))
    done < <(awk '
        /<testsuite / {
            match($0, /name="[^"]*"/);     name = substr($0, RSTART + 6, RLENGTH - 7)
            sub(/::.*/, "", name)
            match($0, / tests="[0-9]+"/);  tests = substr($0, RSTART + 8, RLENGTH - 9)
            match($0, /failures="[0-9]+"/); fails = substr($0, RSTART + 10, RLENGTH - 11)
            match($0, /errors="[0-9]+"/);   errs = substr($0, RSTART + 8, RLENGTH - 9)
            total[name] += tests; bad[name] += fails + errs
        }
        END { for (n in total) print n, total[n], bad[n] }' "${reports[@]}" | sort)
fi
if [[ $status -ne 0 && $failed -eq 0 ]]; then
    sheet+=("tests: FAILED to build or run (nextest exit $status)")
    failed=$((failed + 1))
fi

echo
echo "Grade sheet"
printf '  %s\n' "${sheet[@]}"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $status -eq 0 ]]
