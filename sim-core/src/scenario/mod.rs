//! Scenario files: what a lab looks like and which migrations to run in it.
//!
//! Scenarios are TOML, written by instructors by hand, so the schema denies unknown keys (a typo is
//! an error, not a silently ignored setting) and every impossible value is rejected with the file,
//! line and column. Parsing is pure: the caller reads the file.

mod load;
mod measured;
mod validate;
mod world;

pub use load::apply_override;
pub use measured::{MEASURED_KEYS, MeasuredSpec};
pub use world::{
    DiskCache, DomainType, EtcHosts, FirewallSpec, GuestCpuSpec, HostCpuSpec,
    QEMU_DROP_CACHE_SINCE, SecurityDriver, VmState, machine_types_of, parse_version, subnet_of,
};

use crate::guest::ram_layout::PAGES_PER_MIB;
use crate::text::Text;
use crate::units::{GIB, MIB, PAGE_SIZE};
use serde::{Deserialize, Serialize};

/// A whole lab: hosts, the link between them, storage, VMs, the migrations to run and the prober.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, e.g. `exp1-shared-storage`.
    pub name: String,
    /// Title shown to students.
    #[serde(default)]
    pub title: Text,
    /// What the scenario teaches.
    #[serde(default)]
    pub teaches: Text,
    /// Seed for every random choice in the run: the same seed gives the same trace, byte for byte.
    #[serde(default = "defaults::seed")]
    pub seed: u64,
    /// The hypervisor hosts.
    #[serde(rename = "host")]
    pub hosts: Vec<HostSpec>,
    /// The migration network between the hosts.
    pub link: LinkSpec,
    /// Where the VM disks live.
    pub storage: StorageSpec,
    /// The guests.
    #[serde(rename = "vm")]
    pub vms: Vec<VmSpec>,
    /// The migrations to run (`virsh migrate` commands), possibly several at once.
    #[serde(rename = "migration", default)]
    pub migrations: Vec<MigrationSpec>,
    /// The lab client that pings a VM during the run.
    #[serde(default)]
    pub prober: ProberSpec,
    /// Model constants and limits of the simulation itself.
    #[serde(default)]
    pub sim: SimSpec,
}

/// A hypervisor host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Hostname, e.g. `kvm-host-01`.
    pub name: String,
    /// Address on the lab network.
    #[serde(default)]
    pub ip: Option<String>,
    /// Host UUID as libvirt reports it (`virsh capabilities`). Cloned hosts share one, and libvirt
    /// then refuses to migrate between them. Derived from the name when not given.
    #[serde(default)]
    pub uuid: Option<String>,
    /// The host's CPU.
    #[serde(default)]
    pub cpu: HostCpuSpec,
    /// QEMU version (decides the machine types it can run).
    #[serde(default = "world::defaults::qemu_version")]
    pub qemu_version: String,
    /// libvirt version.
    #[serde(default = "world::defaults::libvirt_version")]
    pub libvirt_version: String,
    /// Machine types this QEMU accepts; derived from `qemu_version` when not given.
    #[serde(default)]
    pub machine_types: Option<Vec<String>>,
    /// Host RAM, MiB.
    #[serde(default = "world::defaults::host_memory_mib")]
    pub memory_mib: u64,
    /// Linux bridges present on the host.
    #[serde(default = "world::defaults::bridges")]
    pub bridges: Vec<String>,
    /// The IP network its bridges attach to; derived from `ip` (its /24) when not given.
    #[serde(default)]
    pub subnet: Option<String>,
    /// What its firewall lets in.
    #[serde(default)]
    pub firewall: FirewallSpec,
    /// Hosts whose root may log in here by key without a password (`authorized_keys`);
    /// every lab host when not given.
    #[serde(default)]
    pub ssh_trusts: Option<Vec<String>>,
    /// sshd also accepts passwords (stock OpenSSH). Only the wording of a refused login
    /// changes: `Permission denied (publickey,password).` or, without, `(publickey).`
    #[serde(default = "defaults::yes")]
    pub ssh_password_auth: bool,
    /// This host's `/etc/hosts` (name → address); every lab host's name and IP when not given.
    #[serde(default)]
    pub etc_hosts: Option<EtcHosts>,
    /// What `hostname` says on this host, when it is not `name` (e.g. a cloned machine still
    /// called `localhost.localdomain`). The destination of a native migration offers this name
    /// as the address its QEMU listens on.
    #[serde(default)]
    pub hostname: Option<String>,
    /// libvirt's security driver on this host (`apparmor` unless given).
    #[serde(default)]
    pub security_driver: SecurityDriver,
    /// The host has the certificates of `--tls` migration in `/etc/pki/qemu` (qemu.conf's
    /// `default_tls_x509_cert_dir`): `ca-cert.pem`, `server-cert.pem`, `server-key.pem`,
    /// `client-cert.pem`, `client-key.pem`. A stock host has none.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tls_certs: bool,
}

