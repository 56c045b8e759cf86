//! The files each host gets in its private directories: libvirt's and SSH's configuration,
//! keys, /etc/hosts. Text generation is pure (and unit-tested); writing is below it.

use super::LabboxError;
use super::mounts::{HostDirs, REAL_QEMU};
use super::names::{HOSTS, LabHost, SHARED_DIR, etc_hosts};
use super::run::{command, run};
use super::state::{mkdir, write_file};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// `libvirtd.conf`.
pub(crate) fn libvirtd_conf(host: &LabHost) -> String {
    format!(
        "# migralab lab in a box: {name}\n\
         # Each host its own UUID: by default both read this machine's /etc/machine-id and\n\
         # libvirt refuses every migration as \"to the same host\".\n\
         host_uuid = \"{uuid}\"\n\
         # A TCP control channel (qemu+tcp://) besides SSH; only reachable inside the lab.\n\
         listen_tls = 0\n\
         listen_tcp = 1\n\
         auth_tcp = \"none\"\n\
         log_outputs = \"3:file:/var/log/libvirt/libvirtd.log\"\n",
        name = host.name,
        uuid = host.host_uuid
    )
}

/// `qemu.conf`.
pub(crate) fn qemu_conf() -> String {
    format!(
        "# migralab lab in a box\n\
         # The images directory is the same directory on both hosts (our NFS): without this\n\
         # libvirt says \"Unsafe migration: Migration without shared storage is unsafe\".\n\
         shared_filesystems = [ \"{SHARED_DIR}\" ]\n\
         # Owners are not remembered in xattrs: both hosts label the same shared files.\n\
         remember_owner = 0\n\
         # Both daemons share this machine's cgroup tree and would name their VMs' cgroups alike;\n\
         # the source's cleanup would then hit the destination's QEMU.\n\
         cgroup_controllers = [ ]\n"
    )
}

/// `sshd_config`.
pub(crate) fn sshd_config() -> &'static str {
    "# migralab lab in a box: root logs in with a key only, keys live in this host's /etc/ssh\n\
     HostKey /etc/ssh/ssh_host_ed25519_key\n\
     PermitRootLogin prohibit-password\n\
     PubkeyAuthentication yes\n\
     PasswordAuthentication no\n\
     KbdInteractiveAuthentication no\n\
     UsePAM no\n\
     AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u\n\
     PidFile /run/sshd.pid\n\
     PrintMotd no\n"
}

/// `ssh_config`: the client side used by virsh and libvirtd for qemu+ssh://.
pub(crate) fn ssh_config() -> &'static str {
    "# migralab lab in a box: never ask (libvirtd has no terminal), trust only the lab's host\n\
     # keys, and use the lab's root key, never the real /root/.ssh.\n\
     Host *\n\
     \x20   BatchMode yes\n\
     \x20   StrictHostKeyChecking yes\n\
     \x20   IdentitiesOnly yes\n\
     \x20   IdentityFile /etc/ssh/lab_root_ed25519\n\
     \x20   UserKnownHostsFile /dev/null\n\
     \x20   GlobalKnownHostsFile /etc/ssh/ssh_known_hosts\n"
}

/// The QEMU wrapper on kvm-host-02: while the flag file exists (the `cpu` fault), every `-cpu`
/// loses avx2, as if that host's processor lacked it.
pub(crate) fn qemu_wrapper() -> String {
    format!(
        "#!/bin/sh\n\
         # migralab lab in a box: kvm-host-02's QEMU. While {flag} exists (the `cpu` fault),\n\
         # every vCPU is started without avx2, as on a host whose processor lacks it.\n\
         if [ -e {flag} ]; then\n\
         \x20 cpu_next=0\n\
         \x20 for a do\n\
         \x20   shift\n\
         \x20   if [ \"$cpu_next\" = 1 ]; then a=\"$a,avx2=off\"; cpu_next=0; fi\n\
         \x20   if [ \"$a\" = -cpu ]; then cpu_next=1; fi\n\
         \x20   set -- \"$@\" \"$a\"\n\
         \x20 done\n\
         fi\n\
         exec {REAL_QEMU} \"$@\"\n",
        flag = CPU_FAULT_FLAG
    )
}

