//! XMP: the top-level properties of a packet's `rdf:Description` elements,
//! listed, removed, rewritten and added, with the rest of the packet copied
//! event for event, less the fields inside properties (and elsewhere) that
//! an edit refuses.
//!
//! Properties are named by a canonical prefix (`exif`, `dc`, `photoshop`...)
//! found from their namespace URI, so a packet that binds `dc` to another
//! prefix is still understood.

use super::iptc::{XmpShape, XmpValue};
use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};
use std::collections::BTreeMap;

/// Namespace URIs and the prefixes policies and reports use for them.
const NAMESPACES: &[(&str, &str)] = &[
    ("http://ns.adobe.com/exif/1.0/", "exif"),
    ("http://cipa.jp/exif/1.0/", "exifEX"),
    ("http://ns.adobe.com/tiff/1.0/", "tiff"),
    ("http://ns.adobe.com/exif/1.0/aux/", "aux"),
    ("http://purl.org/dc/elements/1.1/", "dc"),
    ("http://ns.adobe.com/xap/1.0/", "xmp"),
    ("http://ns.adobe.com/xap/1.0/rights/", "xmpRights"),
    ("http://ns.adobe.com/xap/1.0/mm/", "xmpMM"),
    ("http://ns.adobe.com/photoshop/1.0/", "photoshop"),
    (
        "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
        "Iptc4xmpCore",
    ),
    ("http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "Iptc4xmpExt"),
    (PIXPRESS_NS, "pixpress"),
];
/// The namespace of pixpress's provenance record.
pub(crate) const PIXPRESS_NS: &str = "https://pixpress.dev/ns/provenance/1.0/";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// The namespace URI of a canonical prefix.
fn uri_of(prefix: &str) -> &'static str {
    NAMESPACES
        .iter()
        .find(|(_, p)| *p == prefix)
        .map_or("", |(u, _)| u)
}

/// Whether `prefix` is one of the canonical prefixes pixpress knows.
pub(crate) fn knows_prefix(prefix: &str) -> bool {
    NAMESPACES.iter().any(|(_, p)| *p == prefix)
}

/// Whether `packet` is UTF-8 and well-formed XML with an `x:xmpmeta` or
/// `rdf:RDF` element.
pub(crate) fn is_well_formed(packet: &[u8]) -> bool {
    if std::str::from_utf8(packet).is_err() {
        return false;
    }
    let mut reader = Reader::from_reader(packet);
    reader.config_mut().check_end_names = true;
    let (mut depth, mut saw_root) = (0usize, false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                let name = e.local_name();
                saw_root |= name.as_ref() == b"xmpmeta" || name.as_ref() == b"RDF";
            }
            Ok(Event::End(_)) => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Ok(Event::Eof) => return depth == 0 && saw_root,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

/// What to do to a packet.
pub(crate) struct Edit<'a> {
    /// Whether a top-level property `(prefix, name)` stays.
    pub keep: &'a dyn Fn(&str, &str) -> bool,
    /// Whether any other element or attribute `(prefix, name)` stays: a
    /// field of a structure (`exif:GPSLatitude` in `Iptc4xmpExt:LocationCreated`),
    /// of an array item, or outside every `rdf:Description`.
    pub keep_nested: &'a dyn Fn(&str, &str) -> bool,
    /// New values for simple properties that are present.
    pub set: &'a [(&'a str, &'a str, String)],
    /// Properties to add where the packet has none of that name.
    pub add: &'a [XmpValue],
}

/// The result of an edit.
pub(crate) struct Edited {
    /// The new packet; `None` when no property is left.
    pub packet: Option<Vec<u8>>,
    /// `prefix:Name` of each property removed; `prefix:Name/field:Name` for a
    /// field removed from inside a property.
    pub removed: Vec<String>,
    /// `prefix:Name` of each property added.
    pub added: Vec<String>,
}

/// Prefix bindings seen so far: written prefix -> canonical prefix.
#[derive(Default)]
struct Names {
    canonical: BTreeMap<Vec<u8>, String>,
    rdf: Vec<u8>,
}

