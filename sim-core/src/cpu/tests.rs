#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use super::*;

fn map() -> &'static CpuMap {
    CpuMap::x86().expect("the embedded libvirt 9.0.0 CPU map parses")
}

fn model_features(name: &str) -> BTreeSet<String> {
    map().model(name).unwrap().features.clone()
}

/// A host whose CPU has exactly the features of `model`, named as `virsh capabilities` would.
fn host_like(vendor: &str, model: &str) -> CpuDef {
    map().host_cpu(Some(vendor), model_features(model)).unwrap()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn index_of(model: &str) -> usize {
    map().models().iter().position(|m| m.name == model).unwrap()
}

// ---------------------------------------------------------------- the map itself

#[test]
fn embedded_files_are_exactly_the_x86_files_index_xml_includes() {
    let index = roxmltree::Document::parse(data::INDEX_XML).unwrap();
    let included: Vec<&str> = index
        .descendants()
        .filter(|n| n.has_tag_name("include"))
        .filter_map(|n| n.attribute("filename"))
        .filter(|f| f.starts_with("x86_"))
        .collect();
    let embedded: Vec<&str> = data::X86_FILES.iter().map(|(name, _)| *name).collect();
    assert_eq!(included, embedded);
}

#[test]
fn map_has_libvirt_9_models_in_index_order() {
    let names: Vec<&str> = map().models().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names.len(), 58);
    assert_eq!(names.first(), Some(&"486"));
    assert_eq!(names.last(), Some(&"Dhyana"));
    // A few orderings that decide ties when libvirt names a CPU.
    assert!(index_of("qemu64") < index_of("Nehalem"));
    assert!(index_of("Haswell-noTSX") < index_of("Haswell"));
    assert!(index_of("Skylake-Client") < index_of("Skylake-Server"));
    assert!(index_of("EPYC") < index_of("EPYC-Milan"));
    assert_eq!(map().vendors().len(), 3);
    assert_eq!(map().features().len(), 212);
}

#[test]
fn every_model_expands_to_its_resolved_feature_set() {
    for model in map().models() {
        let expanded = map().expand(&CpuDef::named(model.name.clone())).unwrap();
        assert_eq!(expanded, model.features, "{}", model.name);
        assert!(!expanded.is_empty(), "{}", model.name);
        for f in &expanded {
            assert!(map().is_feature(f), "{} lists unknown {f}", model.name);
        }
    }
}

#[test]
fn model_metadata_follows_the_files() {
    let haswell = map().model("Haswell").unwrap();
    assert_eq!(haswell.vendor.as_deref(), Some("Intel"));
    assert!(haswell.signatures.contains(&CpuSignature {
        family: 6,
        model: 60
    }));
    assert!(haswell.decode_host && haswell.decode_guest);
    assert_eq!(map().model("qemu64").unwrap().vendor, None);
    assert_eq!(map().model("EPYC").unwrap().vendor.as_deref(), Some("AMD"));
    // host='on' guest='off': may name a host, never chosen for a baseline.
    let sk = map().model("Skylake-Client-noTSX-IBRS").unwrap();
    assert!(sk.decode_host && !sk.decode_guest);
    let rhel6 = map().model("cpu64-rhel6").unwrap();
    assert!(!rhel6.decode_host && !rhel6.decode_guest);
}

#[test]
fn removed_features_are_not_part_of_the_model() {
    let epyc = map().model("EPYC").unwrap();
    assert!(epyc.removed.contains("monitor"));
    assert!(!epyc.features.contains("monitor"));
    let icelake = map().model("Icelake-Server").unwrap();
    assert!(icelake.removed.contains("intel-pt"));
    assert!(!icelake.features.contains("intel-pt"));
}