/// Inside kvm-host-02: the flag file of the CPU fault.
pub(crate) const CPU_FAULT_FLAG: &str = "/run/migralab/cpu-fault";

/// The root key's public half of `host`.
/// The `default` storage pool over the shared images directory, as virt-manager would create
/// it: it lets preflight see (after a refresh) whether a disk is there on the destination.
pub(crate) fn default_pool_xml() -> String {
    format!(
        "<pool type='dir'>\n  <name>default</name>\n  <target>\n    <path>{}</path>\n  </target>\n</pool>\n",
        SHARED_DIR
    )
}

fn root_pub(dirs: &HostDirs) -> std::path::PathBuf {
    dirs.etc_ssh.join("lab_root_ed25519.pub")
}

/// Write a host's directories and configuration, and make its keys.
pub(crate) fn write_host(dirs: &HostDirs, host: &LabHost) -> Result<(), LabboxError> {
    for d in [
        &dirs.run,
        &dirs.etc_libvirt,
        &dirs.log.join("qemu"),
        &dirs.cache,
        &dirs.etc_ssh,
        &dirs.var_lib_libvirt.join("images"),
        &dirs.var_lib_libvirt.join("migralab/nfs-export"),
        &dirs.run.join("sshd"),
        &dirs.run.join("migralab"),
        &dirs.etc_ssh.join("authorized_keys.d"),
        &dirs.etc_libvirt.join("storage/autostart"),
    ] {
        mkdir(d)?;
    }
    // Anything below may be read by QEMU, which runs as libvirt-qemu; sshd insists that its
    // directories are not writable by others.
    for d in [&dirs.root, &dirs.run, &dirs.var_lib_libvirt, &dirs.etc_ssh] {
        chmod(d, 0o755)?;
    }
    write_file(
        &dirs
            .var_lib_libvirt
            .join("migralab/qemu-system-x86_64.real"),
        b"",
    )?;
    write_file(
        &dirs.etc_libvirt.join("libvirtd.conf"),
        libvirtd_conf(host).as_bytes(),
    )?;
    write_file(&dirs.etc_libvirt.join("qemu.conf"), qemu_conf().as_bytes())?;
    write_file(
        &dirs.etc_libvirt.join("storage/default.xml"),
        default_pool_xml().as_bytes(),
    )?;
    // libvirtd starts the pools linked from autostart/ (as `virsh pool-autostart` makes them).
    let link = dirs.etc_libvirt.join("storage/autostart/default.xml");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink("/etc/libvirt/storage/default.xml", &link).map_err(
            |source| LabboxError::Io {
                what: "cannot link the default pool for autostart".into(),
                path: link.clone(),
                source,
            },
        )?;
    }
    write_file(&dirs.etc_ssh.join("sshd_config"), sshd_config().as_bytes())?;
    write_file(&dirs.etc_ssh.join("ssh_config"), ssh_config().as_bytes())?;
    write_file(&dirs.root.join("hosts"), etc_hosts().as_bytes())?;
    write_file(
        &dirs.root.join("hostname"),
        format!("{}\n", host.name).as_bytes(),
    )?;
    for (file, comment) in [
        ("ssh_host_ed25519_key", format!("host key of {}", host.name)),
        ("lab_root_ed25519", format!("root@{}", host.name)),
    ] {
        let path = dirs.etc_ssh.join(file);
        if !path.exists() {
            run(command("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", &comment, "-f"])
                .arg(&path))?;
        }
    }
    Ok(())
}

