#!/usr/bin/env python3
"""Where the lab guest's writer keeps its files, and in which order the kernel gave it the pages.

The guest's workload (real-backend/src/labbox/guest.rs) fills /ws/src with rate/4 MiB of random
bytes, then copies that buffer over /ws/data (the working set) again and again. So in a raw dump
of the guest's RAM (QEMU's `pmemsave`) the files are the pages of random bytes that occur more
than once. /ws/src is written first and never again: a dump taken a few write cycles later shows
its pages unchanged while the data's move (at rates that do not divide the set, every cycle
shifts what each block holds). Booting the guest at rates 3, 5, 7 ... MiB/s makes /ws/src 0.75,
1.25, 1.75 ... MiB: each is the first pages the kernel handed out, so the steps between them
give the order of allocation, half a MiB at a time. The fidelity replay uses that order for
the working set (see docs/src/model/fidelity-notebook.md, "Where the writer's files lie").

  labbox_writer_files.py map DUMP              the dump's maps (data and writer pages per MiB)
  labbox_writer_files.py src DUMP DUMP...      the writer pages unchanged in every dump
  labbox_writer_files.py build ORDER RAM WS RATE DUMP
                                               one line of labbox-writer-maps.jsonl: the map of
                                               DUMP with the files in allocation order, from
                                               ORDER (lines "RATE MiB:pages ..." of `src`)

scripts/labbox_file_order.sh runs the experiments on a running lab in a box.
"""
import collections
import hashlib
import json
import os
import sys

PAGE = 4096
PAGES_PER_MIB = 256
RANDOM_FROM = 200  # distinct byte values: random data, not the kernel's
EMPTY_BELOW = 8  # a MiB with fewer data pages counts as empty when finding the top block


def pages(dump):
    with open(dump, 'rb') as f:
        data = f.read()
    return [data[i:i + PAGE] for i in range(0, len(data), PAGE)]


def writer_pages(pgs):
    """Indices of the pages of random bytes that occur more than once."""
    digest = {}
    count = collections.Counter()
    for i, p in enumerate(pgs):
        if len(set(p)) >= RANDOM_FROM:
            h = hashlib.blake2b(p, digest_size=16).digest()
            digest[i] = h
            count[h] += 1
    return {i for i, h in digest.items() if count[h] >= 2}, digest


def per_mib(indices, mibs):
    v = [0] * mibs
    for i in indices:
        v[i // PAGES_PER_MIB] += 1
    return v


def rle(v):
    out, i = [], 0
    while i < len(v):
        j = i
        while j < len(v) and v[j] == v[i]:
            j += 1
        out.append(str(v[i]) if j - i == 1 else '%d*%d' % (v[i], j - i))
        i = j
    return ' '.join(out)


def runs(counts):
    return ' '.join('%d:%d' % (m, n) for m, n in counts if n > 0)


def memory_map(pgs):
    zero = bytes(PAGE)
    mibs = len(pgs) // PAGES_PER_MIB
    data = per_mib([i for i, p in enumerate(pgs) if p != zero], mibs)
    # The top block: what lies above the largest run of (nearly) empty MiBs.
    best, start = (0, 0), None
    for i, n in enumerate(data + [1 << 30]):
        if n < EMPTY_BELOW and start is None:
            start = i
        elif n >= EMPTY_BELOW and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    top = sum(data[best[1]:]) / PAGES_PER_MIB if best[1] > best[0] else 0.0
    return data, top


def cmd_map(dump):
    pgs = pages(dump)
    data, top = memory_map(pgs)
    writer, _ = writer_pages(pgs)
    w = per_mib(writer, len(data))
    print('data MiB %.2f, top %.2f, writer MiB %.2f' % (sum(data) / 256, top, len(writer) / 256))
    print('data  ', rle(data))
    print('writer', runs(enumerate(w)))


def cmd_src(dumps):
    first = pages(dumps[0])
    writer, digest = writer_pages(first)
    later = [pages(d) for d in dumps[1:]]
    same = [i for i in sorted(writer)
            if all(hashlib.blake2b(p[i], digest_size=16).digest() == digest[i] for p in later)]
    print(runs(enumerate(per_mib(same, len(first) // PAGES_PER_MIB))))


def cmd_build(order_file, ram, ws, rate, dump):
    pgs = pages(dump)
    data, top = memory_map(pgs)
    writer, _ = writer_pages(pgs)
    have = per_mib(writer, len(data))
    steps = []
    with open(order_file) as f:
        for line in f:
            line = line.split('#')[0].split()
            if line:
                steps.append((float(line[0]), [tuple(map(int, r.split(':'))) for r in line[1:]]))
    steps.sort()
    # /ws/src only grows with the rate, so a MiB's count at one rate is at most its count at
    # every higher rate: a count above a later one is noise (dd's buffer, freed with a copy of
    # the data, now and then unchanged too), and the later minimum is kept.
    counts = [collections.Counter(dict(src)) for _, src in steps]
    for k in range(len(counts) - 2, -1, -1):
        for m in list(counts[k]):
            counts[k][m] = min(counts[k][m], counts[k + 1][m])
    # Each step's new pages, per MiB, never more than this guest's dump holds there (the
    # experiments' boots differ by a few pages).
    taken = [0] * len(data)
    order = []
    for now in counts:
        for m in sorted(now):
            if m >= len(data):
                continue
            new = min(now[m], have[m]) - taken[m]
            if new > 0:
                order.append((m, new))
                taken[m] += new
    # Then the rest of the files, in address order (the holes' remains, then fresh memory).
    order += [(m, have[m] - taken[m]) for m in range(len(data)) if have[m] > taken[m]]
    line = {
        'ram_mib': ram, 'working_set_mib': ws, 'dirty_rate_mibps': rate,
        'dumped_unix_s': int(os.stat(dump).st_mtime),
        'guest_memory': {
            'nonzero_mib': sum(data) / PAGES_PER_MIB, 'top_mib': top,
            'data_pages_per_mib': rle(data), 'writer_files': runs(order),
        },
    }
    print(json.dumps(line, separators=(',', ':')))


def main(argv):
    if len(argv) >= 2 and argv[0] == 'map':
        cmd_map(argv[1])
    elif len(argv) >= 2 and argv[0] == 'src':
        cmd_src(argv[1:])
    elif len(argv) == 6 and argv[0] == 'build':
        cmd_build(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), argv[5])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
