//! libvirt `<cpu>` XML: rendering host and guest CPUs, and reading them back from whatever
//! `virsh cpu-compare` / `cpu-baseline` accept.

use std::fmt::Write as _;

use roxmltree::{Document, Node};

use super::{CpuDef, CpuError, CpuMap};

/// Name of the element wrapped around the input so that several documents can be parsed at once
/// (libvirt's virsh uses `<container>` the same way).
const ROOT: &str = "migralab-cpu-container";

/// A host CPU as in `virsh capabilities` (`<host><cpu>`), each line prefixed by `indent` spaces:
///
/// ```text
/// <cpu>
///   <arch>x86_64</arch>
///   <model>Skylake-Client-noTSX-IBRS</model>
///   <vendor>Intel</vendor>
///   <feature name='ds'/>
/// </cpu>
/// ```
///
/// Features are listed in libvirt's order (`x86_features.xml`). The real output also has
/// `<microcode>`, `<signature>`, `<counter>`, `<topology>` and `<pages>`, which a [`CpuDef`] does
/// not carry. Disabled features (never present in real capabilities) are written with
/// `policy='disable'` so that [`parse_cpu_xml`] reads back the same definition.
pub fn host_cpu_xml(cpu: &CpuDef, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}<cpu>\n{pad}  <arch>x86_64</arch>\n");
    if let Some(model) = &cpu.model {
        let _ = writeln!(out, "{pad}  <model>{}</model>", escape(model));
    }
    if let Some(vendor) = &cpu.vendor {
        let _ = writeln!(out, "{pad}  <vendor>{}</vendor>", escape(vendor));
    }
    for f in ordered(&cpu.require) {
        let _ = writeln!(out, "{pad}  <feature name='{}'/>", escape(&f));
    }
    for f in ordered(&cpu.disable) {
        let _ = writeln!(
            out,
            "{pad}  <feature policy='disable' name='{}'/>",
            escape(&f)
        );
    }
    let _ = writeln!(out, "{pad}</cpu>");
    out
}

/// A guest CPU as in a domain XML (`virsh dumpxml`) or `virsh cpu-baseline` output, each line
/// prefixed by `indent` spaces:
///
/// ```text
/// <cpu mode='custom' match='exact' check='partial'>
///   <model fallback='forbid'>Haswell-noTSX</model>
///   <vendor>Intel</vendor>
///   <feature policy='require' name='abm'/>
///   <feature policy='disable' name='hle'/>
/// </cpu>
/// ```
///
/// Required features come first, then disabled ones, each in libvirt's order. libvirt writes
/// `fallback='allow'` for models a user typed without `fallback`; this always writes `forbid`.
pub fn guest_cpu_xml(cpu: &CpuDef, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}<cpu mode='custom' match='exact' check='partial'>\n");
    if let Some(model) = &cpu.model {
        let _ = writeln!(
            out,
            "{pad}  <model fallback='forbid'>{}</model>",
            escape(model)
        );
    }
    if let Some(vendor) = &cpu.vendor {
        let _ = writeln!(out, "{pad}  <vendor>{}</vendor>", escape(vendor));
    }
    for f in ordered(&cpu.require) {
        let _ = writeln!(
            out,
            "{pad}  <feature policy='require' name='{}'/>",
            escape(&f)
        );
    }
    for f in ordered(&cpu.disable) {
        let _ = writeln!(
            out,
            "{pad}  <feature policy='disable' name='{}'/>",
            escape(&f)
        );
    }
    let _ = writeln!(out, "{pad}</cpu>");
    out
}

