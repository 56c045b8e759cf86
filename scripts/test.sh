#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, checks formatting and
# lints, then runs every test of the workspace. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests need (apt on Debian, as CI's machine is). The desktop app's tests
# render on the CPU: lavapipe (Vulkan, from mesa-vulkan-drivers) for egui_kittest's snapshots,
# and an Xvfb display for the smoke test that starts the real binary. The real-mode prober's
# tests build network namespaces with iproute2 (they need root, as CI has).
APT_PACKAGES=(xvfb xauth mesa-vulkan-drivers libvulkan1 iproute2)
if ((${#APT_PACKAGES[@]})); then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "==> installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    sudo=()
    if [ "$(id -u)" != 0 ]; then sudo=(sudo -E); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq "${missing[@]}"
  fi
fi

for tool in cargo rustfmt cargo-clippy; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed (rustup component add ${tool#cargo-})" >&2; exit 2; }
done

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
# wgpu and winit want a runtime directory; a fresh root shell may not have one.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole workspace (cargo prints one per test binary, the last of which
# is often an empty doc-test run).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     END { printf "workspace: %d passed, %d failed\n", p, f }' "$log"
