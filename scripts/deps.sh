#!/usr/bin/env bash
# Installs what redline's tests and demo need: redis-server and redis-tools (7.0.x) from
# Debian's packages, and tmux (the CLI's probe --watch test drives it in a real terminal).
# Idempotent: does nothing when all three are present; runs `apt-get update`
# only when the package lists don't know redis-server yet. The package's own service is not
# started (tests start their own servers on free loopback ports).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if have redis-server && have redis-cli && have tmux; then
  exit 0
fi

if ! have apt-get; then
  echo "deps: redis-server or tmux is missing and this is not a Debian-like system." >&2
  echo "deps: install redis-server (7.0 or newer) and tmux so that they are on PATH, then run again." >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "deps: redis-server or tmux is missing and installing it needs root." >&2
    echo "deps: run as root, or: sudo apt-get install -y redis-server redis-tools tmux" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show redis-server >/dev/null 2>&1 || ! apt-cache show tmux >/dev/null 2>&1; then
  echo "deps: apt-get update"
  $SUDO apt-get update -qq
fi

# Keep the package's init script from starting a system redis-server on :6379
# (policy-rc.d exit 101 = "action forbidden"), unless the machine already has a policy.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  made_policy=1
fi
cleanup() { if [ "$made_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT

echo "deps: apt-get install redis-server redis-tools tmux"
$SUDO apt-get install -y -qq --no-install-recommends redis-server redis-tools tmux >/dev/null

redis-server --version
tmux -V
