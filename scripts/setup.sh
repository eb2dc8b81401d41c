#!/usr/bin/env bash
# Sets up everything the studio needs, once; later runs only check and return quickly.
#   scripts/setup.sh          runtime: system packages, .venv, requirements.txt
#   scripts/setup.sh --dev    the same plus what the tests need (pytest, Playwright, Chromium, mlx where it runs)
# On Debian/Ubuntu it installs missing system packages with apt-get when it may (root or sudo
# without a password); elsewhere it prints the exact command to run and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

say() { printf 'setup: %s\n' "$*" >&2; }

# ---- 1. system packages -------------------------------------------------------------------
need_apt=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib libfluidsynth.so || need_apt+=(fluidsynth libfluidsynth3)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need_apt+=(fluid-soundfont-gm)
if [ "$DEV" = 1 ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  need_apt+=(chromium)
fi

case "$(uname -s)" in
  Darwin)
    if ! (command -v fluidsynth >/dev/null 2>&1 || [ -d /opt/homebrew/opt/fluid-synth ] || [ -d /usr/local/opt/fluid-synth ]); then
      say "FluidSynth is missing. Install Homebrew (https://brew.sh), then run: brew install fluid-synth"
      [ "$DEV" = 1 ] && say "For the browser test also run: brew install --cask chromium (and set CHROMIUM=/Applications/Chromium.app/Contents/MacOS/Chromium)"
      exit 1
    fi
    need_apt=()
    ;;
esac

if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
      if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
        say "missing system packages: ${need_apt[*]}"
        say "run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${need_apt[*]}"
        exit 1
      fi
    fi
    say "installing system packages: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    say "missing system packages: ${need_apt[*]} (install FluidSynth 2.x, a General MIDI soundfont and, for tests, Chromium with your package manager)"
    exit 1
  fi
fi

# ---- 2. virtual environment ---------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { say "Python 3.10 or newer is needed (found $("$PYTHON" --version 2>&1))"; exit 1; }
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# ---- 3. Python packages (skipped when the requirement files have not changed) -------------
files=(requirements.txt requirements/*.txt)
stamp="$VENV/.installed-$(cat "${files[@]}" | sha256sum | cut -c1-16)-$DEV"
if [ ! -f "$stamp" ]; then
  say "installing Python packages (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  args=(-r requirements.txt)
  [ "$DEV" = 1 ] && args+=(-r requirements/dev.txt -r requirements/mlx.txt)
  "$VENV/bin/python" -m pip install -q "${args[@]}"
  for nodeps in requirements/*-nodeps.txt; do
    [ -f "$nodeps" ] && "$VENV/bin/python" -m pip install -q --no-deps -r "$nodeps"
  done
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
say "ready"