#[test]
fn feature_names_and_aliases() {
    let m = map();
    assert!(m.is_feature("avx2"));
    assert!(m.is_feature("sse4.2"));
    assert!(m.is_feature("sse4_2"), "QEMU alias");
    assert!(m.is_feature("sse3"), "QEMU alias of pni");
    assert!(m.is_feature("md_clear"), "Linux alias of md-clear");
    assert!(!m.is_feature("avx9000"));
    assert_eq!(m.canonical_feature("sse3"), Some("pni"));
    assert_eq!(m.canonical_feature("pni"), Some("pni"));
    assert!(!m.feature("invtsc").unwrap().migratable);
    assert!(m.feature("avx2").unwrap().migratable);
    // Aliases work in definitions and come back as libvirt names.
    let cpu = CpuDef::named("qemu64").with_required(["sse4_2", "ssse3"]);
    let expanded = m.expand(&cpu).unwrap();
    assert!(expanded.contains("sse4.2") && !expanded.contains("sse4_2"));
}

#[test]
fn in_map_order_is_libvirts_listing_order() {
    let ordered = map().in_map_order(["avx512bw", "avx512f", "fpu", "zzz-unknown", "avx512dq"]);
    assert_eq!(
        ordered,
        ["fpu", "avx512f", "avx512dq", "avx512bw", "zzz-unknown"]
    );
}

// ---------------------------------------------------------------- expand

#[test]
fn haswell_has_tsx_and_haswell_notsx_does_not() {
    let with = map().expand(&CpuDef::named("Haswell")).unwrap();
    let without = map().expand(&CpuDef::named("Haswell-noTSX")).unwrap();
    assert!(with.contains("hle") && with.contains("rtm"));
    assert!(!without.contains("hle") && !without.contains("rtm"));
    // Otherwise the same model.
    let diff: BTreeSet<String> = with.difference(&without).cloned().collect();
    assert_eq!(diff, set(&["hle", "rtm"]));
}

#[test]
fn expand_adds_required_and_removes_disabled() {
    let cpu = CpuDef::named("Haswell")
        .with_required(["abm"])
        .with_disabled(["hle", "rtm"]);
    let mut expected = model_features("Haswell-noTSX");
    expected.insert("abm".to_owned());
    assert_eq!(map().expand(&cpu).unwrap(), expected);
    // Without a model, only the listed features.
    let bare = CpuDef::default().with_required(["sse2", "fpu"]);
    assert_eq!(map().expand(&bare).unwrap(), set(&["fpu", "sse2"]));
}

#[test]
fn unknown_model_and_feature_errors_name_them() {
    let err = map().expand(&CpuDef::named("Pentium9000")).unwrap_err();
    assert_eq!(err, CpuError::UnknownModel("Pentium9000".to_owned()));
    assert_eq!(err.to_string(), "Unknown CPU model Pentium9000");
    let err = map()
        .expand(&CpuDef::named("Haswell").with_required(["warp-drive"]))
        .unwrap_err();
    assert_eq!(err.to_string(), "Unknown CPU feature warp-drive");
    let err = map()
        .compare(&CpuDef::named("Haswell"), &CpuDef::named("Nehalem-XL"))
        .unwrap_err();
    assert!(err.to_string().contains("Nehalem-XL"));
}

// ---------------------------------------------------------------- compare

#[test]
fn haswell_notsx_guest_on_skylake_client_host_is_superset() {
    let host = host_like("Intel", "Skylake-Client");
    assert_eq!(host.model.as_deref(), Some("Skylake-Client"));
    let guest = CpuDef::named("Haswell-noTSX").with_vendor("Intel");
    let result = map().compare(&host, &guest).unwrap();
    assert_eq!(result, CpuCompare::Superset);
    assert!(result.is_compatible());
    assert_eq!(result.reason(), None);
    assert_eq!(
        result.virsh_message("guest.xml"),
        "Host CPU is a superset of CPU described in guest.xml"
    );
}

#[test]
fn same_model_is_identical_and_disabling_keeps_it_identical() {
    let host = CpuDef::named("Haswell").with_vendor("Intel");
    assert_eq!(
        map().compare(&host, &CpuDef::named("Haswell")).unwrap(),
        CpuCompare::Identical
    );
    // The guest switches TSX off: the host's hle/rtm are "disabled", not "extra".
    let guest = CpuDef::named("Haswell").with_disabled(["hle", "rtm"]);
    assert_eq!(map().compare(&host, &guest).unwrap(), CpuCompare::Identical);
    // But a plain Haswell-noTSX guest leaves hle/rtm unused: superset.
    assert_eq!(
        map()
            .compare(&host, &CpuDef::named("Haswell-noTSX"))
            .unwrap(),
        CpuCompare::Superset
    );
}