impl Names {
    fn learn(&mut self, start: &BytesStart) {
        for attr in start.attributes().flatten() {
            let Some(prefix) = attr.key.as_ref().strip_prefix(b"xmlns:") else {
                continue;
            };
            let uri = String::from_utf8_lossy(&attr.value).into_owned();
            if uri == RDF {
                self.rdf = prefix.to_vec();
            }
            let canonical = NAMESPACES.iter().find(|(u, _)| *u == uri).map_or_else(
                || String::from_utf8_lossy(prefix).into_owned(),
                |(_, p)| (*p).to_string(),
            );
            self.canonical.insert(prefix.to_vec(), canonical);
        }
    }

    /// `(canonical prefix, local name)` of a qualified name.
    fn split(&self, qname: &[u8]) -> (String, String) {
        let (prefix, local) = match qname.iter().position(|&b| b == b':') {
            Some(i) => (&qname[..i], &qname[i + 1..]),
            None => (&qname[..0], qname),
        };
        let prefix = self
            .canonical
            .get(prefix)
            .cloned()
            .unwrap_or_else(|| String::from_utf8_lossy(prefix).into_owned());
        (prefix, String::from_utf8_lossy(local).into_owned())
    }

    fn is_rdf(&self, qname: &[u8], local: &[u8]) -> bool {
        let rdf = if self.rdf.is_empty() {
            &b"rdf"[..]
        } else {
            &self.rdf
        };
        qname.len() == rdf.len() + 1 + local.len()
            && qname.starts_with(rdf)
            && qname[rdf.len()] == b':'
            && qname.ends_with(local)
    }
}

/// Whether an attribute of `rdf:Description` is a property (not a namespace
/// declaration, not `rdf:about`, not `xml:lang`).
fn is_property_attribute(key: &[u8], names: &Names) -> bool {
    !(key.starts_with(b"xmlns") || key.starts_with(b"xml:") || names.is_rdf(key, b"about"))
        && key.contains(&b':')
}

/// The top-level properties of a packet, as `(prefix, name)`.
pub(crate) fn properties(packet: &[u8]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut record = |p: &str, n: &str| {
        found.push((p.to_string(), n.to_string()));
        true
    };
    let _ = walk(packet, &mut record, &|_, _| true, &[], &[]);
    found
}

/// Every top-level property with its value as text: simple values as they
/// are, arrays and structures as their leaf texts joined by `; `.
pub(crate) fn values(packet: &[u8]) -> Vec<(String, String, String)> {
    read_values(packet)
        .into_iter()
        .map(|(prefix, name, value, _)| (prefix, name, value))
        .collect()
}

/// The value of each top-level property `prefix:name` of the packet, in
/// the order found: `Some(text)` for a simple value, `None` for one that is
/// not plain text (an array, a structure, a resource, a qualified value).
pub(crate) fn text_values(packet: &[u8], prefix: &str, name: &str) -> Vec<Option<String>> {
    read_values(packet)
        .into_iter()
        .filter(|(p, n, _, _)| p == prefix && n == name)
        .map(|(_, _, value, simple)| simple.then_some(value))
        .collect()
}

/// Whether an element has attributes that make it more than plain text:
/// fields of a structure, `rdf:parseType`, `rdf:resource`.
fn has_property_attributes(start: &BytesStart, names: &Names) -> bool {
    start
        .attributes()
        .with_checks(false)
        .flatten()
        .any(|a| is_property_attribute(a.key.as_ref(), names))
}

