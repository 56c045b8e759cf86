//! Loading a libvirt CPU map (`index.xml` + `x86_*.xml`) into [`CpuMap`].
//!
//! The loader follows libvirt's `cpu_x86.c` (`x86VendorParse`, `x86FeatureParse`,
//! `x86ModelParse`): files are read in `index.xml` include order, a model may start from an
//! earlier model (`<model name='X'/>` inside it), features marked `removed='yes'` are not part of
//! the model, and anything the map refers to must be defined before it is used.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use roxmltree::{Document, Node};

use super::{CpuError, data};

/// A CPU vendor from `x86_vendors.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CpuVendor {
    /// libvirt's name for it: `Intel`, `AMD`, `Hygon`.
    pub name: String,
    /// The CPUID vendor string (`GenuineIntel`).
    pub cpuid_string: String,
}

/// A CPU feature from `x86_features.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CpuFeature {
    /// libvirt's name (`pni`, `sse4.2`, `avx512f`).
    pub name: String,
    /// Other spellings the map records (`sse3` for `pni`, `sse4_2` for `sse4.2`), from QEMU or
    /// Linux `/proc/cpuinfo`.
    pub aliases: Vec<String>,
    /// `false` for features that block migration (`invtsc`, `xsaves` in 9.0.0).
    pub migratable: bool,
}

/// A family/model pair a CPU model is meant for (`<signature family='6' model='60'/>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct CpuSignature {
    /// CPUID family (6 for most Intel cores, 23 for AMD Zen 1/2).
    pub family: u32,
    /// CPUID model within the family.
    pub model: u32,
}

/// A named CPU model (`Haswell-noTSX`, `EPYC-Rome`, `qemu64`), fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CpuModel {
    /// The model name as used in `<model>`.
    pub name: String,
    /// The vendor the model belongs to; `None` for QEMU's generic models (`qemu64`, `kvm64`).
    pub vendor: Option<String>,
    /// Every feature the model provides, including those inherited from an ancestor model and
    /// excluding those marked `removed='yes'`.
    pub features: BTreeSet<String>,
    /// Features QEMU dropped from its version of the model (`removed='yes'`). libvirt lists them
    /// as disabled when it computes a guest CPU (e.g. a baseline) with this model.
    pub removed: BTreeSet<String>,
    /// The CPU signatures this model was made for.
    pub signatures: Vec<CpuSignature>,
    /// `<decode host=...>`: may libvirt name a host CPU after this model?
    pub decode_host: bool,
    /// `<decode guest=...>`: may libvirt pick this model for a computed guest CPU (baseline)?
    pub decode_guest: bool,
}

/// libvirt's CPU map for one architecture: vendors, features and models in `index.xml` order.
///
/// Get the embedded x86 map of libvirt 9.0.0 with [`CpuMap::x86`]; [`CpuMap::from_xml`] loads
/// any other release's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuMap {
    vendors: Vec<CpuVendor>,
    features: Vec<CpuFeature>,
    /// Feature name *and* alias → index into `features`.
    feature_index: BTreeMap<String, usize>,
    models: Vec<CpuModel>,
    model_index: BTreeMap<String, usize>,
}

static X86: OnceLock<Result<CpuMap, CpuError>> = OnceLock::new();

