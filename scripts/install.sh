#!/bin/sh
# Installs a prebuilt edgegate binary from a release archive, checking its sha256 first.
#
#   curl -fsSL https://github.com/acme/edgegate/releases/download/v0.1.0/install.sh | sh
#   scripts/install.sh [--version V] [--to DIR] [--target TRIPLE]
#
#   --version V    the release to install (default: the version this script ships with, below;
#                  the latest release is not looked up, so installs are reproducible and offline-safe)
#   --to DIR       where to put `edgegate` (default: ~/.local/bin, or /usr/local/bin as root)
#   --target T     the archive's target triple (default: detected from uname)
#
# Downloads {base}/v{V}/edgegate-v{V}-{target}.tar.gz and its .sha256 with curl (or wget), where
# {base} is $EDGEGATE_DOWNLOAD_BASE or https://github.com/acme/edgegate/releases/download.
#
# Exit codes: 0 installed; 1 error (download, tools, permissions); 2 bad arguments or unsupported
# platform; 3 checksum mismatch (nothing installed); 4 no archive for this version and target
# (HTTP 404; build from source instead).
set -eu

# Kept equal to `version` in Cargo.toml (a test checks).
EDGEGATE_VERSION="0.1.0"
DEFAULT_BASE="https://github.com/acme/edgegate/releases/download"

say() { printf 'edgegate-install: %s\n' "$*" >&2; }
die() {
  code="$1"
  shift
  say "error: $*"
  exit "$code"
}

usage() {
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
}

version="$EDGEGATE_VERSION"
to=""
target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || die 2 "--version needs a value"; version="$2"; shift 2 ;;
    --version=*) version="${1#*=}"; shift ;;
    --to) [ $# -ge 2 ] || die 2 "--to needs a directory"; to="$2"; shift 2 ;;
    --to=*) to="${1#*=}"; shift ;;
    --target) [ $# -ge 2 ] || die 2 "--target needs a target triple"; target="$2"; shift 2 ;;
    --target=*) target="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die 2 "unknown argument '$1' (see --help)" ;;
  esac
done

version="${version#v}"
case "$version" in
  ''|*[!0-9A-Za-z.+-]*) die 2 "'$version' is not a version (expected e.g. $EDGEGATE_VERSION)" ;;
esac

if [ -z "$target" ]; then
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64|amd64) arch=x86_64 ;;
    aarch64|arm64) arch=aarch64 ;;
    *) die 2 "no prebuilt edgegate for the CPU '$arch'; build from source (cargo install --locked --path .)" ;;
  esac
  case "$os" in
    Linux) target="$arch-unknown-linux-gnu" ;;
    Darwin) target="$arch-apple-darwin" ;;
    *) die 2 "no prebuilt edgegate for the OS '$os'; build from source (cargo install --locked --path .)" ;;
  esac
fi

if [ -z "$to" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    to=/usr/local/bin
  else
    [ -n "${HOME:-}" ] || die 2 "HOME is not set; pass --to DIR"
    to="$HOME/.local/bin"
  fi
fi

base="${EDGEGATE_DOWNLOAD_BASE:-$DEFAULT_BASE}"
base="${base%/}"
name="edgegate-v${version}-${target}"
url="$base/v${version}/${name}.tar.gz"

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t edgegate)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fetch URL FILE: 0 on success, 4 when the server answers 404, 1 otherwise.
fetch() {
  if command -v curl >/dev/null 2>&1; then
    status="$(curl -sSL --retry 3 --connect-timeout 20 -o "$2" -w '%{http_code}' "$1")" || {
      say "could not download $1"
      return 1
    }
    case "$status" in
      2??) return 0 ;;
      404) return 4 ;;
      *) say "could not download $1 (HTTP $status)"; return 1 ;;
    esac
  elif command -v wget >/dev/null 2>&1; then
    if wget -q -S -O "$2" "$1" 2>"$tmp/wget.log"; then
      return 0
    fi
    if grep -q 'HTTP/[0-9.]* 404' "$tmp/wget.log"; then
      return 4
    fi
    say "could not download $1"
    return 1
  else
    die 1 "neither curl nor wget is installed"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 "$1" | sed 's/^.*= *//'
  else
    die 1 "no sha256 tool (sha256sum, shasum or openssl) to verify the download"
  fi
}

say "downloading edgegate $version for $target"
rc=0
fetch "$url" "$tmp/$name.tar.gz" || rc=$?
if [ "$rc" -eq 4 ]; then
  die 4 "no prebuilt archive for edgegate $version on $target ($url: 404 Not Found); build from source instead (cargo install --locked --path .)"
elif [ "$rc" -ne 0 ]; then
  die 1 "download failed: $url"
fi
rc=0
fetch "$url.sha256" "$tmp/$name.tar.gz.sha256" || rc=$?
if [ "$rc" -eq 4 ]; then
  die 4 "no checksum for edgegate $version on $target ($url.sha256: 404 Not Found)"
elif [ "$rc" -ne 0 ]; then
  die 1 "download failed: $url.sha256"
fi

expected="$(cut -d' ' -f1 < "$tmp/$name.tar.gz.sha256" | tr 'A-F' 'a-f')"
case "$expected" in
  *[!0-9a-f]*|'') die 3 "the checksum file $url.sha256 is not a sha256sum line; nothing installed" ;;
esac
[ "${#expected}" -eq 64 ] || die 3 "the checksum file $url.sha256 is not a sha256sum line; nothing installed"
actual="$(sha256_of "$tmp/$name.tar.gz")"
if [ "$actual" != "$expected" ]; then
  die 3 "checksum mismatch for $name.tar.gz: expected sha256 $expected, got $actual; the download is corrupt or was tampered with; nothing installed"
fi
say "sha256 verified: $actual"

mkdir "$tmp/x"
tar -xzf "$tmp/$name.tar.gz" -C "$tmp/x" || die 1 "could not unpack $name.tar.gz"
bin="$tmp/x/$name/edgegate"
[ -f "$bin" ] || die 1 "$name.tar.gz has no $name/edgegate"

mkdir -p "$to" || die 1 "could not create $to"
# Copy next to the destination, then rename: a running edgegate is never half-overwritten.
cp "$bin" "$to/.edgegate.tmp.$$" || die 1 "could not write to $to"
chmod 755 "$to/.edgegate.tmp.$$"
mv -f "$to/.edgegate.tmp.$$" "$to/edgegate" || { rm -f "$to/.edgegate.tmp.$$"; die 1 "could not install $to/edgegate"; }

installed="$("$to/edgegate" --version)" || die 1 "$to/edgegate was installed but does not run on this machine"
say "installed $to/edgegate"
printf '%s\n' "$installed"
case ":${PATH:-}:" in
  *":$to:"*) ;;
  *) say "note: $to is not on PATH; add it (export PATH=\"$to:\$PATH\")" ;;
esac
