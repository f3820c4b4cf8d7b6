#!/usr/bin/env bash
# Make sure the two Syncthing versions the test-suite runs against are installed.
#
#   1.19.2  Debian bookworm's package, installed system-wide as /usr/bin/syncthing.
#   1.29.5  Debian trixie's package, downloaded with apt-get (temporary sources list, nothing
#           added to the system's apt configuration) and unpacked into
#           <repo>/.cache/syncthing-1.29.5/ (binary: usr/bin/syncthing).
#
# Idempotent: a binary that is already there is only verified. Needs root (or sudo) for the
# system package. Prints one line per binary; apt's output is shown only when a step fails.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OLD_VERSION="1.19.2"
OLD_BIN="/usr/bin/syncthing"
NEW_VERSION="1.29.5"
NEW_DIR="$REPO_ROOT/.cache/syncthing-$NEW_VERSION"
NEW_BIN="$NEW_DIR/usr/bin/syncthing"
TRIXIE_LINE="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main"

T="$(mktemp -d "${TMPDIR:-/tmp}/install-syncthing.XXXXXX")"
trap 'rm -rf "$T"' EXIT
LOG="$T/log"

die() {
    echo "install-syncthing: ERROR: $*" >&2
    if [ -s "$LOG" ]; then
        echo "install-syncthing: --- last output ---" >&2
        tail -n 40 "$LOG" >&2
    fi
    exit 1
}

# Run a command quietly; its output goes to $LOG and is shown only on failure.
quiet() {
    "$@" >>"$LOG" 2>&1 || die "command failed: $*"
}

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install packages"
    SUDO=(sudo)
fi

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        quiet "${SUDO[@]}" apt-get update -qq
        APT_UPDATED=1
    fi
}

# verify BINARY VERSION: `BINARY --version` must report vVERSION (distro suffixes such as -ds1 ok).
verify() {
    local bin="$1" want="$2" out
    [ -x "$bin" ] || die "$bin is missing or not executable"
    out="$("$bin" --version 2>&1)" || die "$bin --version failed: $out"
    if ! grep -Eq "^syncthing v${want//./\\.}([^0-9.]|\$)" <<<"$out"; then
        die "$bin reports '$out', expected v$want"
    fi
    echo "syncthing $want: $bin (${out%% \"*})"
}

# (a) 1.19.2 from bookworm.
if [ ! -x "$OLD_BIN" ]; then
    apt_update_once
    quiet "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq syncthing
fi
verify "$OLD_BIN" "$OLD_VERSION"

# (b) 1.29.5 from trixie, unpacked into the repo's .cache.
if [ ! -x "$NEW_BIN" ]; then
    keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
    if [ ! -s "$keyring" ]; then
        apt_update_once
        quiet "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq debian-archive-keyring
    fi
    command -v dpkg >/dev/null 2>&1 || die "dpkg not found"
    mkdir -p "$T/lists/partial" "$T/cache/archives/partial" "$T/deb"
    chmod 0755 "$T"
    echo "$TRIXIE_LINE" >"$T/sources.list"
    apt_opts=(
        -o "Dir::Etc::SourceList=$T/sources.list"
        -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::State::Lists=$T/lists"
        -o "Dir::Cache=$T/cache"
        -o "APT::Sandbox::User=$(id -un)"
    )
    quiet apt-get -qq "${apt_opts[@]}" update
    (cd "$T/deb" && apt-get -qq "${apt_opts[@]}" download syncthing) >>"$LOG" 2>&1 ||
        die "apt-get download syncthing (trixie) failed"
    debs=("$T"/deb/syncthing_*.deb)
    [ -f "${debs[0]}" ] || die "no syncthing .deb was downloaded"
    quiet dpkg -x "${debs[0]}" "$T/extract"
    [ -x "$T/extract/usr/bin/syncthing" ] || die "the trixie package has no usr/bin/syncthing"
    verify "$T/extract/usr/bin/syncthing" "$NEW_VERSION" >/dev/null
    mkdir -p "$(dirname "$NEW_DIR")"
    rm -rf "$NEW_DIR"
    mv "$T/extract" "$NEW_DIR"
fi
verify "$NEW_BIN" "$NEW_VERSION"