/// Every CPU definition in `text`, in document order. Accepts what `virsh cpu-compare` and
/// `virsh cpu-baseline FILE` accept, also several documents one after the other (e.g.
/// concatenated `virsh capabilities` outputs of all hosts):
/// - a bare `<cpu>` element;
/// - a domain XML (`<domain><cpu>`);
/// - host capabilities (`<capabilities><host><cpu>`);
/// - domain capabilities (`<domainCapabilities><cpu><mode name='host-model' supported='yes'>`).
///
/// XML declarations (`<?xml ...?>`) anywhere are ignored. A `<feature>` without `policy` or with
/// `require`/`force` is required, `disable`/`forbid` is disabled, `optional` is ignored.
///
/// # Errors
/// [`CpuError::Xml`] with the line and column for malformed XML or an invalid `<feature>`;
/// [`CpuError::NoCpu`] if no CPU definition is found.
pub fn parse_cpu_xml(text: &str) -> Result<Vec<CpuDef>, CpuError> {
    // The container starts on its own line so that line numbers stay those of `text`.
    let wrapped = format!("<{ROOT}>\n{}\n</{ROOT}>", blank_declarations(text));
    let doc = Document::parse(&wrapped).map_err(|e| {
        let pos = e.pos();
        let message = e.to_string().replace(&format!(" at {pos}"), "");
        CpuError::Xml {
            line: pos.row.saturating_sub(1).max(1),
            column: pos.col,
            message,
        }
    })?;
    let mut cpus = Vec::new();
    for top in doc.root_element().children().filter(Node::is_element) {
        match top.tag_name().name() {
            "cpu" => cpus.push(parse_cpu_element(&doc, top)?),
            "domain" => {
                for cpu in top.children().filter(|n| n.has_tag_name("cpu")) {
                    cpus.push(parse_cpu_element(&doc, cpu)?);
                }
            }
            "capabilities" => {
                for host in top.children().filter(|n| n.has_tag_name("host")) {
                    for cpu in host.children().filter(|n| n.has_tag_name("cpu")) {
                        cpus.push(parse_cpu_element(&doc, cpu)?);
                    }
                }
            }
            "domainCapabilities" => {
                for cpu in top.children().filter(|n| n.has_tag_name("cpu")) {
                    for mode in cpu.children().filter(|n| {
                        n.has_tag_name("mode")
                            && n.attribute("name") == Some("host-model")
                            && n.attribute("supported") == Some("yes")
                    }) {
                        cpus.push(parse_cpu_element(&doc, mode)?);
                    }
                }
            }
            _ => {}
        }
    }
    if cpus.is_empty() {
        return Err(CpuError::NoCpu);
    }
    Ok(cpus)
}

fn parse_cpu_element(doc: &Document<'_>, cpu: Node<'_, '_>) -> Result<CpuDef, CpuError> {
    let mut def = CpuDef::default();
    for child in cpu.children().filter(Node::is_element) {
        match child.tag_name().name() {
            "model" => def.model = element_text(child),
            "vendor" => def.vendor = element_text(child),
            "feature" => {
                let name = child
                    .attribute("name")
                    .ok_or_else(|| xml_error(doc, child, "<feature> without a name".to_owned()))?;
                match child.attribute("policy") {
                    None | Some("require" | "force") => {
                        def.require.insert(name.to_owned());
                    }
                    Some("disable" | "forbid") => {
                        def.disable.insert(name.to_owned());
                    }
                    Some("optional") => {}
                    Some(other) => {
                        return Err(xml_error(
                            doc,
                            child,
                            format!("Invalid CPU feature policy '{other}' for feature {name}"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(def)
}

fn element_text(node: Node<'_, '_>) -> Option<String> {
    node.text()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn xml_error(doc: &Document<'_>, node: Node<'_, '_>, message: String) -> CpuError {
    let pos = doc.text_pos_at(node.range().start);
    CpuError::Xml {
        line: pos.row.saturating_sub(1).max(1),
        column: pos.col,
        message,
    }
}

/// `text` with every `<?xml ...?>` declaration replaced by spaces (newlines kept), so that
/// concatenated documents parse and positions do not move.
fn blank_declarations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<?xml") {
        let Some(len) = rest[start..].find("?>") else {
            break;
        };
        let end = start + len + 2;
        out.push_str(&rest[..start]);
        out.extend(
            rest[start..end]
                .chars()
                .map(|c| if c == '\n' { '\n' } else { ' ' }),
        );
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Feature names in libvirt's order; alphabetical if the embedded map is unavailable (it is
/// checked by the tests, so that fallback is theoretical).
fn ordered(features: &std::collections::BTreeSet<String>) -> Vec<String> {
    match CpuMap::x86() {
        Ok(map) => map.in_map_order(features),
        Err(_) => features.iter().cloned().collect(),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