impl HostSpec {
    /// A healthy host with every default (what a `[[host]]` table with only `name` gives).
    pub fn named(name: &str) -> HostSpec {
        HostSpec {
            name: name.to_string(),
            ip: None,
            uuid: None,
            cpu: HostCpuSpec::default(),
            qemu_version: world::defaults::qemu_version(),
            libvirt_version: world::defaults::libvirt_version(),
            machine_types: None,
            memory_mib: world::defaults::host_memory_mib(),
            bridges: world::defaults::bridges(),
            subnet: None,
            firewall: FirewallSpec::default(),
            ssh_trusts: None,
            ssh_password_auth: true,
            etc_hosts: None,
            hostname: None,
            security_driver: SecurityDriver::default(),
            tls_certs: false,
        }
    }

    /// Machine types this host's QEMU accepts.
    pub fn machine_types(&self) -> Vec<String> {
        self.machine_types
            .clone()
            .unwrap_or_else(|| machine_types_of(&self.qemu_version))
    }

    /// The IP network its bridges are on.
    pub fn subnet(&self) -> String {
        self.subnet
            .clone()
            .or_else(|| self.ip.as_deref().and_then(subnet_of))
            .unwrap_or_else(|| "192.168.100.0/24".into())
    }

    /// The methods sshd offers, as a refused login lists them.
    pub fn ssh_auth_methods(&self) -> &'static str {
        if self.ssh_password_auth {
            "publickey,password"
        } else {
            "publickey"
        }
    }

    /// Does this host accept root's key from `other`?
    pub fn trusts(&self, other: &str) -> bool {
        self.ssh_trusts
            .as_ref()
            .is_none_or(|t| t.iter().any(|h| h == other))
    }

    /// The host UUID, given or derived from the hostname (stable across runs).
    pub fn host_uuid(&self) -> String {
        if let Some(u) = &self.uuid {
            return u.clone();
        }
        // FNV-1a over the name, twice with different offsets: deterministic, no RNG needed.
        let fnv = |offset: u64| {
            self.name.bytes().fold(offset, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        };
        let a = fnv(0xcbf2_9ce4_8422_2325);
        let b = fnv(0x8422_2325_cbf2_9ce4);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

/// The network that carries migration traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Payload rate of one TCP stream, MiB/s: about 112 on 1 GbE, about 1120 on 10 GbE.
    pub bandwidth_mibps: f64,
    /// Round-trip time between the hosts, ms.
    #[serde(default = "defaults::link_rtt_ms")]
    pub rtt_ms: f64,
}

impl LinkSpec {
    /// Payload rate in bytes per second.
    pub fn bytes_per_sec(&self) -> f64 {
        self.bandwidth_mibps * MIB as f64
    }
}

/// Kind of storage holding the VM disks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StorageKind {
    /// The same path is mounted from NFS/iSCSI on both hosts: only RAM has to move.
    Shared,
    /// Each host has its own disk: the image must be copied (`--copy-storage-all`).
    Local,
}

/// Where the VM disks live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// Shared or local.
    pub kind: StorageKind,
    /// Directory of the disk images, the same on every host.
    #[serde(default = "defaults::storage_path")]
    pub path: String,
    /// Hosts that have the shared storage mounted at `path` (every host when not given).
    #[serde(default)]
    pub mounted_on: Option<Vec<String>>,
}

impl StorageSpec {
    /// Does `host` see the shared images at `path`?
    pub fn visible_on(&self, host: &str) -> bool {
        self.kind == StorageKind::Shared
            && self
                .mounted_on
                .as_ref()
                .is_none_or(|m| m.iter().any(|h| h == host))
    }
}

