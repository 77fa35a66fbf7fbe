#!/usr/bin/env bash
# Installs what the tests need beyond Rust, where it can: cargo-nextest, and on
# Debian/Ubuntu (apt-get, as root or with passwordless sudo) Chromium and
# chromedriver (the drawing page's browser test) and Mesa's software Vulkan
# driver, lavapipe (the wgpu backend's tests). Otherwise it names what is
# missing and the command that installs it, and exits 2.
#
#   RUN_TESTS_NO_INSTALL=1   never install: only report what is missing
#   RUN_TESTS_VULKAN_ICD     the lavapipe ICD file to look for
set -uo pipefail

icd=${RUN_TESTS_VULKAN_ICD:-/usr/share/vulkan/icd.d/lvp_icd.$(uname -m).json}
install=1
[[ ${RUN_TESTS_NO_INSTALL:-} == 1 ]] && install=0

if ! command -v cargo >/dev/null; then
    echo "the tests need a Rust toolchain (cargo on PATH): see https://rustup.rs" >&2
    exit 2
fi

# On PATH, or where `cargo install` puts it (cargo looks there too).
has_nextest() {
    command -v cargo-nextest >/dev/null ||
        [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo-nextest ]]
}
has_chromium() { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }
has_lavapipe() { [[ -e $icd ]]; }

# Each apt package set, with what it provides and how to tell it is there.
apt_sets=(
    "has_chromium|Chromium and chromedriver (chromium, chromedriver on PATH)|chromium chromium-driver"
    "has_lavapipe|Mesa's software Vulkan driver ($icd)|mesa-vulkan-drivers libvulkan1"
)

sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo -n)
can_apt=0
if [[ $install == 1 ]] && command -v apt-get >/dev/null &&
    { [[ ${#sudo[@]} -eq 0 ]] || sudo -n true 2>/dev/null; }; then
    can_apt=1
fi

missing=()
if ! has_nextest; then
    if [[ $install == 1 ]]; then
        echo "== setup: cargo install cargo-nextest --locked"
        cargo install cargo-nextest --locked
    fi
    has_nextest || missing+=("cargo-nextest: install with 'cargo install cargo-nextest --locked'")
fi

packages=()
for set in "${apt_sets[@]}"; do
    IFS='|' read -r test _ pkgs <<<"$set"
    read -ra names <<<"$pkgs"
    $test || packages+=("${names[@]}")
done
if [[ ${#packages[@]} -gt 0 && $can_apt == 1 ]]; then
    echo "== setup: apt-get install ${packages[*]}"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${packages[@]}" >/dev/null
fi
for set in "${apt_sets[@]}"; do
    IFS='|' read -r test what pkgs <<<"$set"
    $test || missing+=("$what: install with '${sudo:+sudo }apt-get install -y $pkgs' (Debian/Ubuntu)")
done

if [[ ${#missing[@]} -gt 0 ]]; then
    echo "the tests need tools this machine lacks:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 2
fi
