#!/usr/bin/env bash
# Installs every Debian package vmslim needs, then configures and builds it.
# Usage: scripts/setup.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}

packages=(
  build-essential cmake pkg-config binutils
  clang clang-19 llvm libclang-dev libclang-19-dev
  tcc libtcc-dev
  bpftool libbpf-dev libelf-dev zlib1g-dev
  libxxhash-dev libjson-c-dev
  libhiredis-dev redis-server
  clangd python3 ccache
  librsvg2-bin
  neovim nodejs emacs-nox elpa-eglot
  emscripten dpkg-dev
  libmicrohttpd-dev chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm is its own package on Debian, but part of a nodejs from elsewhere (NodeSource's
# conflicts with Debian's npm): the command is what the tests need
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "setup: installing ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# TCC's source for the WebAssembly checker (wasm/, -DVMSLIM_WASM=ON): Debian's `tcc`
# source package, the same version as libtcc-dev, unpacked under the build directory.
# deb-src is added once (deb822 sources on Debian 12, else sources.list).
tcc_src_dir="$build_dir/deps/tcc"
if ! ls -d "$tcc_src_dir"/tcc-*/ >/dev/null 2>&1; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  deb822=/etc/apt/sources.list.d/debian.sources
  if [ -f "$deb822" ]; then
    grep -q '^Types:.*deb-src' "$deb822" ||
      "${sudo_cmd[@]}" sed -i 's/^Types: deb$/Types: deb deb-src/' "$deb822"
  elif [ -f /etc/apt/sources.list ] && ! grep -q '^deb-src' /etc/apt/sources.list; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | "${sudo_cmd[@]}" tee -a /etc/apt/sources.list >/dev/null
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  mkdir -p "$tcc_src_dir"
  ver=$(dpkg-query -W -f='${Version}' libtcc-dev)
  (cd "$tcc_src_dir" && apt-get source -qq "tcc=$ver" >&2)
fi

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
cmake --build "$build_dir" -j"$(nproc)" >&2