/// A guest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmSpec {
    /// Domain name, e.g. `db01`.
    pub name: String,
    /// Host it runs on at the start.
    pub host: String,
    /// Guest RAM, MiB.
    pub ram_mib: u64,
    /// Virtual CPUs.
    #[serde(default = "defaults::vcpus")]
    pub vcpus: u32,
    /// Size of the disk image, GiB (0: no disk).
    #[serde(default)]
    pub disk_gib: f64,
    /// Guest IP address (what the prober pings).
    #[serde(default)]
    pub ip: Option<String>,
    /// What the guest has written to its RAM, MiB (its kernel, programs, files, caches): the
    /// data pages a migration sends in full. The kernel's page descriptors (`struct page`, 64
    /// bytes for each 4 KiB page: 1/64 of RAM) come on top, so a bigger RAM adds only those;
    /// everything else was never written and goes as zero pages. At most `ram_mib` minus the
    /// descriptors. Give this or `zero_fraction`, not both; with neither, every page of RAM
    /// holds data (a guest whose page cache has filled its memory: the most a migration sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_mib: Option<f64>,
    /// The alternative to `written_mib`: the share of RAM never written (all zeros), 0..=1,
    /// page descriptors included. A share stays a share when `ram_mib` changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zero_fraction: Option<f64>,
    /// How the guest writes to its memory.
    #[serde(default)]
    pub workload: WorkloadSpec,
    /// The knobs that reproduce the lab in a box's measured guest (`[vm.measured]`), written by
    /// the fidelity harness only; a plain guest without.
    #[serde(default, skip_serializing_if = "MeasuredSpec::is_default")]
    pub measured: MeasuredSpec,
    /// How fast the guest writes to its disk, MiB/s (matters only when the disk is copied).
    #[serde(default)]
    pub disk_write_mibps: f64,
    /// The disk's cache mode (`<driver cache=...>`); `none` unless given.
    #[serde(default, skip_serializing_if = "DiskCache::is_none")]
    pub disk_cache: DiskCache,
    /// An ISO image in a CD-ROM drive (`<disk device='cdrom'>`, read-only, target `sda`), by
    /// its path on the VM's host; `""` is a drive without media. No drive when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdrom: Option<String>,
    /// CPU mode of the guest.
    #[serde(default)]
    pub cpu: GuestCpuSpec,
    /// Machine type, e.g. `pc-q35-7.2`.
    #[serde(default = "world::defaults::machine")]
    pub machine: String,
    /// `<domain type=...>`: `kvm` (hardware virtualisation) or `qemu` (TCG emulation, as the
    /// lab in a box runs). A TCG guest's CPU is only checked when QEMU starts on the destination.
    #[serde(default)]
    pub domain_type: DomainType,
    /// Bridge its NIC is attached to.
    #[serde(default = "world::defaults::bridge")]
    pub bridge: String,
    /// The libvirt virtual network its NIC is on instead (`<interface type='network'>`), e.g.
    /// `default`: libvirt's NAT network behind the bridge `virbr0` (give `bridge = "virbr0"`),
    /// a private 192.168.122.0/24 on each host. Only the host the VM runs on reaches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Running or shut off at the start.
    #[serde(default)]
    pub state: VmState,
    /// Defined persistently on its host (`virsh define`) rather than transient (`virsh create`).
    #[serde(default = "defaults::yes")]
    pub persistent: bool,
}

impl VmSpec {
    /// An idle, running guest with every default (what a `[[vm]]` table with only these keys gives).
    pub fn new(name: &str, host: &str, ram_mib: u64) -> VmSpec {
        VmSpec {
            name: name.to_string(),
            host: host.to_string(),
            ram_mib,
            vcpus: defaults::vcpus(),
            disk_gib: 0.0,
            ip: None,
            written_mib: None,
            zero_fraction: None,
            workload: WorkloadSpec::Idle,
            disk_write_mibps: 0.0,
            disk_cache: DiskCache::None,
            cdrom: None,
            measured: MeasuredSpec::default(),
            cpu: GuestCpuSpec::default(),
            machine: world::defaults::machine(),
            domain_type: DomainType::default(),
            bridge: world::defaults::bridge(),
            network: None,
            state: VmState::default(),
            persistent: true,
        }
    }

