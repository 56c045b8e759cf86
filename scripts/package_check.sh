#!/usr/bin/env bash
# Install the Debian package as an administrator would (`apt-get install ./migralab_….deb`), use
# what it installed, and remove it again, leaving the machine's packages as they were: whatever
# the install pulled in is purged too. The test command runs it after scripts/package.sh.
# Needs root (or sudo), and Xvfb and a software renderer for the desktop entry (test.sh installs
# them). Usage: scripts/package_check.sh target/debian/migralab_VERSION_amd64.deb
set -euo pipefail

deb=${1:?usage: $0 PATH/TO/migralab_VERSION_amd64.deb}
case "$deb" in /*) ;; *) deb="./$deb" ;; esac # apt takes a file only by a path with a slash
sudo=()
if [ "$(id -u)" != 0 ]; then sudo=(sudo -E); fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt or dpkg run (a second engineer's, unattended upgrades) instead of failing.
apt_opts=(-y -qq -o DPkg::Lock::Timeout=300)

if dpkg -s migralab >/dev/null 2>&1; then
  echo "error: migralab is installed already: this check would remove it (apt-get remove --purge migralab)" >&2
  exit 1
fi

scratch=$(mktemp -d)
installed() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort; }
installed >"$scratch/before"
cleanup() {
  local status=$?
  installed >"$scratch/after"
  # migralab and anything its install pulled in (a dependency a lab PC had not had yet).
  mapfile -t added < <(comm -13 "$scratch/before" "$scratch/after")
  if ((${#added[@]})); then
    echo "==> removing ${added[*]}"
    "${sudo[@]}" apt-get "${apt_opts[@]}" remove --purge "${added[@]}" >/dev/null
  fi
  installed >"$scratch/after"
  if ! cmp -s "$scratch/before" "$scratch/after"; then
    echo "error: the machine's packages differ from before the install:" >&2
    diff "$scratch/before" "$scratch/after" >&2 || true
    status=1
  elif ((status == 0)); then
    echo "==> the machine's packages are as before the install"
  fi
  rm -rf "$scratch"
  exit "$status"
}
trap cleanup EXIT

"${sudo[@]}" apt-get "${apt_opts[@]}" install "$deb" >/dev/null
mapfile -t pulled < <(installed | comm -13 "$scratch/before" - | grep -vx migralab || true)
if ((${#pulled[@]})); then echo "==> the install pulled in ${pulled[*]}"; fi

fail() {
  echo "error: the installed package: $*" >&2
  exit 1
}
# The installed binary, not one from a checkout or ~/.cargo/bin.
export PATH=/usr/bin:/bin
version=$(migralab --version)
echo "$version"
[ "$(command -v migralab)" = /usr/bin/migralab ] || fail "migralab is not /usr/bin/migralab"
case "$version" in *"real mode built in"*) ;; *) fail "--version says no real mode: $version" ;; esac
(cd "$scratch" && migralab sim lesson >"$scratch/lesson.txt") || fail "migralab sim lesson failed"
grep -q "Result: completed" "$scratch/lesson.txt" || fail "migralab sim lesson did not complete"
for page in migralab migralab-sim migralab-labbox-up; do
  man -w "$page" >/dev/null || fail "no man page $page"
done
echo "man pages: $(man -w migralab)"
for f in /usr/share/bash-completion/completions/migralab /usr/share/zsh/vendor-completions/_migralab \
  /usr/share/fish/vendor_completions.d/migralab.fish /usr/share/icons/hicolor/scalable/apps/migralab.svg \
  /usr/share/icons/hicolor/48x48/apps/migralab.png; do
  [ -s "$f" ] || fail "no $f"
done
desktop=/usr/share/applications/migralab.desktop
desktop-file-validate "$desktop" || fail "desktop-file-validate $desktop"
appstreamcli validate --no-net /usr/share/metainfo/*migralab.metainfo.xml >/dev/null ||
  fail "appstreamcli validate: $(appstreamcli validate --no-net /usr/share/metainfo/*migralab.metainfo.xml)"

# The desktop entry opens the app: its Exec line as a menu would run it (no field codes to
# expand in ours), plus a screenshot of the first frames, on an Xvfb display.
exec_line=$(sed -n 's/^Exec=//p' "$desktop")
read -ra exec_argv <<<"$exec_line"
shot="$scratch/desktop-entry.png"
XDG_RUNTIME_DIR="$scratch" MIGRALAB_DATA_DIR="$scratch" timeout 120 \
  xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "${exec_argv[@]}" --screenshot "$shot" \
  >"$scratch/gui.log" 2>&1 || fail "the desktop entry's Exec ($exec_line) failed: $(tail -5 "$scratch/gui.log")"
[ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
  fail "the desktop entry's Exec ($exec_line) left no PNG screenshot"
echo "desktop entry: \`$exec_line\` opened the app ($(stat -c %s "$shot") bytes of screenshot)"

"${sudo[@]}" apt-get "${apt_opts[@]}" remove --purge migralab >/dev/null
[ ! -e /usr/bin/migralab ] || fail "/usr/bin/migralab is still there after the removal"