#[test]
fn skylake_server_guest_on_haswell_host_lists_missing_features_like_libvirt() {
    let host = host_like("Intel", "Haswell");
    let guest = CpuDef::named("Skylake-Server").with_vendor("Intel");
    let result = map().compare(&host, &guest).unwrap();
    let CpuCompare::Incompatible {
        missing,
        vendor_mismatch,
    } = &result
    else {
        panic!("expected incompatible, got {result:?}");
    };
    assert_eq!(vendor_mismatch, &None);
    // Exactly the features Skylake-Server has and Haswell lacks ...
    let expected: BTreeSet<String> = model_features("Skylake-Server")
        .difference(&model_features("Haswell"))
        .cloned()
        .collect();
    assert_eq!(missing.iter().cloned().collect::<BTreeSet<_>>(), expected);
    for f in [
        "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "mpx", "clwb",
    ] {
        assert!(
            missing.iter().any(|m| m == f),
            "{f} missing from {missing:?}"
        );
    }
    // ... listed in x86_features.xml order, as libvirt prints them (not alphabetically).
    assert_eq!(missing, &map().in_map_order(missing));
    assert_eq!(missing.first().map(String::as_str), Some("vme"));
    let reason = result.reason().unwrap();
    assert!(
        reason.starts_with("Host CPU does not provide required features: vme, f16c, rdrand"),
        "{reason}"
    );
    assert!(reason.contains("avx512f, avx512dq, rdseed"), "{reason}");
    assert_eq!(
        result.virsh_message("skx.xml"),
        "CPU described in skx.xml is incompatible with host CPU"
    );
}

#[test]
fn intel_guest_on_amd_host_is_incompatible() {
    let host = host_like("AMD", "EPYC");
    assert_eq!(host.model.as_deref(), Some("EPYC"));
    // With a vendor, libvirt stops at the vendor.
    let guest = CpuDef::named("Haswell").with_vendor("Intel");
    let result = map().compare(&host, &guest).unwrap();
    assert_eq!(
        result,
        CpuCompare::Incompatible {
            missing: Vec::new(),
            vendor_mismatch: Some(VendorMismatch {
                required: "Intel".to_owned(),
                host: Some("AMD".to_owned()),
            }),
        }
    );
    assert_eq!(
        result.reason().unwrap(),
        "host CPU vendor does not match required CPU vendor Intel"
    );
    // Without one, the Intel-only features are what is missing.
    let result = map().compare(&host, &CpuDef::named("Haswell")).unwrap();
    let CpuCompare::Incompatible { missing, .. } = result else {
        panic!("expected incompatible");
    };
    assert_eq!(
        missing,
        [
            "pcid",
            "x2apic",
            "tsc-deadline",
            "hle",
            "erms",
            "invpcid",
            "rtm"
        ]
    );
}

// ---------------------------------------------------------------- host_cpu (capabilities)

#[test]
fn host_with_exactly_nehalem_features_is_named_nehalem() {
    let host = map()
        .host_cpu(Some("Intel"), model_features("Nehalem"))
        .unwrap();
    assert_eq!(host, CpuDef::named("Nehalem").with_vendor("Intel"));
}

#[test]
fn host_extras_are_listed_and_the_biggest_subset_model_wins() {
    let mut features = model_features("Haswell-noTSX");
    features.extend(["ds", "acpi", "ss", "ht", "abm"].map(str::to_owned));
    let host = map().host_cpu(Some("Intel"), &features).unwrap();
    assert_eq!(host.model.as_deref(), Some("Haswell-noTSX"));
    assert_eq!(host.require, set(&["abm", "acpi", "ds", "ht", "ss"]));
    assert!(host.disable.is_empty());
    // Add spec-ctrl and the -IBRS variant fits better.
    features.insert("spec-ctrl".to_owned());
    let host = map().host_cpu(Some("Intel"), &features).unwrap();
    assert_eq!(host.model.as_deref(), Some("Haswell-noTSX-IBRS"));
}