    /// Guest RAM in bytes.
    pub fn ram_bytes(&self) -> u64 {
        self.ram_mib * MIB
    }

    /// Guest RAM in 4 KiB pages (at least one).
    pub fn ram_pages(&self) -> u64 {
        self.ram_bytes().div_ceil(PAGE_SIZE).max(1)
    }

    /// The kernel's page descriptors for `ram_pages` pages of RAM, pages: a 64-byte
    /// `struct page` for each 4 KiB page, 1/64 of RAM (see
    /// [`crate::guest::measured::DESCRIBED_PER_PAGE`]).
    pub fn descriptor_pages(ram_pages: u64) -> u64 {
        ram_pages.div_ceil(crate::guest::measured::DESCRIBED_PER_PAGE)
    }

    /// The most `written_mib` can be at this RAM: all of it but the page descriptors, MiB.
    pub fn max_written_mib(&self) -> f64 {
        let pages = self.ram_pages();
        pages.saturating_sub(Self::descriptor_pages(pages)) as f64 / PAGES_PER_MIB as f64
    }

    /// Pages of guest RAM that hold data, as `written_mib` (plus the page descriptors) or
    /// `zero_fraction` describe them; all of RAM when neither is given. (A measured map,
    /// `[vm.measured] data_pages_per_mib`, replaces this in the guest's layout.)
    pub fn data_pages(&self) -> u64 {
        let pages = self.ram_pages();
        match (self.written_mib, self.zero_fraction) {
            (Some(w), _) => {
                let written = (w.max(0.0) * PAGES_PER_MIB as f64).round() as u64;
                written
                    .saturating_add(Self::descriptor_pages(pages))
                    .min(pages)
            }
            (None, Some(z)) => {
                pages - ((pages as f64 * z.clamp(0.0, 1.0)).round() as u64).min(pages)
            }
            (None, None) => pages,
        }
    }

    /// What the guest has written, MiB, however its memory is described: its data pages less
    /// the page descriptors.
    pub fn written(&self) -> f64 {
        let pages = self.ram_pages();
        self.data_pages()
            .saturating_sub(Self::descriptor_pages(pages)) as f64
            / PAGES_PER_MIB as f64
    }

    /// The share of RAM never written, 0..=1, however the memory is described.
    pub fn zero_share(&self) -> f64 {
        let pages = self.ram_pages();
        1.0 - self.data_pages() as f64 / pages as f64
    }

    /// Describe the memory by its share never written (replacing any `written_mib`).
    pub fn set_zero_fraction(&mut self, zero_fraction: f64) {
        self.written_mib = None;
        self.zero_fraction = Some(zero_fraction);
    }

    /// Describe the memory by what the guest has written, MiB (replacing any `zero_fraction`).
    pub fn set_written_mib(&mut self, written_mib: f64) {
        self.zero_fraction = None;
        self.written_mib = Some(written_mib);
    }

    /// Disk image size in bytes.
    pub fn disk_bytes(&self) -> u64 {
        (self.disk_gib * GIB as f64).round() as u64
    }
    /// The disk image path on both hosts.
    pub fn disk_path(&self, storage: &StorageSpec) -> String {
        format!("{}/{}.qcow2", storage.path.trim_end_matches('/'), self.name)
    }
}

/// How a guest dirties its memory, at page granularity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WorkloadSpec {
    /// Writes nothing.
    #[default]
    Idle,
    /// Rewrites random pages of a working set, uniformly, at a fixed rate (a busy cache or database).
    HotSet {
        /// Size of the working set, MiB.
        set_mib: u64,
        /// Bytes written per second, MiB/s (at full vCPU speed).
        rate_mibps: f64,
    },
    /// Rewrites pages of a working set with a skew: a few pages very often, most rarely.
    Zipf {
        /// Size of the working set, MiB.
        set_mib: u64,
        /// Bytes written per second, MiB/s.
        rate_mibps: f64,
        /// Skew in 0..1: 0 is uniform, 0.9 puts most writes on a small head of the set.
        #[serde(default = "defaults::skew")]
        skew: f64,
    },
    /// Writes a working set front to back, again and again (a log writer, a memset loop).
    Scanner {
        /// Size of the region scanned, MiB.
        set_mib: u64,
        /// Bytes written per second, MiB/s.
        rate_mibps: f64,
    },
}