/// [`values`], with whether each value is simple text.
fn read_values(packet: &[u8]) -> Vec<(String, String, String, bool)> {
    let mut reader = Reader::from_reader(packet);
    let mut names = Names::default();
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut description: Option<usize> = None;
    // The property being read: (prefix, name, leaf texts, its depth, simple).
    let mut current: Option<(String, String, Vec<String>, usize, bool)> = None;
    // Text of the current leaf (text events and entity references).
    let mut leaf = String::new();
    loop {
        let event = reader.read_event();
        if matches!(event, Ok(Event::Start(_) | Event::Empty(_) | Event::End(_))) {
            if let Some((_, _, texts, _, _)) = current.as_mut() {
                let text = leaf.trim();
                if !text.is_empty() {
                    texts.push(text.to_string());
                }
            }
            leaf.clear();
        }
        let (start, is_empty) = match event {
            Ok(Event::Start(start)) => (start, false),
            Ok(Event::Empty(start)) => (start, true),
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                if description == Some(depth) {
                    description = None;
                }
                if let Some((prefix, name, texts, level, simple)) = current.take() {
                    if level == depth {
                        found.push((prefix, name, texts.join("; "), simple));
                    } else {
                        current = Some((prefix, name, texts, level, simple));
                    }
                }
                continue;
            }
            Ok(Event::Text(text)) => {
                leaf += &text.xml10_content().unwrap_or_default();
                continue;
            }
            Ok(Event::GeneralRef(reference)) => {
                let raw = format!("&{};", String::from_utf8_lossy(&reference.into_inner()));
                leaf += &quick_xml::escape::unescape(&raw).unwrap_or_default();
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        names.learn(&start);
        if description.is_none() && names.is_rdf(start.name().as_ref(), b"Description") {
            for attr in start.attributes().flatten() {
                if is_property_attribute(attr.key.as_ref(), &names) {
                    let (prefix, name) = names.split(attr.key.as_ref());
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    found.push((prefix, name, value, true));
                }
            }
            if !is_empty {
                description = Some(depth);
                depth += 1;
            }
            continue;
        }
        if let Some((_, _, _, _, simple)) = current.as_mut() {
            // An element inside a property: an array, a structure.
            *simple = false;
        }
        if current.is_none() && description.map(|d| d + 1) == Some(depth) {
            let (prefix, name) = names.split(start.name().as_ref());
            let simple = !has_property_attributes(&start, &names);
            if is_empty {
                // A property given as attributes of an empty element (a structure).
                let texts: Vec<String> = start
                    .attributes()
                    .flatten()
                    .filter(|a| is_property_attribute(a.key.as_ref(), &names))
                    .filter_map(|a| {
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .ok()
                            .map(|v| v.into_owned())
                    })
                    .collect();
                found.push((prefix, name, texts.join("; "), simple));
                continue;
            }
            current = Some((prefix, name, Vec::new(), depth, simple));
        }
        if !is_empty {
            depth += 1;
        }
    }
    found
}

/// Applies `edit` to a packet. `None` when the packet is not well-formed XML.
pub(crate) fn edit(packet: &[u8], edit: &Edit) -> Option<Edited> {
    let present = properties(packet);
    let add: Vec<&XmpValue> = edit
        .add
        .iter()
        .filter(|v| !present.iter().any(|(p, n)| *p == v.prefix && *n == v.name))
        .collect();
    let mut removed = Vec::new();
    let mut keep = |p: &str, n: &str| {
        let stays = (edit.keep)(p, n);
        if !stays {
            removed.push(format!("{p}:{n}"));
        }
        stays
    };
    let (out, nested) = walk(packet, &mut keep, edit.keep_nested, edit.set, &add)?;
    let left = present.len().saturating_sub(removed.len()) + add.len();
    for field in nested {
        if !removed.contains(&field) {
            removed.push(field);
        }
    }
    Some(Edited {
        packet: (left > 0).then_some(out),
        removed,
        added: add
            .iter()
            .map(|v| format!("{}:{}", v.prefix, v.name))
            .collect(),
    })
}

/// A new packet holding `values` only.
pub(crate) fn packet_of(values: &[XmpValue]) -> Vec<u8> {
    let mut body = String::new();
    for v in values {
        body += &property_xml(v);
    }
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"{RDF}\">\
         <rdf:Description rdf:about=\"\">{body}</rdf:Description></rdf:RDF></x:xmpmeta>\n\
         <?xpacket end=\"w\"?>"
    )
    .into_bytes()
}

