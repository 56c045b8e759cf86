//! The three libvirt calls real mode needs that `virt` 0.5 does not wrap. Each is a plain call
//! through `virt::sys` on pointers owned by live `Domain`/`Connect` values.
#![allow(unsafe_code)]

use std::ffi::CString;
use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::Error;

fn check(ret: std::os::raw::c_int) -> Result<std::os::raw::c_int, Error> {
    if ret == -1 {
        Err(Error::last_error())
    } else {
        Ok(ret)
    }
}

/// `virDomainAbortJob`: cancel the domain's running job (the migration).
pub(crate) fn abort_job(dom: &Domain) -> Result<(), Error> {
    // SAFETY: `dom` holds a reference on the virDomain for the whole call.
    check(unsafe { virt::sys::virDomainAbortJob(dom.as_ptr()) }).map(|_| ())
}

/// `virDomainMigrateStartPostCopy`: switch a running migration to post-copy.
pub(crate) fn start_postcopy(dom: &Domain) -> Result<(), Error> {
    // SAFETY: as above; flags must be 0.
    check(unsafe { virt::sys::virDomainMigrateStartPostCopy(dom.as_ptr(), 0) }).map(|_| ())
}

/// `virConnectCompareHypervisorCPU` with `VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE`, so an
/// incompatible CPU comes back as libvirt's error naming the missing features.
pub(crate) fn compare_hypervisor_cpu(
    conn: &Connect,
    arch: &str,
    machine: &str,
    virt_type: &str,
    cpu_xml: &str,
) -> Result<i32, Error> {
    let arch = CString::new(arch)?;
    let machine = CString::new(machine)?;
    let virt_type = CString::new(virt_type)?;
    let xml = CString::new(cpu_xml)?;
    // SAFETY: the CStrings outlive the call; a null emulator lets libvirt pick the default one.
    let ret = unsafe {
        virt::sys::virConnectCompareHypervisorCPU(
            conn.as_ptr(),
            std::ptr::null(),
            arch.as_ptr(),
            machine.as_ptr(),
            virt_type.as_ptr(),
            xml.as_ptr(),
            virt::sys::VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE,
        )
    };
    check(ret)
}

/// `virDomainGetJobStats`, without `virt` 0.5's `Vec::from_raw_parts` on libvirt's array: when
/// no job runs libvirt returns a null array, which that call is not allowed to take (debug
/// builds abort on it). We copy the parameters out, decode them with `virt`'s own table, then
/// hand the array back to libvirt to free (strings included).
pub(crate) fn job_stats(dom: &Domain, flags: u32) -> Result<virt::domain::JobStats, Error> {
    let mut job_type: std::os::raw::c_int = 0;
    let mut params: virt::sys::virTypedParameterPtr = std::ptr::null_mut();
    let mut nparams: std::os::raw::c_int = 0;
    // SAFETY: all out-pointers point at locals; `dom` is live for the call.
    check(unsafe {
        virt::sys::virDomainGetJobStats(
            dom.as_ptr(),
            &mut job_type,
            &mut params,
            &mut nparams,
            flags,
        )
    })?;
    let copied = if params.is_null() || nparams <= 0 {
        Vec::new()
    } else {
        // SAFETY: libvirt returned `nparams` initialised parameters at `params`.
        unsafe { std::slice::from_raw_parts(params, nparams as usize) }.to_vec()
    };
    // Decoding reads the string parameters, which still point into libvirt's array.
    let stats = virt::domain::JobStats::from((job_type, copied));
    if !params.is_null() {
        // SAFETY: the array and its strings came from libvirt and are freed exactly once, after
        // the last read above.
        unsafe { virt::sys::virTypedParamsFree(params, nparams) };
    }
    Ok(stats)
}

/// `virDomainGetState` as libvirt's raw numbers `(state, reason)`.
pub(crate) fn state(dom: &Domain) -> Result<(i32, i32), Error> {
    let (mut state, mut reason) = (0, 0);
    // SAFETY: out-pointers point at locals; `dom` is live for the call.
    check(unsafe { virt::sys::virDomainGetState(dom.as_ptr(), &mut state, &mut reason, 0) })?;
    Ok((state, reason))
}

/// `virDomainStartDirtyRateCalc` in page-sampling mode (`virsh domdirtyrate-calc VM SECONDS`):
/// QEMU hashes a sample of the guest's pages now and again after `seconds`, and reports how many
/// changed as a rate (QEMU's `calc-dirty-rate`, `migration/dirtyrate.c`).
pub(crate) fn start_dirty_rate_calc(dom: &Domain, seconds: i32) -> Result<(), Error> {
    // SAFETY: `dom` holds a reference on the virDomain for the whole call.
    check(unsafe {
        virt::sys::virDomainStartDirtyRateCalc(
            dom.as_ptr(),
            seconds,
            virt::sys::VIR_DOMAIN_DIRTYRATE_MODE_PAGE_SAMPLING,
        )
    })
    .map(|_| ())
}

/// The domain's last dirty-rate calculation (`virsh domstats --dirtyrate`): its status
/// (`virDomainDirtyRateStatus`: 0 unstarted, 1 measuring, 2 measured) and the rate in MiB/s.
pub(crate) fn dirty_rate(dom: &Domain) -> Result<(i32, Option<i64>), Error> {
    // SAFETY: `dom` holds its reference on the virDomain until after the call below.
    let mut doms = [unsafe { dom.as_ptr() }, std::ptr::null_mut()];
    let mut records: *mut virt::sys::virDomainStatsRecordPtr = std::ptr::null_mut();
    // SAFETY: `doms` is the NULL-terminated array libvirt expects, of a live domain; the record
    // list is freed below exactly once.
    let n = check(unsafe {
        virt::sys::virDomainListGetStats(
            doms.as_mut_ptr(),
            virt::sys::VIR_DOMAIN_STATS_DIRTYRATE,
            &mut records,
            0,
        )
    })?;
    let mut status: std::os::raw::c_int = 0;
    let mut rate: std::os::raw::c_longlong = 0;
    let mut have_rate = false;
    if n > 0 && !records.is_null() {
        // SAFETY: libvirt returned `n` records; the first is our domain's, its parameters live
        // until the list is freed.
        unsafe {
            let rec = *records;
            if !rec.is_null() {
                let params = (*rec).params;
                let nparams = (*rec).nparams;
                virt::sys::virTypedParamsGetInt(
                    params,
                    nparams,
                    virt::sys::VIR_DOMAIN_STATS_DIRTYRATE_CALC_STATUS.as_ptr(),
                    &mut status,
                );
                have_rate = virt::sys::virTypedParamsGetLLong(
                    params,
                    nparams,
                    virt::sys::VIR_DOMAIN_STATS_DIRTYRATE_MEGABYTES_PER_SECOND.as_ptr(),
                    &mut rate,
                ) == 1;
            }
        }
    }
    if !records.is_null() {
        // SAFETY: the list came from libvirt and is freed once, after the last read.
        unsafe { virt::sys::virDomainStatsRecordListFree(records) };
    }
    Ok((status, have_rate.then_some(rate)))
}
