#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Node check, system packages (apt-get), npm dependencies.
# Safe to run again: it installs only what is missing and skips `npm ci` when node_modules matches the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

# Node ≥ 20
command -v node >/dev/null || die "Node.js is not installed. Install Node 20 or newer (https://nodejs.org/)."
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "Node $(node -v) is too old: framewire needs Node 20 or newer."

# System packages: command → Debian package.
declare -A needs=(
  [/usr/bin/chromium]=chromium
  [ffmpeg]=ffmpeg
  [ffprobe]=ffmpeg
  [/usr/sbin/mosquitto]=mosquitto
  [/usr/bin/mosquitto_passwd]=mosquitto
  [redis-server]=redis-server
  [turnserver]=coturn
  [janus]=janus
  # The HTTP origin of the live DASH/HLS tests: Debian's nginx is built with the WebDAV module (PUT/DELETE).
  [/usr/sbin/nginx]=nginx
  # Streaming sites (`ytdl:` sources resolve their media URL with it; the bridge says to install it when missing).
  [yt-dlp]=yt-dlp
)
missing=()
for cmd in "${!needs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needs[$cmd]}")
done
# nginx's njs module (the Recorder upload handler of docs/guides/origin.md): a file, not a command.
[ -f /usr/lib/nginx/modules/ngx_http_js_module.so ] || missing+=(libnginx-mod-http-js)
# Python modules of the system interpreter (the NetGear peers and the shared-memory reader of the bridge tests):
# module → Debian package.
declare -A python_needs=(
  [zmq]=python3-zmq
  [numpy]=python3-numpy
  [cv2]=python3-opencv
  [msgpack]=python3-msgpack
)
for module in "${!python_needs[@]}"; do
  /usr/bin/python3 -c "import $module" >/dev/null 2>&1 || missing+=("${python_needs[$module]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  say "installing system packages: $pkgs"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! command -v apt-get >/dev/null; then
    die "Missing: $pkgs. This machine has no apt-get: install them with your package manager, then run again."
  fi
  if [ -n "$sudo" ] && ! command -v sudo >/dev/null; then
    die "Missing: $pkgs. Run as root, or install them: apt-get install -y $pkgs"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || die "apt-get update failed (no network to the Debian mirrors?). Install by hand: $pkgs"
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $pkgs >/dev/null ||
    die "apt-get install failed. Install by hand: apt-get install -y $pkgs"
fi

# npm dependencies, exactly as locked. Skipped when the installed tree already matches the lockfile.
stamp=node_modules/.framewire-lock-hash
hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$hash" >"$stamp"
fi
say "ready"