/// One property as an element that declares its own namespace.
fn property_xml(v: &XmpValue) -> String {
    let escape = |s: &str| quick_xml::escape::escape(s).into_owned();
    let (prefix, name, uri) = (&v.prefix, &v.name, uri_of(&v.prefix));
    let items = |lang: &str| {
        v.values
            .iter()
            .map(|s| format!("<rdf:li{lang}>{}</rdf:li>", escape(s)))
            .collect::<String>()
    };
    let inner = match v.shape {
        XmpShape::Text | XmpShape::Date => escape(v.values.first().map_or("", String::as_str)),
        XmpShape::Seq => format!("<rdf:Seq>{}</rdf:Seq>", items("")),
        XmpShape::Bag => format!("<rdf:Bag>{}</rdf:Bag>", items("")),
        XmpShape::Alt => {
            let first = v.values.first().map_or("", String::as_str);
            format!(
                "<rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt>",
                escape(first)
            )
        }
    };
    format!("<{prefix}:{name} xmlns:{prefix}=\"{uri}\">{inner}</{prefix}:{name}>")
}

/// Copies the packet, dropping properties `keep` refuses and any other
/// element or attribute `keep_nested` refuses, setting the values in `set`
/// (the whole content of such a property becomes the new text), and adding
/// `add` at the end of the first `rdf:Description`. Returns the packet and
/// what `keep_nested` removed, as `prefix:Name/field:Name` inside a
/// property, else `field:Name`.
fn walk(
    packet: &[u8],
    keep: &mut dyn FnMut(&str, &str) -> bool,
    keep_nested: &dyn Fn(&str, &str) -> bool,
    set: &[(&str, &str, String)],
    add: &[&XmpValue],
) -> Option<(Vec<u8>, Vec<String>)> {
    let mut reader = Reader::from_reader(packet);
    reader.config_mut().trim_text(false);
    let mut writer = Writer::new(Vec::with_capacity(packet.len()));
    let mut names = Names::default();
    let mut depth = 0usize;
    // Depth inside the rdf:Description being read, if any.
    let mut description: Option<usize> = None;
    // The depth a removed property's subtree ends at: events are dropped until then.
    let mut skip_to: Option<usize> = None;
    // The top-level property being copied: `prefix:Name` and its depth.
    let mut property: Option<(String, usize)> = None;
    let mut nested_removed: Vec<String> = Vec::new();
    let mut added = add.is_empty();
    let additions: String = add.iter().map(|v| property_xml(v)).collect();
    let set_value = |prefix: &str, name: &str| {
        set.iter()
            .find(|(p, n, _)| *p == prefix && *n == name)
            .map(|(_, _, v)| v.clone())
    };
    loop {
        let event = reader.read_event().ok()?;
        if let Some(level) = skip_to {
            match &event {
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    depth -= 1;
                    if depth == level {
                        skip_to = None;
                    }
                }
                Event::Eof => return None,
                _ => {}
            }
            continue;
        }
        let (start, is_empty) = match event {
            Event::Start(start) => (start, false),
            Event::Empty(start) => (start, true),
            Event::End(end) => {
                if description == Some(depth) {
                    description = None;
                    if !added {
                        writer.get_mut().extend_from_slice(additions.as_bytes());
                        added = true;
                    }
                }
                depth = depth.checked_sub(1)?;
                if property.as_ref().is_some_and(|(_, level)| *level == depth) {
                    property = None;
                }
                writer.write_event(Event::End(end)).ok()?;
                continue;
            }
            Event::Eof => break,
            other => {
                writer.write_event(other).ok()?;
                continue;
            }
        };
        names.learn(&start);
        if description.is_none() && names.is_rdf(start.name().as_ref(), b"Description") {
            let rewritten = description_start(&start, &names, keep, &set_value);
            if !is_empty {
                writer.write_event(Event::Start(rewritten)).ok()?;
                depth += 1;
                description = Some(depth);
            } else if !added {
                writer.write_event(Event::Start(rewritten.borrow())).ok()?;
                writer.get_mut().extend_from_slice(additions.as_bytes());
                added = true;
                writer.write_event(Event::End(rewritten.to_end())).ok()?;
            } else {
                writer.write_event(Event::Empty(rewritten)).ok()?;
            }
            continue;
        }
        let (prefix, name) = names.split(start.name().as_ref());
        let label = format!("{prefix}:{name}");
        let top_level = description.is_some() && description == Some(depth);
        let stays = if top_level {
            keep(&prefix, &name)
        } else {
            keep_nested(&prefix, &name)
        };
        if !stays {
            if !top_level {
                nested_removed.push(match &property {
                    Some((outer, _)) => format!("{outer}/{label}"),
                    None => label,
                });
            }
            if !is_empty {
                skip_to = Some(depth);
                depth += 1;
            }
            continue;
        }
        let context = match (top_level, &property) {
            (true, _) => Some(label.as_str()),
            (false, outer) => outer.as_ref().map(|(outer, _)| outer.as_str()),
        };
        let filtered = filter_attributes(&start, &names, keep_nested, context);
        let start: BytesStart = match filtered {
            Some((rebuilt, removed)) => {
                nested_removed.extend(removed);
                rebuilt
            }
            None => start,
        };
        if is_empty {
            writer.write_event(Event::Empty(start)).ok()?;
            continue;
        }
        if let Some(value) = set_value(&prefix, &name).filter(|_| top_level) {
            // The new value replaces all the property held.
            writer.write_event(Event::Start(start.borrow())).ok()?;
            writer
                .write_event(Event::Text(BytesText::new(&value)))
                .ok()?;
            writer.write_event(Event::End(start.to_end())).ok()?;
            skip_to = Some(depth);
            depth += 1;
            continue;
        }
        if top_level {
            property = Some((label, depth));
        }
        depth += 1;
        writer.write_event(Event::Start(start)).ok()?;
    }
    (depth == 0).then(|| (writer.into_inner(), nested_removed))
}

