#!/usr/bin/env bash
# Packs the edgegate binary as a release archive:
#
#   scripts/dist.sh [--binary PATH] [--out DIR] [--target TRIPLE] [--allow-dynamic] [--no-strip]
#
# writes DIR/edgegate-v{version}-{target}.tar.gz (one folder edgegate-v{version}-{target}/ with
# edgegate, README.md and LICENSE when present) and DIR/edgegate-v{version}-{target}.tar.gz.sha256
# (sha256sum format). Without --binary it builds `cargo build --release --features static-hdf5`
# (CMake >= 3.26 on PATH, e.g. `pip install cmake`). The version comes from Cargo.toml, the target
# from `rustc -vV` (the host). DIR defaults to dist/. The packed copy is stripped of symbols and
# debug info (`strip`, when installed) unless --no-strip is given.
#
# A release binary must run without libhdf5: the script refuses a binary that `ldd` shows linked
# to an HDF5 library, unless --allow-dynamic is given (tests pack the dynamic debug binary).
set -euo pipefail

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
  echo "dist: $*" >&2
  exit 1
}

root="$(cd "$(dirname "$0")/.." && pwd)"
binary=""
out=""
target=""
allow_dynamic=0
strip_binary=1

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary="$2"; shift 2 ;;
    --binary=*) binary="${1#*=}"; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out="$2"; shift 2 ;;
    --out=*) out="${1#*=}"; shift ;;
    --target) [ $# -ge 2 ] || die "--target needs a target triple"; target="$2"; shift 2 ;;
    --target=*) target="${1#*=}"; shift ;;
    --allow-dynamic) allow_dynamic=1; shift ;;
    --no-strip) strip_binary=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

# The package version: the first `version = "…"` of the [package] table.
version="$(sed -n '/^\[package\]/,/^\[/p' "$root/Cargo.toml" | sed -n 's/^version *= *"\([^"]*\)".*/\1/p' | head -n1)"
[ -n "$version" ] || die "no version found in $root/Cargo.toml"

if [ -z "$target" ]; then
  command -v rustc >/dev/null 2>&1 || die "rustc is not on PATH; pass --target TRIPLE"
  target="$(rustc -vV | sed -n 's/^host: //p')"
  [ -n "$target" ] || die "could not read the host triple from 'rustc -vV'"
fi

if [ -z "$binary" ]; then
  echo "dist: building edgegate $version (release, static HDF5) for $target" >&2
  (cd "$root" && cargo build --locked --release --features static-hdf5 --target "$target")
  binary="$root/target/$target/release/edgegate"
fi
[ -f "$binary" ] || die "binary '$binary' does not exist"
[ -x "$binary" ] || die "binary '$binary' is not executable"

# The binary must not need libhdf5 (or any other non-libc system library) on the user's machine.
if command -v ldd >/dev/null 2>&1; then
  libs="$(ldd "$binary" 2>&1 || true)"
  if printf '%s\n' "$libs" | grep -qi 'hdf5'; then
    if [ "$allow_dynamic" -eq 1 ]; then
      echo "dist: warning: $binary links HDF5 dynamically (allowed by --allow-dynamic)" >&2
    else
      printf '%s\n' "$libs" | grep -i 'hdf5' >&2
      die "$binary links an HDF5 library dynamically; a release needs the static build (cargo build --release --features static-hdf5), or pass --allow-dynamic for a local test archive"
    fi
  fi
elif [ "$allow_dynamic" -ne 1 ]; then
  # macOS has no ldd; otool -L lists the dynamic libraries.
  if command -v otool >/dev/null 2>&1 && otool -L "$binary" | grep -qi 'hdf5'; then
    die "$binary links an HDF5 library dynamically; build with --features static-hdf5 or pass --allow-dynamic"
  fi
fi

name="edgegate-v${version}-${target}"
out="${out:-$root/dist}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
cp "$binary" "$stage/$name/edgegate"
chmod 755 "$stage/$name/edgegate"
if [ "$strip_binary" -eq 1 ] && command -v strip >/dev/null 2>&1; then
  strip "$stage/$name/edgegate" || die "strip failed on $binary (pass --no-strip to pack it as is)"
fi
cp "$root/README.md" "$stage/$name/"
for f in LICENSE LICENSE.md LICENSE-APACHE LICENSE.txt; do
  if [ -f "$root/$f" ]; then cp "$root/$f" "$stage/$name/"; fi
done

archive="$out/$name.tar.gz"
# Reproducible enough: sorted names, no owner names. (GNU tar options; BSD tar ignores the order.)
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -czf "$archive" "$name"
else
  tar -C "$stage" -czf "$archive" "$name"
fi

if command -v sha256sum >/dev/null 2>&1; then
  (cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
else
  (cd "$out" && shasum -a 256 "$name.tar.gz" > "$name.tar.gz.sha256")
fi

echo "$archive"
echo "$archive.sha256"
