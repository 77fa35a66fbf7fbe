#!/usr/bin/env bash
# Tests scripts/setup-test-tools.sh offline, in seconds: on a PATH of links to
# every command, with stand-ins for the tools it looks for (and for cargo,
# apt-get, sudo, which only log their arguments), each tool is hidden in turn.
set -uo pipefail
cd "$(dirname "$0")/.."
setup=$PWD/scripts/setup-test-tools.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/bin
log=$tmp/calls
mkdir -p "$bin" "$tmp/cargo-home" "$tmp/hidden"
touch "$tmp/lvp_icd.json"

stub() { # name, exit status
    printf '#!/bin/sh\necho "called: %s $*" >>"%s"\nexit %s\n' "$1" "$log" "$2" >"$bin/$1"
    chmod +x "$bin/$1"
}
for tool in cargo cargo-nextest chromium chromedriver apt-get sudo; do
    stub "$tool" 0
done
# Links to the rest of PATH, first folder first; the stand-ins stay.
IFS=: read -ra dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
    [[ -d $dir ]] && ln -s "$dir"/* "$bin"/ 2>/dev/null
done

failures=0
# name, expected exit status, expected texts (in the output or the call log)...
# Runs the set-up on $bin with $icd, in the mode of $RUN_TESTS_NO_INSTALL.
expect() {
    local name=$1 want=$2 out rc text bad=""
    shift 2
    : >"$log"
    out=$(PATH=$bin CARGO_HOME=$tmp/cargo-home RUN_TESTS_VULKAN_ICD=$icd bash "$setup" 2>&1)
    rc=$?
    out+=$'\n'$(<"$log")
    [[ $rc -eq $want ]] || bad+=" exit $rc, not $want;"
    [[ -z ${RUN_TESTS_NO_INSTALL:-} || ! -s $log ]] || bad+=" installs with RUN_TESTS_NO_INSTALL=1;"
    for text in "$@"; do
        [[ $out == *"$text"* ]] || bad+=" no '$text';"
    done
    if [[ -n $bad ]]; then
        echo "FAIL $name:$bad"
        sed 's/^/    /' <<<"$out"
        failures=$((failures + 1))
    else
        echo "ok   $name"
    fi
}
hide() { mv "$bin/$1" "$tmp/hidden/"; }
show() { mv "$tmp/hidden/$1" "$bin/"; }

icd=$tmp/lvp_icd.json
export RUN_TESTS_NO_INSTALL=1
expect "all present" 0

for tool in cargo-nextest chromium chromedriver; do
    hide "$tool"
    case $tool in
    cargo-nextest) expect "no $tool" 2 "cargo-nextest" "'cargo install cargo-nextest --locked'" ;;
    *) expect "no $tool" 2 "chromedriver" "'apt-get install -y chromium chromium-driver'" ;;
    esac
    show "$tool"
done

icd=$tmp/missing.json
expect "no lavapipe" 2 "$icd" "'apt-get install -y mesa-vulkan-drivers libvulkan1'"
hide cargo
expect "no cargo" 2 "rustup.rs"
show cargo

# Installing: the stand-ins log what would run (and install nothing, so the
# set-up still ends naming what is missing).
unset RUN_TESTS_NO_INSTALL
hide chromium
expect "root installs with apt-get" 2 \
    "called: apt-get update -qq" \
    "called: apt-get install -y -qq --no-install-recommends chromium chromium-driver mesa-vulkan-drivers libvulkan1"
hide apt-get
expect "without apt-get: the command" 2 "'apt-get install -y chromium chromium-driver'"
show apt-get
mv "$bin/id" "$tmp/hidden/id"
printf '#!/bin/sh\necho 1000\n' >"$bin/id"
chmod +x "$bin/id"
expect "sudo installs with apt-get" 2 "called: sudo -n true" \
    "called: sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install"
stub sudo 1
expect "without sudo: the command" 2 "'sudo apt-get install -y chromium chromium-driver'"
show chromium
icd=$tmp/lvp_icd.json
hide cargo-nextest
expect "installs cargo-nextest" 2 "called: cargo install cargo-nextest --locked"

if [[ $failures -gt 0 ]]; then
    echo "$failures set-up checks failed"
    exit 1
fi