/// `start` without the attributes that are fields `keep` refuses (a
/// structure's fields written as attributes, `<Iptc4xmpExt:LocationCreated
/// exif:GPSLatitude="..."/>`), and those removed as `context/prefix:Name`
/// (`prefix:Name` without a context); `None` when every attribute stays.
fn filter_attributes(
    start: &BytesStart,
    names: &Names,
    keep: &dyn Fn(&str, &str) -> bool,
    context: Option<&str>,
) -> Option<(BytesStart<'static>, Vec<String>)> {
    let refused = |key: &[u8]| {
        is_property_attribute(key, names) && {
            let (prefix, name) = names.split(key);
            !keep(&prefix, &name)
        }
    };
    let attributes: Vec<_> = start.attributes().with_checks(false).flatten().collect();
    if !attributes.iter().any(|a| refused(a.key.as_ref())) {
        return None;
    }
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut out = BytesStart::new(name);
    let mut removed = Vec::new();
    for attr in &attributes {
        let key = attr.key.as_ref();
        if refused(key) {
            let (prefix, name) = names.split(key);
            removed.push(match context {
                Some(outer) => format!("{outer}/{prefix}:{name}"),
                None => format!("{prefix}:{name}"),
            });
        } else {
            push_raw_attribute(&mut out, key, &attr.value);
        }
    }
    Some((out, removed))
}

/// Adds an attribute with its value as it was written (escaped): a `"` that
/// single quotes allowed is escaped for the double quotes it gets.
fn push_raw_attribute(out: &mut BytesStart, key: &[u8], value: &[u8]) {
    if !value.contains(&b'"') {
        out.push_attribute((key, value));
        return;
    }
    let mut escaped = Vec::with_capacity(value.len() + 8);
    for &b in value {
        match b {
            b'"' => escaped.extend_from_slice(b"&quot;"),
            b => escaped.push(b),
        }
    }
    out.push_attribute((key, escaped.as_slice()));
}

/// `rdf:Description`'s start tag with property attributes filtered and set.
fn description_start(
    start: &BytesStart,
    names: &Names,
    keep: &mut dyn FnMut(&str, &str) -> bool,
    set_value: &dyn Fn(&str, &str) -> Option<String>,
) -> BytesStart<'static> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut out = BytesStart::new(name);
    for attr in start.attributes().flatten() {
        let key = attr.key.as_ref();
        if is_property_attribute(key, names) {
            let (prefix, local) = names.split(key);
            if !keep(&prefix, &local) {
                continue;
            }
            if let Some(value) = set_value(&prefix, &local) {
                out.push_attribute((key, value.as_bytes()));
                continue;
            }
        }
        push_raw_attribute(&mut out, key, attr.value.as_ref());
    }
    out
}

#[cfg(test)]
mod tests;