fn chmod(path: &Path, mode: u32) -> Result<(), LabboxError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        LabboxError::Io {
            what: "cannot chmod".into(),
            path: path.to_path_buf(),
            source,
        }
    })
}

fn read(path: &Path) -> Result<String, LabboxError> {
    std::fs::read_to_string(path).map_err(|source| LabboxError::Io {
        what: "cannot read".into(),
        path: path.to_path_buf(),
        source,
    })
}

/// Every host trusts every host: its root key may log in everywhere and its host key is known
/// everywhere under its name and address.
pub(crate) fn write_trust(all: &[(HostDirs, LabHost)]) -> Result<(), LabboxError> {
    let mut keys = String::new();
    let mut known = String::new();
    for (dirs, host) in all {
        keys.push_str(read(&root_pub(dirs))?.trim());
        keys.push('\n');
        let host_key = read(&dirs.etc_ssh.join("ssh_host_ed25519_key.pub"))?;
        let mut fields = host_key.split_whitespace();
        let (kind, key) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        known.push_str(&format!("{},{} {kind} {key}\n", host.name, host.addr));
    }
    for (dirs, _) in all {
        write_authorized_keys(dirs, &keys)?;
        write_file(&dirs.etc_ssh.join("ssh_known_hosts"), known.as_bytes())?;
    }
    Ok(())
}

/// Root's authorized keys on a host (empty: the SSH trust fault).
pub(crate) fn write_authorized_keys(dirs: &HostDirs, keys: &str) -> Result<(), LabboxError> {
    write_file(
        &dirs.etc_ssh.join("authorized_keys.d").join("root"),
        keys.as_bytes(),
    )
}

/// Every lab host's root public key, for restoring trust.
pub(crate) fn all_root_keys(state_dir: &Path, cache_dir: &Path) -> Result<String, LabboxError> {
    let mut keys = String::new();
    for h in HOSTS {
        let dirs = HostDirs::of(state_dir, cache_dir, h.name);
        keys.push_str(read(&root_pub(&dirs))?.trim());
        keys.push('\n');
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_host_has_its_own_uuid_and_the_settings_migration_needs() {
        let a = libvirtd_conf(&HOSTS[0]);
        let b = libvirtd_conf(&HOSTS[1]);
        assert!(a.contains("host_uuid = \"6d1a0b52-7701-4c1a-9b01-000000000001\""));
        assert_ne!(a, b);
        let q = qemu_conf();
        assert!(q.contains("shared_filesystems = [ \"/var/lib/libvirt/images\" ]"));
        assert!(q.contains("remember_owner = 0"));
        assert!(q.contains("cgroup_controllers = [ ]"));
    }

    #[test]
    fn the_default_pool_covers_the_shared_images() {
        let xml = default_pool_xml();
        assert!(xml.contains("<pool type='dir'>") && xml.contains("<name>default</name>"));
        assert!(
            xml.contains("<path>/var/lib/libvirt/images</path>"),
            "{xml}"
        );
    }

    #[test]
    fn the_wrapper_turns_avx2_off_only_under_the_fault() {
        let w = qemu_wrapper();
        assert!(w.starts_with("#!/bin/sh\n"));
        assert!(w.contains("if [ -e /run/migralab/cpu-fault ]"));
        assert!(w.contains("a=\"$a,avx2=off\""));
        assert!(w.ends_with("exec /var/lib/libvirt/migralab/qemu-system-x86_64.real \"$@\"\n"));
    }

    #[test]
    fn ssh_never_prompts_and_never_reads_the_real_root_keys() {
        let c = ssh_config();
        for line in [
            "BatchMode yes",
            "StrictHostKeyChecking yes",
            "IdentityFile /etc/ssh/lab_root_ed25519",
        ] {
            assert!(c.contains(line), "{c}");
        }
        assert!(sshd_config().contains("AuthorizedKeysFile /etc/ssh/authorized_keys.d/%u"));
    }
}
