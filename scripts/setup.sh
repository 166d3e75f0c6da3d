#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages, then
# builds slimage (Release) into build/. Safe to run again.
#   bash scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libarchive-dev liblief-dev libssl-dev nlohmann-json3-dev libzstd-dev libspdlog-dev
  libcli11-dev doctest-dev libcurl4-openssl-dev libisal-dev libdeflate-dev zlib1g-dev
  umoci skopeo debootstrap musl-tools pigz zstd jq binutils python3 file
  docker-registry apache2-utils openssl time util-linux
  man-db zsh fish  # tests/e2e/cli_completion.sh: render the man page, parse the completions
  python3-jsonschema  # tests/e2e/sbom.sh: the CycloneDX schema's validator
  libyaml-cpp-dev  # check --ci-config: dive's .dive-ci is YAML
  chromium  # tests/e2e/html_report.sh: renders the HTML report, reads its numbers back, screenshots it
  python3-pip  # tests/e2e/pip_check.sh: pip, copied into the slimmed sample's chroot
  qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross  # tests/e2e/foreign_arch.sh: arm64, armhf images run without binfmt
)
# npm fetches the CycloneDX schema (tests/e2e/sbom.sh). A nodejs from elsewhere
# (NodeSource) ships its own npm and conflicts with Debian's: install Debian's
# only where no npm is on the PATH.
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash scripts/fetch-cyclonedx-schema.sh >/dev/null

[ "${1:-}" = "--no-build" ] && exit 0
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target slimage -j"$(nproc)"
echo "setup: built build/slimage" >&2
