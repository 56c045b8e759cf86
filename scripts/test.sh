#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, checks formatting and
# lints, then runs every test of the workspace. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Where the time goes, stage by stage (CI must stay under 10 minutes on 2 cores).
timings=()
stage_start=$SECONDS
stage() {
  local now=$SECONDS
  if [ -n "${stage_name:-}" ]; then timings+=("$(printf '%5d s  %s' $((now - stage_start)) "$stage_name")"); fi
  stage_name=$1
  stage_start=$now
  echo "==> $1"
}
stage "system packages"

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
# The Debian package's check: its man pages, desktop entry and AppStream metadata, validated.
APT_PACKAGES+=(man-db desktop-file-utils appstream)

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

stage "cargo fmt --check"
cargo fmt --all --check
stage "portability: the app pulls no Linux-only crate on Windows or macOS"
# What depends directly on virt (libvirt) and nix, for a student's Windows or macOS build: only
# rustyline may (its own Unix terminal code); real mode and the lab in a box stay Linux-only.
for target in x86_64-pc-windows-msvc aarch64-apple-darwin; do
  users=$(for crate in virt nix; do
    cargo tree --locked --target "$target" -p migralab_app --features real -e normal -i "$crate" \
      --depth 1 --prefix none 2>/dev/null | sed 1d
  done | grep -v '^rustyline ' || true)
  if [ -n "$users" ]; then
    echo "error: on $target these pull virt or nix: $users" >&2
    exit 1
  fi
done
# Clippy lints while the tests are built: clippy-driver compiles the workspace's own crates
# (dependencies go through plain rustc), so one build serves both. `cargo clippy` would first
# build every dependency a second time in check mode, which was a third of CI's time.
RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver"
[ -x "$RUSTC_WORKSPACE_WRAPPER" ] || { echo "error: no clippy-driver at $RUSTC_WORKSPACE_WRAPPER (rustup component add clippy)" >&2; exit 2; }
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" # cargo clippy -- -D warnings
stage "build every target, linted (cargo clippy --all-targets -- -D warnings)"
cargo test --workspace --all-targets --locked --features "$FEATURES" --no-run
stage "cargo test (and, beside it, the default build linted)"
# The default build (no libvirt: what `cargo run` gives a newcomer) is linted beside the tests,
# niced: most of their time is the lab in a box's QEMU and the network, and it took 41 s alone.
# The libraries only: main.rs has no code of its own to lint, and linking it is the cost. It
# starts once `cargo test` has checked its build and let go of the target directory's lock.
lint_log=$(mktemp)
(sleep 10 && nice -n 10 cargo build --profile test --locked -p migralab_app -p migralab_fidelity \
  -p migralab_real --lib) >"$lint_log" 2>&1 &
lint_pid=$!
# cargo-deb (for the Debian package stage) is built beside the tests when this machine lacks it:
# most of their time is the lab in a box's QEMU and the network, and it took 88 s alone. Niced,
# so the tests come first; built as itself, not through the clippy wrapper set above.
deb_tool_log=$(mktemp)
deb_tool_pid=
if ! command -v cargo-deb >/dev/null; then
  env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS nice -n 10 cargo install --locked --quiet cargo-deb \
    >"$deb_tool_log" 2>&1 &
  deb_tool_pid=$!
fi
# wgpu and winit want a runtime directory; a fresh root shell may not have one.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
log=$(mktemp)
# A failed test stops the script: the cargo-deb build beside it goes too.
trap 'rm -f "$log" "$deb_tool_log" "$lint_log"; for p in "$deb_tool_pid" "$lint_pid"; do if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi; done' EXIT
cargo test --workspace --locked --features "$FEATURES" 2>&1 | tee "$log"
# One closing line for the whole workspace (cargo prints one per test binary, the last of which
# is often an empty doc-test run).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     END { printf "workspace: %d passed, %d failed\n", p, f }' "$log" >"$log.total"
stage "the default build's lint, if the tests were quicker"
if ! wait "$lint_pid"; then
  cat "$lint_log" >&2
  echo "error: the default build (no real mode) does not pass the lints" >&2
  exit 1
fi
lint_pid=
stage "the benchmarks, each run once as a test (they check the runs the docs measured)"
# Without `--bench`, divan runs every benchmark once, as a test; the binaries were built above.
# By name, not `--benches`: that would run every library's unit tests a second time.
cargo test --workspace --locked --features "$FEATURES" --bench frame --bench precopy
stage "cargo-deb, from crates.io when missing (built beside the tests)"
if [ -n "$deb_tool_pid" ] && ! wait "$deb_tool_pid"; then
  cat "$deb_tool_log" >&2
  echo "error: cargo install cargo-deb failed" >&2
  exit 1
fi
deb_tool_pid=
stage "the Debian package: pack the tests' binary, install it, use it, remove it"
# package.sh compiles nothing: it packs target/debug/migralab as the test build above left it
# (real mode built in) with the man pages and completions that binary writes.
deb=$(bash scripts/package.sh | tail -n 1)
bash scripts/package_check.sh "$deb"
stage ""
echo "==> where the time went"
printf '%s\n' "${timings[@]}"
cat "$log.total"
rm -f "$log.total"
