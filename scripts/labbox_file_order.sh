#!/usr/bin/env bash
# In which order the lab guest's kernel hands its writer pages (see labbox_writer_files.py):
# on a running lab in a box (`migralab labbox up`), boot db01 with RAM MiB and a 16 MiB working
# set at each odd rate from 3 to 47 MiB/s (none divides the set's 64 blocks, so every write cycle
# moves what the data holds), dump its RAM three times, cycles apart, and print for each rate the
# pages that never changed: /ws/src, the first rate/4 MiB the kernel handed out.
# Usage: scripts/labbox_file_order.sh RAM_MIB > order.txt     (about ten minutes)
set -euo pipefail
ram=${1:?usage: labbox_file_order.sh RAM_MIB}
here="$(cd "$(dirname "$0")" && pwd)"
migralab=${MIGRALAB:-"$here/../target/release/migralab"}
shared=/run/migralab-labbox/images   # the lab's shared images directory, seen from the root
dir=$(mktemp -d)
trap 'rm -rf "$dir" "$shared/migralab-order.bin"' EXIT

dump() {
  # QEMU runs as its own user: give it a file it may write.
  : > "$shared/migralab-order.bin"
  chmod 666 "$shared/migralab-order.bin"
  "$migralab" labbox sh kvm-host-01 virsh qemu-monitor-command db01 --hmp \
    "pmemsave 0 $((ram << 20)) \"/var/lib/libvirt/images/migralab-order.bin\"" > /dev/null
  mv "$shared/migralab-order.bin" "$1"
}

echo "# rate MiB:pages ... (the writer pages unchanged in three dumps of a ${ram} MiB guest)"
for rate in $(seq 3 2 47); do
  "$migralab" labbox guest --ram "$ram" --working-set 16 --dirty-rate "$rate" > /dev/null
  sleep 3
  wait_s=$(python3 -c "print(16 / $rate + 2)")
  dump "$dir/a.bin"; sleep "$wait_s"; dump "$dir/b.bin"; sleep "$wait_s"; dump "$dir/c.bin"
  echo "$rate $(python3 "$here/labbox_writer_files.py" src "$dir/a.bin" "$dir/b.bin" "$dir/c.bin")"
done
