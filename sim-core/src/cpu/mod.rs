//! CPU models and features as libvirt sees them, for `virsh cpu-compare` / `cpu-baseline` and the
//! "the CPU is incompatible with host CPU" pre-check of a migration.
//!
//! The data is libvirt 9.0.0's own x86 CPU map (`assets/cpu_map/`, LGPL-2.1-or-later), embedded
//! at compile time; the algorithms follow libvirt's `src/cpu/cpu_x86.c` at the level of feature
//! *names* (libvirt works on CPUID bits, but every 9.0.0 feature is exactly one bit, so sets of
//! names behave the same).
//!
//! Invariants:
//! - **Pure.** No I/O: the map is `include_str!`'d and parsed once ([`CpuMap::x86`]); broken data
//!   is a [`CpuError::Map`], never a panic.
//! - **Deterministic.** Sets are `BTreeSet`s; lists that libvirt prints (missing features, extra
//!   host features) come in libvirt's order, which is `x86_features.xml` order
//!   ([`CpuMap::in_map_order`]), not alphabetical.
//! - **Model order matters.** [`CpuMap::models`] keeps `index.xml` order; naming a CPU walks it
//!   newest-first like libvirt, so on a tie the later model wins.
//!
//! ```
//! use migralab_sim_core::cpu::{CpuCompare, CpuDef, CpuMap};
//! # fn main() -> Result<(), migralab_sim_core::cpu::CpuError> {
//! let map = CpuMap::x86()?;
//! let host = CpuDef::named("Skylake-Client").with_vendor("Intel");
//! let guest = CpuDef::named("Haswell-noTSX");
//! assert_eq!(map.compare(&host, &guest)?, CpuCompare::Superset);
//! # Ok(()) }
//! ```

mod data;
mod map;
mod passthrough;
mod xml;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use map::{CpuFeature, CpuMap, CpuModel, CpuSignature, CpuVendor};
pub use passthrough::{PassthroughOutcome, RefusedState};
pub use xml::{guest_cpu_xml, host_cpu_xml, parse_cpu_xml};

/// A host or guest CPU as written in libvirt XML: a model, a vendor and feature adjustments.
///
/// - Guest (`<cpu mode='custom'>`): `<feature policy='require'>` (or `force`) goes to `require`,
///   `policy='disable'` (or `forbid`) to `disable`; `optional` is not modelled.
/// - Host (`virsh capabilities`): the `<feature name=.../>` elements are the features the host
///   has *on top of* the model; they go to `require`, and `disable` stays empty.
///
/// Feature names may be libvirt names or aliases (`sse4_2`); computations use libvirt's names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CpuDef {
    /// The named model (`Haswell-noTSX`), or `None` for a CPU given only by features.
    pub model: Option<String>,
    /// `Intel`, `AMD` or `Hygon`; a guest that names one only runs on hosts of that vendor.
    pub vendor: Option<String>,
    /// Features present in addition to the model's.
    pub require: BTreeSet<String>,
    /// Features of the model that are switched off.
    pub disable: BTreeSet<String>,
}

impl CpuDef {
    /// A CPU that is just the named model.
    pub fn named(model: impl Into<String>) -> Self {
        CpuDef {
            model: Some(model.into()),
            ..CpuDef::default()
        }
    }

    /// The same CPU with `vendor` set.
    #[must_use]
    pub fn with_vendor(mut self, vendor: impl Into<String>) -> Self {
        self.vendor = Some(vendor.into());
        self
    }

    /// The same CPU with `features` added to `require`.
    #[must_use]
    pub fn with_required<I, S>(mut self, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.require.extend(features.into_iter().map(Into::into));
        self
    }

    /// The same CPU with `features` added to `disable`.
    #[must_use]
    pub fn with_disabled<I, S>(mut self, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.disable.extend(features.into_iter().map(Into::into));
        self
    }
}

/// The result of comparing a guest CPU with a host CPU, as `virsh cpu-compare` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuCompare {
    /// The host has exactly the features the guest asks for.
    Identical,
    /// The host has every feature the guest asks for, and more.
    Superset,
    /// The guest cannot run on this host.
    Incompatible {
        /// Features the guest needs and the host lacks, in libvirt's order (`x86_features.xml`),
        /// as in "Host CPU does not provide required features: avx512f, avx512dq, ...". Empty
        /// when the vendor already decided it.
        missing: Vec<String>,
        /// Set when the guest names a vendor the host does not have; libvirt checks this first
        /// and then does not look at features.
        vendor_mismatch: Option<VendorMismatch>,
    },
}

/// A guest that names a vendor compared with a host of another (or no) vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorMismatch {
    /// The vendor the guest CPU names.
    pub required: String,
    /// The host's vendor, if it has one.
    pub host: Option<String>,
}

