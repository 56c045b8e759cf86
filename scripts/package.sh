#!/usr/bin/env bash
# The Debian package: target/debian/migralab_<version>_amd64.deb, from the binary the tests were
# built with (the test profile, real mode built in), never a second compile. Run it after the
# test command's build (scripts/test.sh does); alone, it builds that binary first if it is
# missing or older than the sources. What goes in: app/Cargo.toml's [package.metadata.deb]. Install the result with
# `apt install ./target/debian/migralab_*.deb` (docs/src/instructor/install.md).
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=${CARGO_TARGET_DIR:-target}
bin="$target_dir/debug/migralab"

if ! command -v cargo-deb >/dev/null; then
  echo "==> installing cargo-deb from crates.io (once per machine)"
  # Built as itself: not through a clippy wrapper that test.sh may have set for this workspace.
  env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS cargo install --locked cargo-deb
fi

# After the test command's build nothing here is newer than the binary, and nothing is compiled.
# Alone, after an edit (or with no binary yet), it is built as the tests build it: the test
# profile, real mode.
stale=
if [ -x "$bin" ]; then
  stale=$(find Cargo.lock Cargo.toml app sim-core real-backend assets scenarios \
    \( -path app/packaging -o -name tests -o -name benches \) -prune -o \
    -type f -newer "$bin" -print -quit)
fi
if [ ! -x "$bin" ] || [ -n "$stale" ]; then
  if [ -n "$stale" ]; then why="$stale is newer than $bin"; else why="no $bin yet"; fi
  echo "==> $why: building it (test profile, real mode)"
  cargo build --profile test --locked -p migralab_app --features real --bin migralab
fi
version_line=$("$bin" --version)
case "$version_line" in
  *"real mode built in"*) ;;
  *)
    echo "error: $bin was built without real mode ($version_line); build it with --features migralab_app/real" >&2
    exit 1
    ;;
esac

# The man pages and completions, written by the binary itself into the staging folder that
# app/Cargo.toml's assets name (target/release/debian-assets/, read as target/debug/ below).
assets="$target_dir/debug/debian-assets"
rm -rf "$assets"
"$bin" generate man "$assets/man" >/dev/null
gzip -9n "$assets"/man/*.1 # Debian's policy: man pages compressed, without a timestamp
for shell in bash zsh fish; do
  "$bin" generate completions "$shell" "$assets/completions" >/dev/null
done

# --no-build: package the binary above as it is. --profile dev: the assets' target/release/
# paths mean target/debug/, where the test profile's binary is too. --fast: xz's quick preset
# (CI's time).
cargo deb --package migralab_app --no-build --profile dev --locked --fast --quiet \
  --output "$target_dir/debian/"