impl WorkloadSpec {
    /// (working set MiB, write rate MiB/s), or `None` for idle.
    pub fn set_and_rate(&self) -> Option<(u64, f64)> {
        match *self {
            WorkloadSpec::Idle => None,
            WorkloadSpec::HotSet {
                set_mib,
                rate_mibps,
            }
            | WorkloadSpec::Zipf {
                set_mib,
                rate_mibps,
                ..
            }
            | WorkloadSpec::Scanner {
                set_mib,
                rate_mibps,
            } => Some((set_mib, rate_mibps)),
        }
    }
}

/// What `virsh migrate` does when `--timeout` expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TimeoutAction {
    /// `--timeout-suspend` (the default): pause the guest; the rest completes offline.
    #[default]
    Suspend,
    /// `--timeout-postcopy`: switch to post-copy.
    Postcopy,
}

/// One `virsh migrate` command: the flags exactly as virsh has them, and the tunables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationSpec {
    /// Domain to migrate.
    pub vm: String,
    /// Destination host name (`qemu+ssh://<to>/system`).
    pub to: String,
    /// When the command is typed, ms after the run starts (to stagger several migrations).
    #[serde(default)]
    pub start_ms: u64,
    /// `--live`: keep the guest running while RAM is copied. Without it libvirt pauses the guest first.
    #[serde(default = "defaults::yes")]
    pub live: bool,
    /// `--persistent`: define the domain on the destination (the source definition stays).
    #[serde(default)]
    pub persistent: bool,
    /// `--undefinesource`: remove the definition from the source after success.
    #[serde(default)]
    pub undefinesource: bool,
    /// `--copy-storage-all`: mirror the whole disk to the destination over NBD before the RAM.
    #[serde(default)]
    pub copy_storage_all: bool,
    /// `--p2p`: the source libvirtd drives the migration itself.
    #[serde(default)]
    pub p2p: bool,
    /// `--tunnelled`: send the data over the libvirtd connection (needs `--p2p`).
    #[serde(default)]
    pub tunnelled: bool,
    /// `--auto-converge`: throttle the vCPUs when the guest dirties memory too fast.
    #[serde(default)]
    pub auto_converge: bool,
    /// `--postcopy`: allow switching to post-copy.
    #[serde(default)]
    pub postcopy: bool,
    /// `--postcopy-after-precopy`: switch to post-copy after the first full pre-copy pass.
    #[serde(default)]
    pub postcopy_after_precopy: bool,
    /// Switch to post-copy after this many pre-copy passes (as typing `virsh migrate-postcopy`
    /// then would). `postcopy_after_precopy` is the same as 1.
    #[serde(default)]
    pub postcopy_after_pass: Option<u32>,
    /// `--unsafe`: skip libvirt's safety checks (e.g. disks not on shared storage).
    #[serde(default, rename = "unsafe")]
    pub unsafe_: bool,
    /// `--tls`: QEMU encrypts the migration stream with TLS (needs certificates on both hosts,
    /// [`HostSpec::tls_certs`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tls: bool,
    /// `--bandwidth N`, MiB/s. Without it libvirt leaves the speed unlimited and the link decides.
    #[serde(default)]
    pub bandwidth_mibps: Option<u64>,
    /// `--postcopy-bandwidth N`, MiB/s (unlimited by default).
    #[serde(default)]
    pub postcopy_bandwidth_mibps: Option<u64>,
    /// `--timeout N`, seconds.
    #[serde(default)]
    pub timeout_s: Option<u64>,
    /// `--timeout-suspend` (default) or `--timeout-postcopy`.
    #[serde(default)]
    pub timeout_action: TimeoutAction,
    /// `migrate-setmaxdowntime`, ms (QEMU `downtime-limit`, default 300).
    #[serde(default = "defaults::downtime_limit_ms")]
    pub downtime_limit_ms: u64,
    /// `auto-converge-initial`, percent (QEMU `cpu-throttle-initial`, default 20).
    #[serde(default)]
    pub auto_converge_initial: Option<u8>,
    /// `auto-converge-increment`, percent (QEMU `cpu-throttle-increment`, default 10).
    #[serde(default)]
    pub auto_converge_increment: Option<u8>,
    /// The host as the destination URI names it, when not by `to` (e.g. `10.77.0.2` in
    /// `qemu+ssh://10.77.0.2/system`). SSH then resolves this, but a native migration still
    /// sends its data to the name the destination offers (see `preflight`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri_host: Option<String>,
    /// The host of `--migrateuri tcp://HOST[:PORT]`: the source sends the data there (as the
    /// source resolves it) instead of to the name the destination offers, e.g. an address on a
    /// dedicated migration network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_uri_host: Option<String>,
}

