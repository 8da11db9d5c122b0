#!/bin/sh
# Fetches Debian's source package of the installed libbpf (its internal headers
# relo_core.h and libbpf_internal.h are not in libbpf-dev) into DIR, with apt's own
# signature checks, through a private apt state in DIR: no system file changes, and
# it works whether or not the machine lists deb-src entries.
# Usage: fetch-libbpf-src.sh DIR VERSION   (VERSION as dpkg says it, epoch included)
# Prints the extracted source directory (containing src/relo_core.h) on success.
set -eu
dir=$1 ver=$2
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/apt/sources"
cd "$dir"
found=$(ls -d libbpf-*/src/relo_core.h 2>/dev/null | head -n1 || true)
if [ -n "$found" ]; then dirname "$(dirname "$found")"; exit 0; fi
# The same mirror and suites as the machine's deb entries, as deb-src.
{
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed -n 's/^Types:.*\bdeb\b.*/Types: deb-src/p; /^\(URIs\|Suites\|Components\|Signed-By\):/p; /^$/p' "$f"
  done
} > apt/sources/src.sources
grep -q '^URIs:' apt/sources/src.sources || {
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > apt/sources/src.sources; }
# A machine without network must not hold up cmake for minutes: short timeouts, no
# retries, and a failure is remembered (remove DIR/failed to try again).
[ ! -e failed ] || exit 1
set -- -o Acquire::http::Timeout=10 -o Acquire::Retries=0 -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$dir/apt/sources" \
  -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache" -o Debug::NoLocking=1
[ "$(id -u)" -ne 0 ] || set -- "$@" -o APT::Sandbox::User=root
upver=${ver#*:}
if ! timeout 60 apt-get "$@" -qq update >/dev/null 2>&1 ||
   ! timeout 60 apt-get "$@" -qq --download-only source "libbpf=$upver" >/dev/null 2>&1; then
  : > failed
  exit 1
fi
orig=$(ls libbpf_*.orig.tar.* 2>/dev/null | head -n1)
[ -n "$orig" ] || { : > failed; exit 1; }
tar xf "$orig"
found=$(ls -d libbpf-*/src/relo_core.h 2>/dev/null | head -n1)
[ -n "$found" ] || exit 1
dirname "$(dirname "$found")"
