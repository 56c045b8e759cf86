//! Sizes and rates, spelled once.

/// Guest page size (x86-64 small pages), as QEMU's `page-size` reports it.
pub const PAGE_SIZE: u64 = 4096;
/// Bytes on the wire for a page header: QEMU's `save_page_header` writes an 8-byte offset+flags word.
pub const PAGE_HEADER_BYTES: u64 = 8;
/// Bytes on the wire for a zero page (`duplicate`): the header plus one fill byte.
pub const ZERO_PAGE_WIRE_BYTES: u64 = PAGE_HEADER_BYTES + 1;
/// Bytes on the wire for a normal page: the header plus the page.
pub const NORMAL_PAGE_WIRE_BYTES: u64 = PAGE_HEADER_BYTES + PAGE_SIZE;
/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;
/// One gibibyte.
pub const GIB: u64 = 1024 * MIB;
/// Granularity of QEMU's block-mirror dirty bitmap (the default qcow2 cluster size).
pub const MIRROR_CHUNK_BYTES: u64 = 64 * 1024;
/// libvirt's "unlimited" migration speed in MiB/s (`INT64_MAX / 2^20`), as `migrate-getspeed` prints it.
pub const LIBVIRT_UNLIMITED_MIBPS: u64 = 8_796_093_022_207;