impl MigrationSpec {
    /// `virsh migrate --live VM qemu+ssh://TO/system` with every other option at its default.
    pub fn new(vm: &str, to: &str) -> MigrationSpec {
        MigrationSpec {
            vm: vm.to_string(),
            to: to.to_string(),
            start_ms: 0,
            live: true,
            persistent: false,
            undefinesource: false,
            copy_storage_all: false,
            p2p: false,
            tunnelled: false,
            auto_converge: false,
            postcopy: false,
            postcopy_after_precopy: false,
            postcopy_after_pass: None,
            unsafe_: false,
            tls: false,
            bandwidth_mibps: None,
            postcopy_bandwidth_mibps: None,
            timeout_s: None,
            timeout_action: TimeoutAction::default(),
            downtime_limit_ms: defaults::downtime_limit_ms(),
            auto_converge_initial: None,
            auto_converge_increment: None,
            uri_host: None,
            migrate_uri_host: None,
        }
    }

    /// The `virsh migrate` flags (options without a value) this spec sets, in virsh's order.
    pub fn virsh_flags(&self) -> Vec<&'static str> {
        let flags = [
            (self.live, "--live"),
            (self.persistent, "--persistent"),
            (self.undefinesource, "--undefinesource"),
            (self.copy_storage_all, "--copy-storage-all"),
            (self.p2p, "--p2p"),
            (self.tunnelled, "--tunnelled"),
            (self.auto_converge, "--auto-converge"),
            (self.postcopy, "--postcopy"),
            (self.postcopy_after_precopy, "--postcopy-after-precopy"),
            (self.unsafe_, "--unsafe"),
            (self.tls, "--tls"),
        ];
        flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, f)| *f)
            .collect()
    }

    /// The arguments of the `virsh migrate` command this spec stands for, `virsh` first.
    pub fn virsh_argv(&self) -> Vec<String> {
        let mut argv = vec!["virsh".to_string(), "migrate".to_string()];
        argv.extend(self.virsh_flags().into_iter().map(str::to_string));
        argv.push(self.vm.clone());
        argv.push(format!(
            "qemu+ssh://{}/system",
            self.uri_host.as_deref().unwrap_or(&self.to)
        ));
        if let Some(h) = &self.migrate_uri_host {
            argv.extend(["--migrateuri".to_string(), format!("tcp://{h}")]);
        }
        if let Some(bw) = self.bandwidth_mibps {
            argv.extend(["--bandwidth".to_string(), bw.to_string()]);
        }
        if let Some(t) = self.timeout_s {
            argv.extend(["--timeout".to_string(), t.to_string()]);
            if self.timeout_action == TimeoutAction::Postcopy {
                argv.push("--timeout-postcopy".into());
            }
        }
        if let Some(v) = self.auto_converge_initial {
            argv.extend(["--auto-converge-initial".to_string(), v.to_string()]);
        }
        if let Some(v) = self.auto_converge_increment {
            argv.extend(["--auto-converge-increment".to_string(), v.to_string()]);
        }
        argv
    }

    /// The `virsh migrate` command this spec stands for, each argument shell-quoted
    /// ([`crate::term::shell_line`]) so that copying it runs exactly these arguments.
    pub fn virsh_command(&self) -> String {
        crate::term::shell_line(self.virsh_argv())
    }
}

