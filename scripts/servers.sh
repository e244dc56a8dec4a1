#!/usr/bin/env bash
# Fetches the other servers redline is tested against, without installing anything over the
# system's redis-server (7.0 from Debian's bookworm, see deps.sh):
#
#   redis-6.0.16   Debian bullseye's redis-server (needs bullseye's libssl1.1 and bookworm's lua
#                  libraries, which are extracted beside it)
#   valkey-8.0.1   Debian bookworm-backports' valkey-server
#
# Each is extracted from Debian's own packages (apt-get download + dpkg-deb -x) into
# $REDLINE_SERVERS (default: .cache/servers in the repository), with a private apt state there
# too: no root needed and the machine's apt sources are left alone. Each server gets a
# launcher, <dir>/bin/<name>-server, that runs it with its libraries. Idempotent: a server
# whose launcher answers --version is not fetched again. Prints what it fetched and where.
#
# Usage: scripts/servers.sh [redis-6.0|valkey-8.0 ...]   (default: both)
#        scripts/servers.sh --path NAME                  (prints the launcher's path, fetching it if needed)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${REDLINE_SERVERS:-$root/.cache/servers}"
mirror="${REDLINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

want_path=""
if [ "${1:-}" = "--path" ]; then
  want_path="${2:?--path needs a server name}"
  set -- "$want_path"
fi
[ $# -gt 0 ] || set -- redis-6.0 valkey-8.0

log() { if [ -z "$want_path" ]; then echo "servers: $*"; else echo "servers: $*" >&2; fi; }

# server table: name -> directory, launcher name, the binary in the packages, packages (name=version)
spec() {
  case "$1" in
    redis-6.0)
      dir=redis-6.0.16; launcher=redis-server; binary=redis-check-rdb
      pkgs="redis-tools=5:6.0.16-1+deb11u2 libssl1.1 liblua5.1-0 lua-bitop lua-cjson liblzf1 libjemalloc2" ;;
    valkey-8.0)
      dir=valkey-8.0.1; launcher=valkey-server; binary=valkey-check-rdb
      pkgs="valkey-tools=8.0.1+dfsg1-1~bpo12+1 liblzf1 libjemalloc2" ;;
    *) echo "servers: unknown server $1 (known: redis-6.0, valkey-8.0)" >&2; exit 2 ;;
  esac
}

aptdir="$dest/.apt"
apt_opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
  -o "Dir::State::status=$aptdir/status" -o "APT::Sandbox::User=$(id -un)" -qq)
updated=0
apt_update() {
  [ "$updated" = 1 ] && return
  command -v apt-get >/dev/null || { echo "servers: apt-get is needed to fetch Debian's packages" >&2; exit 1; }
  mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
  : > "$aptdir/status"
  cat > "$aptdir/sources.list" <<SRC
deb $mirror bullseye main
deb $mirror bookworm main
deb $mirror bookworm-backports main
SRC
  log "apt-get update (private lists in $aptdir: bullseye, bookworm, bookworm-backports)"
  apt-get "${apt_opts[@]}" update >/dev/null
  updated=1
}

fetch() {
  spec "$1"
  local out="$dest/$dir" run="$dest/$dir/bin/$launcher"
  if [ -x "$run" ] && "$run" --version >/dev/null 2>&1; then
    log "$1: have $("$run" --version | cut -d' ' -f1-3) at $run"
    return
  fi
  apt_update
  local tmp; tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && apt-get "${apt_opts[@]}" download $pkgs >/dev/null)
  rm -rf "$out"; mkdir -p "$out/bin"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$out/root"; done
  # The server is the check-rdb binary run under a name without "check" in it (as Debian's
  # redis-server symlink does); the launcher adds the extracted libraries to the search path.
  ln -sf "../root/usr/bin/$binary" "$out/bin/$launcher-bin"
  cat > "$run" <<RUN
#!/bin/sh
# $dir, extracted from Debian's packages by scripts/servers.sh: $pkgs
d=\$(dirname "\$(readlink -f "\$0")")
lib="\$d/../root/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="\$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LUA_CPATH="\$lib/lua/5.1/?.so;;" # scripting's cjson and bit modules
exec "\$d/$launcher-bin" "\$@"
RUN
  chmod +x "$run"
  if ! "$run" --version >/dev/null 2>&1; then
    echo "servers: $1 was extracted to $out but does not run:" >&2
    "$run" --version >&2 || true
    exit 1
  fi
  log "$1: fetched $("$run" --version | cut -d' ' -f1-3) from $(echo "$pkgs" | wc -w) Debian packages into $out; run it as $run"
}

for s in "$@"; do fetch "$s"; done
if [ -n "$want_path" ]; then spec "$want_path"; echo "$dest/$dir/bin/$launcher"; fi
