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
# Real mode and the lab in a box: libvirt 11 and QEMU 10 from bookworm-backports (the machine's
# qemu-utils already comes from there, so bookworm's own QEMU 7.2 would conflict), the
# libvirt-dev headers the `virt` crate links against, and what the lab's hosts and guest need.
BACKPORTS_PACKAGES=(qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-driver-storage
  libvirt-daemon-driver-interface libvirt-clients libvirt-dev qemu-utils)
APT_PACKAGES+=(pkg-config openssh-server openssh-client busybox-static cpio iputils-ping nftables gzip)

sudo=()
if [ "$(id -u)" != 0 ]; then sudo=(sudo -E); fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
missing_bpo=()
for p in "${BACKPORTS_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing_bpo+=("$p"); done
if ((${#missing[@]} + ${#missing_bpo[@]})); then
  if ((${#missing_bpo[@]})) && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "==> adding the bookworm-backports suite to apt's sources"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      "${sudo[@]}" tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  fi
  echo "==> installing ${missing[*]} ${missing_bpo[*]}"
  "${sudo[@]}" apt-get update -qq
  if ((${#missing[@]})); then "${sudo[@]}" apt-get install -y -qq "${missing[@]}"; fi
  if ((${#missing_bpo[@]})); then "${sudo[@]}" apt-get install -y -qq -t bookworm-backports "${missing_bpo[@]}"; fi
fi

for tool in cargo rustfmt cargo-clippy; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed (rustup component add ${tool#cargo-})" >&2; exit 2; }
done

# Real mode is built and tested here; `cargo run` (the README's app command) builds without it.
FEATURES="migralab_app/real"

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked --features "$FEATURES" -- -D warnings
# ... and the default build (no libvirt), which is what `cargo run` gives a newcomer.
cargo clippy -p migralab_app -p migralab_fidelity -p migralab_real --all-targets --locked -- -D warnings
echo "==> cargo test"
# wgpu and winit want a runtime directory; a fresh root shell may not have one.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked --features "$FEATURES" 2>&1 | tee "$log"
# One closing line for the whole workspace (cargo prints one per test binary, the last of which
# is often an empty doc-test run).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     END { printf "workspace: %d passed, %d failed\n", p, f }' "$log"