/// The lab client that pings a VM while it migrates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProberSpec {
    /// Ping at all?
    #[serde(default = "defaults::yes")]
    pub enabled: bool,
    /// VM to ping (default: the VM of the first migration).
    #[serde(default)]
    pub target: Option<String>,
    /// Interval between probes, ms (10 resolves the downtime; `ping` without `-i` uses 1000).
    #[serde(default = "defaults::probe_interval_ms")]
    pub interval_ms: f64,
    /// Round-trip time to the VM when nothing is in the way, ms.
    #[serde(default = "defaults::probe_rtt_ms")]
    pub rtt_ms: f64,
    /// Random extra delay added to each reply, up to this many ms.
    #[serde(default = "defaults::probe_jitter_ms")]
    pub jitter_ms: f64,
    /// A reply later than this counts as lost, ms (`ping -W`).
    #[serde(default = "defaults::probe_timeout_ms")]
    pub timeout_ms: f64,
    /// Keep probing this long after the last migration ends, ms.
    #[serde(default = "defaults::probe_tail_ms")]
    pub tail_ms: f64,
}

impl Default for ProberSpec {
    fn default() -> Self {
        ProberSpec {
            enabled: true,
            target: None,
            interval_ms: defaults::probe_interval_ms(),
            rtt_ms: defaults::probe_rtt_ms(),
            jitter_ms: defaults::probe_jitter_ms(),
            timeout_ms: defaults::probe_timeout_ms(),
            tail_ms: defaults::probe_tail_ms(),
        }
    }
}

/// Constants of the simulation that no scenario value determines: sizes and delays that real
/// QEMU has but that depend on the machine. The fidelity harness calibrates them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSpec {
    /// Give up on a migration that has not finished after this long, s (QEMU itself never would).
    #[serde(default = "defaults::max_time_s")]
    pub max_time_s: f64,
    /// Time from the command to the first RAM page (connection, setup), ms.
    #[serde(default = "defaults::setup_ms")]
    pub setup_ms: f64,
    /// Size of the device state sent at the switch-over, KiB.
    #[serde(default = "defaults::device_state_kib")]
    pub device_state_kib: u64,
    /// Time for the destination to load device state and start the vCPUs, ms.
    #[serde(default = "defaults::resume_ms")]
    pub resume_ms: f64,
    /// Time after the resume until the network reaches the guest at its new place (the switch
    /// learns the MAC from QEMU's RARP/GARP announce), ms.
    #[serde(default = "defaults::announce_ms")]
    pub announce_ms: f64,
    /// How often job statistics are sampled, ms (libvirt clients poll about every 100 ms).
    #[serde(default = "defaults::sample_interval_ms")]
    pub sample_interval_ms: u64,
}

impl Default for SimSpec {
    fn default() -> Self {
        SimSpec {
            max_time_s: defaults::max_time_s(),
            setup_ms: defaults::setup_ms(),
            device_state_kib: defaults::device_state_kib(),
            resume_ms: defaults::resume_ms(),
            announce_ms: defaults::announce_ms(),
            sample_interval_ms: defaults::sample_interval_ms(),
        }
    }
}

mod defaults {
    pub fn seed() -> u64 {
        1
    }
    pub fn yes() -> bool {
        true
    }
    pub fn link_rtt_ms() -> f64 {
        0.2
    }
    pub fn storage_path() -> String {
        "/var/lib/libvirt/images".into()
    }
    pub fn vcpus() -> u32 {
        1
    }
    pub fn skew() -> f64 {
        0.8
    }
    pub fn downtime_limit_ms() -> u64 {
        300
    }
    pub fn probe_interval_ms() -> f64 {
        10.0
    }
    pub fn probe_rtt_ms() -> f64 {
        0.4
    }
    pub fn probe_jitter_ms() -> f64 {
        0.1
    }
    pub fn probe_timeout_ms() -> f64 {
        1000.0
    }
    pub fn probe_tail_ms() -> f64 {
        1000.0
    }
    pub fn max_time_s() -> f64 {
        600.0
    }
    pub fn setup_ms() -> f64 {
        30.0
    }
    pub fn device_state_kib() -> u64 {
        768
    }
    pub fn resume_ms() -> f64 {
        20.0
    }
    pub fn announce_ms() -> f64 {
        25.0
    }
    pub fn sample_interval_ms() -> u64 {
        100
    }
}