impl CpuCompare {
    /// `true` for [`CpuCompare::Identical`] and [`CpuCompare::Superset`].
    pub fn is_compatible(&self) -> bool {
        !matches!(self, CpuCompare::Incompatible { .. })
    }

    /// libvirt's explanation of an incompatibility (what follows "the CPU is incompatible with
    /// host CPU: " in the error), or `None` when compatible.
    pub fn reason(&self) -> Option<String> {
        match self {
            CpuCompare::Identical | CpuCompare::Superset => None,
            CpuCompare::Incompatible {
                vendor_mismatch: Some(v),
                ..
            } => Some(format!(
                "host CPU vendor does not match required CPU vendor {}",
                v.required
            )),
            CpuCompare::Incompatible { missing, .. } => Some(format!(
                "Host CPU does not provide required features: {}",
                missing.join(", ")
            )),
        }
    }

    /// What `virsh cpu-compare FILE` prints (without `--error`).
    pub fn virsh_message(&self, file: &str) -> String {
        match self {
            CpuCompare::Identical => format!("CPU described in {file} is identical to host CPU"),
            CpuCompare::Superset => format!("Host CPU is a superset of CPU described in {file}"),
            CpuCompare::Incompatible { .. } => {
                format!("CPU described in {file} is incompatible with host CPU")
            }
        }
    }
}

/// Why a CPU computation or a CPU XML failed. Messages use libvirt's wording where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CpuError {
    /// The CPU map itself is broken (only possible with files given to [`CpuMap::from_xml`]).
    #[error("CPU map {file}:{line}: {message}")]
    Map {
        /// The map file (`x86_Haswell.xml`).
        file: String,
        /// 1-based line of the offending element.
        line: u32,
        /// What is wrong.
        message: String,
    },
    /// A CPU XML given to [`parse_cpu_xml`] is malformed or has an invalid `<cpu>`.
    #[error("CPU XML line {line}, column {column}: {message}")]
    Xml {
        /// 1-based line in the text that was given.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong.
        message: String,
    },
    /// The XML holds no CPU definition where `virsh` looks for one.
    #[error(
        "no CPU definition found: expected <cpu>, a domain XML, host capabilities or domain capabilities"
    )]
    NoCpu,
    /// A CPU names a model the map does not have.
    #[error("Unknown CPU model {0}")]
    UnknownModel(String),
    /// A CPU names a feature the map does not have (neither as name nor as alias).
    #[error("Unknown CPU feature {0}")]
    UnknownFeature(String),
    /// A CPU names a vendor the map does not have.
    #[error("Unknown CPU vendor {0}")]
    UnknownVendor(String),
    /// Baseline of CPUs from different vendors.
    #[error("CPU vendors do not match")]
    VendorsDoNotMatch,
    /// A CPU's `<vendor>` contradicts the vendor of its own `<model>`.
    #[error("CPU vendor {model_vendor} of model {model} differs from vendor {vendor}")]
    ModelVendorMismatch {
        /// The model.
        model: String,
        /// The model's vendor.
        model_vendor: String,
        /// The vendor the CPU definition states.
        vendor: String,
    },
    /// Baseline of CPUs that share no feature at all.
    #[error("CPUs are incompatible")]
    NothingInCommon,
    /// Baseline of an empty list.
    #[error("No CPU definitions given")]
    NoCpus,
    /// No model of the right vendor fits the features (e.g. a host with almost no features).
    #[error("Cannot find suitable CPU model for given data")]
    NoSuitableModel,
}

/// Whom libvirt names a CPU for: a host (model must be a subset) or a guest (features may be
/// disabled, at a penalty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecodeFor {
    Host,
    Guest,
}

/// One model considered while naming a CPU (libvirt's `cpuCandidate` in `x86Decode`).
struct Candidate<'m> {
    model: &'m CpuModel,
    require: BTreeSet<String>,
    disable: BTreeSet<String>,
}

impl Candidate<'_> {
    /// `(size, disabled penalty)` as in libvirt's `virCPUx86CompareCandidateFeatureList`: for a
    /// guest the k-th disabled feature costs k+1 (2, 3, 4, ...), so a model that needs many
    /// features switched off loses to one that lists a few extra ones.
    fn score(&self, kind: DecodeFor) -> (usize, usize) {
        let k = self.disable.len();
        match kind {
            DecodeFor::Host => (self.require.len() + k, 0),
            DecodeFor::Guest => {
                let penalty = 2 * k + k * k.saturating_sub(1) / 2;
                (self.require.len() + penalty, penalty)
            }
        }
    }

    fn better_than(&self, current: &Candidate<'_>, preferred: bool, kind: DecodeFor) -> bool {
        let (size, disabled) = self.score(kind);
        let (cur_size, cur_disabled) = current.score(kind);
        size < cur_size
            || (size == cur_size && disabled < cur_disabled)
            || (preferred && disabled < cur_disabled)
    }
}