#[test]
fn host_naming_skips_models_not_meant_for_hosts_and_other_vendors() {
    // cpu64-rhel6 has decode host='off': a CPU with exactly its features gets another name.
    let host = map().host_cpu(None, model_features("cpu64-rhel6")).unwrap();
    assert_ne!(host.model.as_deref(), Some("cpu64-rhel6"));
    let named = map().model(host.model.as_deref().unwrap()).unwrap();
    assert!(named.features.is_subset(&model_features("cpu64-rhel6")));
    // An AMD CPU with Nehalem's features is not called Nehalem.
    let amd = map()
        .host_cpu(Some("AMD"), model_features("Nehalem"))
        .unwrap();
    let amd_model = map().model(amd.model.as_deref().unwrap()).unwrap();
    assert_ne!(amd_model.vendor.as_deref(), Some("Intel"));
    assert_eq!(
        map().host_cpu(Some("Intel"), ["lm"]),
        Err(CpuError::NoSuitableModel)
    );
    assert_eq!(
        map().host_cpu(Some("Cyrix"), ["fpu"]),
        Err(CpuError::UnknownVendor("Cyrix".to_owned()))
    );
}

// ---------------------------------------------------------------- baseline

#[test]
fn baseline_of_skylake_server_and_haswell_notsx_runs_on_both() {
    let skx = host_like("Intel", "Skylake-Server");
    let hsw = host_like("Intel", "Haswell-noTSX");
    assert_eq!(skx.model.as_deref(), Some("Skylake-Server"));
    let base = map().baseline(&[skx.clone(), hsw.clone()]).unwrap();
    // Haswell-noTSX is a subset of Skylake-Server, so the common set is exactly Haswell-noTSX.
    assert_eq!(base, CpuDef::named("Haswell-noTSX").with_vendor("Intel"));
    assert!(index_of(base.model.as_deref().unwrap()) <= index_of("Haswell-IBRS"));
    for host in [&skx, &hsw] {
        let result = map().compare(host, &base).unwrap();
        assert!(
            matches!(result, CpuCompare::Identical | CpuCompare::Superset),
            "{host:?}: {result:?}"
        );
    }
    assert_eq!(map().compare(&hsw, &base).unwrap(), CpuCompare::Identical);
    assert_eq!(map().compare(&skx, &base).unwrap(), CpuCompare::Superset);
    // Order of the inputs does not matter here.
    assert_eq!(map().baseline(&[hsw, skx]).unwrap(), base);
}