impl CpuMap {
    /// The x86 CPU map of libvirt 9.0.0 embedded in this crate, parsed on first use.
    ///
    /// # Errors
    /// A [`CpuError::Map`] if the embedded files are broken (a unit test makes sure they are not).
    pub fn x86() -> Result<&'static CpuMap, CpuError> {
        X86.get_or_init(|| CpuMap::from_xml("x86", data::INDEX_XML, data::X86_FILES))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Loads the part of a libvirt CPU map that `index.xml` lists for `arch` (`"x86"`), taking
    /// each included file's text from `files` (`(file name, contents)`).
    ///
    /// Maps older than libvirt 8.x have no `<decode>` element; such models are treated as
    /// `host='on' guest='on'`.
    ///
    /// # Errors
    /// A [`CpuError::Map`] naming the file and line of the first problem: malformed XML, a
    /// missing file, an unknown vendor or feature, a duplicate or an unknown ancestor model.
    pub fn from_xml(
        arch: &str,
        index_xml: &str,
        files: &[(&str, &str)],
    ) -> Result<CpuMap, CpuError> {
        let mut map = CpuMap {
            vendors: Vec::new(),
            features: Vec::new(),
            feature_index: BTreeMap::new(),
            models: Vec::new(),
            model_index: BTreeMap::new(),
        };
        let index = parse_doc("index.xml", index_xml)?;
        let arch_node = index
            .root_element()
            .children()
            .find(|n| n.has_tag_name("arch") && n.attribute("name") == Some(arch))
            .ok_or_else(|| map_error("index.xml", 1, format!("no <arch name='{arch}'> element")))?;
        for include in arch_node.children().filter(|n| n.has_tag_name("include")) {
            let line = line_of(&index, include);
            let name = include.attribute("filename").ok_or_else(|| {
                map_error("index.xml", line, "<include> without filename".to_owned())
            })?;
            let text = files
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, text)| *text)
                .ok_or_else(|| {
                    map_error(
                        "index.xml",
                        line,
                        format!("included file {name} is not embedded"),
                    )
                })?;
            map.load_file(name, text)?;
        }
        Ok(map)
    }

    fn load_file(&mut self, file: &str, text: &str) -> Result<(), CpuError> {
        let doc = parse_doc(file, text)?;
        for node in doc.root_element().children().filter(Node::is_element) {
            let line = line_of(&doc, node);
            match node.tag_name().name() {
                "vendor" => self
                    .load_vendor(node)
                    .map_err(|m| map_error(file, line, m))?,
                "feature" => self
                    .load_feature(node)
                    .map_err(|m| map_error(file, line, m))?,
                "model" => self.load_model(&doc, file, node)?,
                // libvirt ignores what it does not know; so do we.
                _ => {}
            }
        }
        Ok(())
    }

    fn load_vendor(&mut self, node: Node<'_, '_>) -> Result<(), String> {
        let name = required_attr(node, "name", "CPU vendor")?;
        if self.vendor(name).is_some() {
            return Err(format!("CPU vendor {name} already defined"));
        }
        let string = node
            .attribute("string")
            .ok_or_else(|| format!("Missing vendor string for CPU vendor {name}"))?;
        if string.len() != 12 {
            return Err(format!("Invalid CPU vendor string '{string}'"));
        }
        self.vendors.push(CpuVendor {
            name: name.to_owned(),
            cpuid_string: string.to_owned(),
        });
        Ok(())
    }

    fn load_feature(&mut self, node: Node<'_, '_>) -> Result<(), String> {
        let name = required_attr(node, "name", "CPU feature")?;
        if self.has_exact_feature(name) {
            return Err(format!("CPU feature {name} already defined"));
        }
        let aliases: Vec<String> = node
            .children()
            .filter(|n| n.has_tag_name("alias"))
            .filter_map(|n| n.attribute("name"))
            .map(str::to_owned)
            .collect();
        let idx = self.features.len();
        // A real name always wins over an alias that happens to spell the same.
        self.feature_index.insert(name.to_owned(), idx);
        for alias in &aliases {
            self.feature_index.entry(alias.clone()).or_insert(idx);
        }
        self.features.push(CpuFeature {
            name: name.to_owned(),
            aliases,
            migratable: node.attribute("migratable") != Some("no"),
        });
        Ok(())
    }

    fn load_model(
        &mut self,
        doc: &Document<'_>,
        file: &str,
        node: Node<'_, '_>,
    ) -> Result<(), CpuError> {
        let err = |n: Node<'_, '_>, message: String| map_error(file, line_of(doc, n), message);
        let name = required_attr(node, "name", "CPU model").map_err(|m| err(node, m))?;
        if self.model_index.contains_key(name) {
            return Err(err(
                node,
                format!("Multiple definitions of CPU model '{name}'"),
            ));
        }
        let mut model = CpuModel {
            name: name.to_owned(),
            vendor: None,
            features: BTreeSet::new(),
            removed: BTreeSet::new(),
            signatures: Vec::new(),
            decode_host: true,
            decode_guest: true,
        };
        let children: Vec<Node<'_, '_>> = node.children().filter(Node::is_element).collect();

        if let Some(decode) = children.iter().find(|n| n.has_tag_name("decode")) {
            model.decode_host = on_off(*decode, "host", name).map_err(|m| err(*decode, m))?;
            model.decode_guest = on_off(*decode, "guest", name).map_err(|m| err(*decode, m))?;
        }
        if let Some(ancestor) = children.iter().find(|n| n.has_tag_name("model")) {
            let parent = ancestor.attribute("name").ok_or_else(|| {
                err(
                    *ancestor,
                    format!("Missing ancestor's name in CPU model {name}"),
                )
            })?;
            let parent = self.model(parent).ok_or_else(|| {
                err(
                    *ancestor,
                    format!("Ancestor model {parent} not found for CPU model {name}"),
                )
            })?;
            model.vendor.clone_from(&parent.vendor);
            model.signatures.clone_from(&parent.signatures);
            model.features.clone_from(&parent.features);
        }
        let signatures: Vec<&Node<'_, '_>> = children
            .iter()
            .filter(|n| n.has_tag_name("signature"))
            .collect();
        if !signatures.is_empty() {
            model.signatures.clear();
            for sig in signatures {
                let family = sig.attribute("family").and_then(|v| v.parse::<u32>().ok());
                let Some(family) = family.filter(|f| *f != 0) else {
                    return Err(err(
                        *sig,
                        format!("Invalid CPU signature family in model {name}"),
                    ));
                };
                let Some(sig_model) = sig.attribute("model").and_then(|v| v.parse::<u32>().ok())
                else {
                    return Err(err(
                        *sig,
                        format!("Invalid CPU signature model in model {name}"),
                    ));
                };
                model.signatures.push(CpuSignature {
                    family,
                    model: sig_model,
                });
            }
        }
        if let Some(vendor) = children.iter().find(|n| n.has_tag_name("vendor")) {
            let vname = vendor.attribute("name").ok_or_else(|| {
                err(
                    *vendor,
                    format!("Invalid vendor element in CPU model {name}"),
                )
            })?;
            if self.vendor(vname).is_none() {
                return Err(err(
                    *vendor,
                    format!("Unknown vendor {vname} referenced by CPU model {name}"),
                ));
            }
            model.vendor = Some(vname.to_owned());
        }
        for feature in children.iter().filter(|n| n.has_tag_name("feature")) {
            let fname = feature.attribute("name").ok_or_else(|| {
                err(
                    *feature,
                    format!("Missing feature name for CPU model {name}"),
                )
            })?;
            // Exact names only: libvirt does not resolve aliases inside the map.
            if !self.has_exact_feature(fname) {
                return Err(err(
                    *feature,
                    format!("Feature {fname} required by CPU model {name} not found"),
                ));
            }
            if feature.attribute("removed") == Some("yes") {
                model.removed.insert(fname.to_owned());
            } else if feature.attribute("policy") == Some("disable") {
                // Not used by libvirt 9.0.0's files; lets a model drop an inherited feature.
                model.features.remove(fname);
            } else {
                model.features.insert(fname.to_owned());
            }
        }
        self.model_index
            .insert(model.name.clone(), self.models.len());
        self.models.push(model);
        Ok(())
    }

    /// Whether `name` is a feature's own name (not an alias).
    fn has_exact_feature(&self, name: &str) -> bool {
        self.feature(name).is_some_and(|f| f.name == name)
    }

    /// The model called `name` (exact, case-sensitive, as libvirt matches it).
    pub fn model(&self, name: &str) -> Option<&CpuModel> {
        self.model_index.get(name).and_then(|&i| self.models.get(i))
    }

    /// All models in `index.xml` order (oldest first within each vendor group). libvirt walks
    /// this list backwards when it names a CPU, so on a tie the later model wins.
    pub fn models(&self) -> &[CpuModel] {
        &self.models
    }

    /// The vendors in map order.
    pub fn vendors(&self) -> &[CpuVendor] {
        &self.vendors
    }

    /// The vendor called `name` (`Intel`, `AMD`, `Hygon`).
    pub fn vendor(&self, name: &str) -> Option<&CpuVendor> {
        self.vendors.iter().find(|v| v.name == name)
    }

    /// All features in `x86_features.xml` order, which is the order libvirt lists them in.
    pub fn features(&self) -> &[CpuFeature] {
        &self.features
    }

    /// The feature called `name` or spelled `name` by one of its aliases.
    pub fn feature(&self, name: &str) -> Option<&CpuFeature> {
        self.feature_index
            .get(name)
            .and_then(|&i| self.features.get(i))
    }

    /// Whether `name` is a feature libvirt knows, by its name or one of its aliases.
    pub fn is_feature(&self, name: &str) -> bool {
        self.feature_index.contains_key(name)
    }

    /// libvirt's name for a feature given by name or alias (`sse4_2` → `sse4.2`).
    pub fn canonical_feature(&self, name: &str) -> Option<&str> {
        self.feature(name).map(|f| f.name.as_str())
    }

    /// Position of a feature in `x86_features.xml`, used to list features the way libvirt does.
    /// Unknown names sort after all known ones.
    pub(super) fn feature_rank(&self, name: &str) -> usize {
        self.feature_index.get(name).copied().unwrap_or(usize::MAX)
    }

    /// `names` in libvirt's listing order: `x86_features.xml` order, unknown names last (by
    /// name). libvirt prints feature lists — missing features, a host's extra features, a
    /// baseline's required features — in this order, not alphabetically.
    pub fn in_map_order<I, S>(&self, names: I) -> Vec<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out: Vec<String> = names.into_iter().map(|s| s.as_ref().to_owned()).collect();
        out.sort_by(|a, b| {
            self.feature_rank(a)
                .cmp(&self.feature_rank(b))
                .then_with(|| a.cmp(b))
        });
        out.dedup();
        out
    }
}

fn parse_doc<'a>(file: &str, text: &'a str) -> Result<Document<'a>, CpuError> {
    Document::parse(text).map_err(|e| {
        let pos = e.pos();
        map_error(file, pos.row, e.to_string())
    })
}

fn line_of(doc: &Document<'_>, node: Node<'_, '_>) -> u32 {
    doc.text_pos_at(node.range().start).row
}

fn map_error(file: &str, line: u32, message: String) -> CpuError {
    CpuError::Map {
        file: file.to_owned(),
        line,
        message,
    }
}

fn required_attr<'a>(node: Node<'a, '_>, attr: &str, what: &str) -> Result<&'a str, String> {
    node.attribute(attr)
        .ok_or_else(|| format!("{what} without a {attr} attribute"))
}

fn on_off(node: Node<'_, '_>, attr: &str, model: &str) -> Result<bool, String> {
    match node.attribute(attr) {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(other) => Err(format!(
            "Invalid value '{other}' of decode/@{attr} in CPU model {model}"
        )),
        None => Err(format!("Missing decode/@{attr} in CPU model {model}")),
    }
}