impl CpuMap {
    /// libvirt's name for every feature in `features`, as a set.
    fn canonical_set<I, S>(&self, features: I) -> Result<BTreeSet<String>, CpuError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        features
            .into_iter()
            .map(|f| {
                let f = f.as_ref();
                self.canonical_feature(f)
                    .map(str::to_owned)
                    .ok_or_else(|| CpuError::UnknownFeature(f.to_owned()))
            })
            .collect()
    }

    fn check_vendor(&self, vendor: &str) -> Result<(), CpuError> {
        match self.vendor(vendor) {
            Some(_) => Ok(()),
            None => Err(CpuError::UnknownVendor(vendor.to_owned())),
        }
    }

    /// Every feature `cpu` has: the model's features, plus `require`, minus `disable` (a feature
    /// in both ends up disabled). Aliases are accepted and returned as libvirt names.
    ///
    /// # Errors
    /// [`CpuError::UnknownModel`] / [`CpuError::UnknownFeature`] naming the unknown name.
    pub fn expand(&self, cpu: &CpuDef) -> Result<BTreeSet<String>, CpuError> {
        let mut set = match &cpu.model {
            Some(name) => self
                .model(name)
                .ok_or_else(|| CpuError::UnknownModel(name.clone()))?
                .features
                .clone(),
            None => BTreeSet::new(),
        };
        set.extend(self.canonical_set(&cpu.require)?);
        for f in self.canonical_set(&cpu.disable)? {
            set.remove(&f);
        }
        Ok(set)
    }

    /// Can a guest with CPU `guest` run on `host`? Follows libvirt's `x86Compute` (what
    /// `virsh cpu-compare` and the migration pre-check use):
    /// 1. a guest that names a vendor needs a host of that vendor;
    /// 2. every feature of the guest (model + required − disabled) must be on the host, else
    ///    the missing ones are listed;
    /// 3. `Identical` if the host has nothing beyond that (ignoring features the guest
    ///    disables), otherwise `Superset`.
    ///
    /// # Errors
    /// An unknown model or feature in either CPU.
    pub fn compare(&self, host: &CpuDef, guest: &CpuDef) -> Result<CpuCompare, CpuError> {
        if let Some(required) = &guest.vendor
            && host.vendor.as_ref() != Some(required)
        {
            return Ok(CpuCompare::Incompatible {
                missing: Vec::new(),
                vendor_mismatch: Some(VendorMismatch {
                    required: required.clone(),
                    host: host.vendor.clone(),
                }),
            });
        }
        let host_set = self.expand(host)?;
        let needed = self.expand(guest)?;
        let missing = self.in_map_order(needed.difference(&host_set));
        if !missing.is_empty() {
            return Ok(CpuCompare::Incompatible {
                missing,
                vendor_mismatch: None,
            });
        }
        let disabled = self.canonical_set(&guest.disable)?;
        let extra = host_set
            .iter()
            .any(|f| !needed.contains(f) && !disabled.contains(f));
        Ok(if extra {
            CpuCompare::Superset
        } else {
            CpuCompare::Identical
        })
    }

    /// The guest CPU that every one of `cpus` can run, like `virsh cpu-baseline` (libvirt's
    /// `virCPUx86Baseline`):
    /// - the features common to all CPUs (each expanded);
    /// - all CPUs that state a vendor (or whose model has one) must agree, else
    ///   [`CpuError::VendorsDoNotMatch`]; the result names the vendor only if every input did;
    /// - the model is chosen as libvirt does for a guest: of the models of that vendor (or
    ///   generic) allowed for guests (`decode guest='on'`), newest first, the one needing the
    ///   fewest listed features, where each feature the model has but the CPUs lack must be
    ///   disabled and costs more than one extra required feature. If all inputs name the same
    ///   model, that model is used whenever it is allowed, disabling what is missing.
    ///   Features QEMU removed from the chosen model (`removed='yes'`) are listed as disabled.
    ///
    /// # Errors
    /// Unknown model/feature/vendor, [`CpuError::VendorsDoNotMatch`],
    /// [`CpuError::ModelVendorMismatch`], [`CpuError::NothingInCommon`], [`CpuError::NoCpus`],
    /// [`CpuError::NoSuitableModel`].
    pub fn baseline(&self, cpus: &[CpuDef]) -> Result<CpuDef, CpuError> {
        let (first, rest) = cpus.split_first().ok_or(CpuError::NoCpus)?;
        let mut common = self.expand(first)?;
        let mut output_vendor = first.vendor.is_some();
        let mut vendor: Option<&str> = None;
        if let Some(v) = first.vendor.as_deref() {
            self.check_vendor(v)?;
            vendor = Some(v);
        }
        let mut names: Vec<&str> = first.model.iter().map(String::as_str).collect();
        for cpu in rest {
            if let Some(m) = cpu.model.as_deref()
                && !names.contains(&m)
            {
                names.push(m);
            }
            let features = self.expand(cpu)?;
            let model = cpu.model.as_deref().and_then(|m| self.model(m));
            let model_vendor = model.and_then(|m| m.vendor.as_deref());
            if let (Some(v), Some(m), Some(mv)) = (cpu.vendor.as_deref(), model, model_vendor)
                && v != mv
            {
                return Err(CpuError::ModelVendorMismatch {
                    model: m.name.clone(),
                    model_vendor: mv.to_owned(),
                    vendor: v.to_owned(),
                });
            }
            let stated = match cpu.vendor.as_deref() {
                Some(v) => Some(v),
                None => {
                    output_vendor = false;
                    model_vendor
                }
            };
            if let Some(v) = stated {
                match vendor {
                    None => {
                        self.check_vendor(v)?;
                        vendor = Some(v);
                    }
                    Some(known) if known != v => return Err(CpuError::VendorsDoNotMatch),
                    Some(_) => {}
                }
            }
            common.retain(|f| features.contains(f));
        }
        if common.is_empty() {
            return Err(CpuError::NothingInCommon);
        }
        let mut cpu = self.decode(&common, vendor, &names, DecodeFor::Guest)?;
        if !output_vendor {
            cpu.vendor = None;
        }
        Ok(cpu)
    }

    /// Names a host CPU the way `virsh capabilities` does (libvirt's `x86Decode` for a host):
    /// of the models allowed for hosts (`decode host='on'`) of `vendor` (or generic), the one
    /// that is a subset of `features` and leaves the fewest features over, newest first on a
    /// tie; the leftovers go to `require`. Aliases are accepted.
    ///
    /// libvirt also prefers a model whose signature matches the CPU's family/model and drops
    /// TSX on some Haswell steppings; neither is modelled here.
    ///
    /// # Errors
    /// Unknown feature or vendor, or [`CpuError::NoSuitableModel`] if no model fits.
    pub fn host_cpu<I, S>(&self, vendor: Option<&str>, features: I) -> Result<CpuDef, CpuError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if let Some(v) = vendor {
            self.check_vendor(v)?;
        }
        let data = self.canonical_set(features)?;
        self.decode(&data, vendor, &[], DecodeFor::Host)
    }

    /// libvirt's `x86Decode`: pick the model that describes `data` best. Models are tried
    /// newest first and a later candidate must be strictly better, so ties go to the model
    /// that comes later in `index.xml`.
    fn decode(
        &self,
        data: &BTreeSet<String>,
        vendor: Option<&str>,
        preferred: &[&str],
        kind: DecodeFor,
    ) -> Result<CpuDef, CpuError> {
        let mut best: Option<Candidate<'_>> = None;
        for model in self.models().iter().rev() {
            if let (Some(v), Some(mv)) = (vendor, model.vendor.as_deref())
                && v != mv
            {
                continue;
            }
            let allowed = match kind {
                DecodeFor::Host => model.decode_host,
                DecodeFor::Guest => model.decode_guest,
            };
            if !allowed {
                continue;
            }
            let require: BTreeSet<String> = data.difference(&model.features).cloned().collect();
            let mut disable: BTreeSet<String> = model.features.difference(data).cloned().collect();
            match kind {
                // A host CPU is never described as a model minus something.
                DecodeFor::Host if !disable.is_empty() => continue,
                DecodeFor::Host => {}
                DecodeFor::Guest => disable.extend(
                    model
                        .removed
                        .iter()
                        .filter(|f| !require.contains(*f))
                        .cloned(),
                ),
            }
            let candidate = Candidate {
                model,
                require,
                disable,
            };
            let is_preferred = preferred.contains(&model.name.as_str());
            if is_preferred && preferred.len() == 1 {
                best = Some(candidate);
                break;
            }
            let better = best
                .as_ref()
                .is_none_or(|current| candidate.better_than(current, is_preferred, kind));
            if better {
                best = Some(candidate);
            }
        }
        let best = best.ok_or(CpuError::NoSuitableModel)?;
        Ok(CpuDef {
            model: Some(best.model.name.clone()),
            vendor: vendor.map(str::to_owned),
            require: best.require,
            disable: best.disable,
        })
    }
}