#[test]
fn baseline_lists_common_extras_as_required() {
    let a = host_like("Intel", "Haswell-noTSX").with_required(["ds", "acpi", "abm"]);
    let b = host_like("Intel", "Broadwell-noTSX").with_required(["ds", "abm", "ht"]);
    let base = map().baseline(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(
        base,
        CpuDef::named("Haswell-noTSX")
            .with_vendor("Intel")
            .with_required(["abm", "ds"])
    );
    for host in [&a, &b] {
        assert!(map().compare(host, &base).unwrap().is_compatible());
    }
}

#[test]
fn baseline_keeps_a_shared_model_name_and_disables_what_one_cpu_lacks() {
    // Both CPUs say Skylake-Client-IBRS, one without spec-ctrl: libvirt keeps the model
    // everybody named and disables the feature rather than falling back to Skylake-Client.
    let a = CpuDef::named("Skylake-Client-IBRS").with_vendor("Intel");
    let b = a.clone().with_disabled(["spec-ctrl"]);
    let base = map().baseline(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(
        base,
        CpuDef::named("Skylake-Client-IBRS")
            .with_vendor("Intel")
            .with_disabled(["spec-ctrl"])
    );
    assert!(map().compare(&b, &base).unwrap().is_compatible());
}

#[test]
fn baseline_prefers_few_required_features_over_disabled_ones() {
    // Common set = Skylake-Client minus rtm: Skylake-Client with rtm disabled costs 2, while
    // the best model that fits (Broadwell-noTSX) would need several extra features.
    let a = CpuDef::named("Skylake-Client").with_vendor("Intel");
    let b = CpuDef::named("Skylake-Client-IBRS")
        .with_vendor("Intel")
        .with_disabled(["rtm"]);
    let base = map().baseline(&[a, b]).unwrap();
    assert_eq!(base.model.as_deref(), Some("Skylake-Client"));
    assert_eq!(base.disable, set(&["rtm"]));
    assert!(base.require.is_empty());
}

#[test]
fn baseline_lists_features_qemu_removed_from_the_model_as_disabled() {
    let a = host_like("AMD", "EPYC");
    let b = host_like("AMD", "EPYC-Rome");
    let base = map().baseline(&[a, b]).unwrap();
    assert_eq!(base.model.as_deref(), Some("EPYC"));
    assert!(base.disable.contains("monitor"), "{base:?}");
    // A host that really has `monitor` keeps it as a required feature instead.
    let m1 = host_like("AMD", "EPYC").with_required(["monitor"]);
    let m2 = m1.clone();
    let base = map().baseline(&[m1, m2]).unwrap();
    assert!(base.require.contains("monitor") && !base.disable.contains("monitor"));
}

#[test]
fn baseline_errors() {
    let intel = host_like("Intel", "Haswell");
    let amd = host_like("AMD", "EPYC");
    let err = map().baseline(&[intel.clone(), amd]).unwrap_err();
    assert_eq!(err, CpuError::VendorsDoNotMatch);
    assert_eq!(err.to_string(), "CPU vendors do not match");
    assert_eq!(map().baseline(&[]), Err(CpuError::NoCpus));
    let liar = CpuDef::named("EPYC").with_vendor("Intel");
    let err = map().baseline(&[intel, liar]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CPU vendor AMD of model EPYC differs from vendor Intel"
    );
    let disjoint = [
        CpuDef::default().with_required(["fpu"]),
        CpuDef::default().with_required(["sse2"]),
    ];
    assert_eq!(map().baseline(&disjoint), Err(CpuError::NothingInCommon));
}

#[test]
fn baseline_vendor_is_printed_only_if_every_cpu_states_it() {
    let a = CpuDef::named("Haswell-noTSX").with_vendor("Intel");
    let b = CpuDef::named("Haswell-noTSX");
    let base = map().baseline(&[a, b]).unwrap();
    assert_eq!(base.model.as_deref(), Some("Haswell-noTSX"));
    assert_eq!(base.vendor, None);
}

// ---------------------------------------------------------------- XML

const CAPS_A: &str = "<?xml version='1.0' encoding='UTF-8'?>
<capabilities>
  <host>
    <uuid>4c4c4544-0044-4810-8052-b4c04f4e4b32</uuid>
    <cpu>
      <arch>x86_64</arch>
      <model>Skylake-Client-noTSX-IBRS</model>
      <vendor>Intel</vendor>
      <microcode version='236'/>
      <signature family='6' model='142' stepping='12'/>
      <topology sockets='1' dies='1' cores='4' threads='2'/>
      <feature name='ds'/>
      <feature name='acpi'/>
      <feature name='ss'/>
      <pages unit='KiB' size='4'/>
    </cpu>
    <migration_features><live/></migration_features>
  </host>
  <guest><os_type>hvm</os_type><arch name='x86_64'><machine>pc-q35-7.1</machine></arch></guest>
</capabilities>
";

const CAPS_B: &str = "<capabilities>
  <host>
    <cpu>
      <arch>x86_64</arch>
      <model>Haswell-noTSX-IBRS</model>
      <vendor>Intel</vendor>
      <feature name='ds'/>
      <feature name='abm'/>
    </cpu>
  </host>
</capabilities>
";

#[test]
fn concatenated_capabilities_give_one_cpu_per_host() {
    let text = format!("{CAPS_A}{CAPS_B}");
    let cpus = parse_cpu_xml(&text).unwrap();
    assert_eq!(
        cpus,
        [
            CpuDef::named("Skylake-Client-noTSX-IBRS")
                .with_vendor("Intel")
                .with_required(["ds", "acpi", "ss"]),
            CpuDef::named("Haswell-noTSX-IBRS")
                .with_vendor("Intel")
                .with_required(["ds", "abm"]),
        ]
    );
    // ... and `virsh cpu-baseline caps.xml` of those two.
    let base = map().baseline(&cpus).unwrap();
    for cpu in &cpus {
        assert!(map().compare(cpu, &base).unwrap().is_compatible());
    }
    assert!(base.require.contains("ds"));
}

#[test]
fn parses_bare_cpu_domain_and_domain_capabilities() {
    let text = "<cpu match='exact'><model fallback='allow'> Haswell </model>\
                <feature policy='require' name='abm'/><feature policy='force' name='ds'/>\
                <feature policy='disable' name='hle'/><feature policy='forbid' name='rtm'/>\
                <feature policy='optional' name='ss'/></cpu>
<domain type='kvm'><name>vm1</name>
  <cpu mode='host-passthrough' check='none'/>
</domain>
<domainCapabilities><cpu>
  <mode name='host-passthrough' supported='yes'/>
  <mode name='host-model' supported='yes'>
    <model fallback='forbid'>Icelake-Server</model><vendor>Intel</vendor>
    <feature policy='require' name='ss'/><feature policy='disable' name='rtm'/>
  </mode>
</cpu></domainCapabilities>";
    let cpus = parse_cpu_xml(text).unwrap();
    assert_eq!(
        cpus,
        [
            CpuDef::named("Haswell")
                .with_required(["abm", "ds"])
                .with_disabled(["hle", "rtm"]),
            CpuDef::default(),
            CpuDef::named("Icelake-Server")
                .with_vendor("Intel")
                .with_required(["ss"])
                .with_disabled(["rtm"]),
        ]
    );
}

#[test]
fn host_xml_looks_like_capabilities_and_round_trips() {
    let host = CpuDef::named("Skylake-Client-noTSX-IBRS")
        .with_vendor("Intel")
        .with_required(["ss", "ds", "acpi"]);
    let xml = host_cpu_xml(&host, 2);
    assert_eq!(
        xml,
        "  <cpu>
    <arch>x86_64</arch>
    <model>Skylake-Client-noTSX-IBRS</model>
    <vendor>Intel</vendor>
    <feature name='ds'/>
    <feature name='acpi'/>
    <feature name='ss'/>
  </cpu>
"
    );
    assert_eq!(parse_cpu_xml(&xml).unwrap(), [host]);
}

#[test]
fn guest_xml_looks_like_a_domain_cpu_and_round_trips() {
    let guest = CpuDef::named("Haswell")
        .with_vendor("Intel")
        .with_required(["abm", "pdpe1gb"])
        .with_disabled(["rtm", "hle"]);
    let xml = guest_cpu_xml(&guest, 0);
    assert_eq!(
        xml,
        "<cpu mode='custom' match='exact' check='partial'>
  <model fallback='forbid'>Haswell</model>
  <vendor>Intel</vendor>
  <feature policy='require' name='pdpe1gb'/>
  <feature policy='require' name='abm'/>
  <feature policy='disable' name='hle'/>
  <feature policy='disable' name='rtm'/>
</cpu>
"
    );
    assert_eq!(parse_cpu_xml(&xml).unwrap(), std::slice::from_ref(&guest));
    // Wrapped in a domain, as `virsh dumpxml` would show it.
    let domain = format!(
        "<domain type='kvm'>\n{}</domain>\n",
        guest_cpu_xml(&guest, 2)
    );
    assert_eq!(parse_cpu_xml(&domain).unwrap(), [guest]);
}

#[test]
fn xml_errors_carry_the_line() {
    let bad_policy =
        "<cpu>\n  <model>Haswell</model>\n  <feature policy='maybe' name='abm'/>\n</cpu>";
    let err = parse_cpu_xml(bad_policy).unwrap_err();
    assert!(
        matches!(
            err,
            CpuError::Xml {
                line: 3,
                column: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("'maybe'") && err.to_string().contains("abm"));

    let malformed = "<cpu>\n  <model>Haswell</model>\n  <vendor>Intel</model>\n</cpu>";
    let err = parse_cpu_xml(malformed).unwrap_err();
    let CpuError::Xml { line, message, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*line, 3, "{err}");
    assert!(
        !message.contains(" at "),
        "position is not repeated: {message}"
    );

    let nameless = "<cpu><feature policy='require'/></cpu>";
    assert!(matches!(
        parse_cpu_xml(nameless),
        Err(CpuError::Xml { line: 1, .. })
    ));
    assert_eq!(parse_cpu_xml("<network/>"), Err(CpuError::NoCpu));
}

// ---------------------------------------------------------------- loading other maps

const MINI_INDEX: &str = "<cpus><arch name='x86'>
  <include filename='v.xml'/><include filename='f.xml'/><include filename='m.xml'/>
</arch></cpus>";
const MINI_VENDORS: &str = "<cpus><vendor name='Intel' string='GenuineIntel'/></cpus>";
const MINI_FEATURES: &str = "<cpus>
  <feature name='fpu'><cpuid eax_in='0x01' edx='0x00000001'/></feature>
  <feature name='sse'><cpuid eax_in='0x01' edx='0x02000000'/></feature>
  <feature name='pni'><alias name='sse3' source='qemu'/><cpuid eax_in='0x01' ecx='0x00000001'/></feature>
  <feature name='avx'><cpuid eax_in='0x01' ecx='0x10000000'/></feature>
</cpus>";

fn mini_map(models: &str) -> Result<CpuMap, CpuError> {
    CpuMap::from_xml(
        "x86",
        MINI_INDEX,
        &[
            ("v.xml", MINI_VENDORS),
            ("f.xml", MINI_FEATURES),
            ("m.xml", models),
        ],
    )
}

#[test]
fn models_inherit_from_an_ancestor_model() {
    let map = mini_map(
        "<cpus>
  <model name='Base'><decode host='on' guest='on'/><signature family='6' model='1'/>
    <vendor name='Intel'/><feature name='fpu'/><feature name='sse'/></model>
  <model name='Next'><decode host='on' guest='off'/><model name='Base'/>
    <feature name='pni' added='yes'/><feature name='sse' policy='disable'/>
    <feature name='avx' removed='yes'/></model>
</cpus>",
    )
    .unwrap();
    let next = map.model("Next").unwrap();
    assert_eq!(next.vendor.as_deref(), Some("Intel"));
    assert_eq!(
        next.signatures,
        [CpuSignature {
            family: 6,
            model: 1
        }]
    );
    assert_eq!(next.features, set(&["fpu", "pni"]));
    assert_eq!(next.removed, set(&["avx"]));
    assert!(next.decode_host && !next.decode_guest);
    assert_eq!(map.canonical_feature("sse3"), Some("pni"));
}

#[test]
fn broken_maps_are_errors_naming_file_line_and_culprit() {
    let err = mini_map(
        "<cpus>\n  <model name='X'>\n    <decode host='on' guest='on'/>\n    <feature name='warp'/>\n  </model>\n</cpus>",
    )
    .unwrap_err();
    assert_eq!(
        err,
        CpuError::Map {
            file: "m.xml".to_owned(),
            line: 4,
            message: "Feature warp required by CPU model X not found".to_owned(),
        }
    );
    assert_eq!(
        err.to_string(),
        "CPU map m.xml:4: Feature warp required by CPU model X not found"
    );
    let err = mini_map("<cpus><model name='Y'><model name='Nope'/></model></cpus>").unwrap_err();
    assert!(
        err.to_string()
            .contains("Ancestor model Nope not found for CPU model Y")
    );
    let err = mini_map("<cpus><model name='Z'><vendor name='Cyrix'/></model></cpus>").unwrap_err();
    assert!(err.to_string().contains("Unknown vendor Cyrix"));
    let err = mini_map("<cpus><model name='A'/><model name='A'/></cpus>").unwrap_err();
    assert!(
        err.to_string()
            .contains("Multiple definitions of CPU model 'A'")
    );
    let err = mini_map("<cpus><model name='A'>").unwrap_err();
    assert!(
        matches!(err, CpuError::Map { ref file, .. } if file == "m.xml"),
        "{err:?}"
    );
    let err = CpuMap::from_xml("x86", MINI_INDEX, &[("v.xml", MINI_VENDORS)]).unwrap_err();
    assert!(err.to_string().contains("f.xml is not embedded"), "{err}");
}
