//! Metadata read field by field, and the field-level difference of two sets.

use super::{exif, icc, iptc, xmp, Metadata};
use std::collections::BTreeMap;
use std::fmt;

/// The block a field lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Block {
    /// EXIF (a TIFF structure).
    Exif,
    /// The XMP packet.
    Xmp,
    /// IPTC-IIM datasets.
    Iptc,
    /// The ICC profile.
    Icc,
}

impl Block {
    /// Every block, in the order they are listed.
    pub const ALL: [Block; 4] = [Block::Exif, Block::Xmp, Block::Iptc, Block::Icc];

    /// `EXIF`, `XMP`, `IPTC` or `ICC`.
    pub fn name(self) -> &'static str {
        match self {
            Block::Exif => "EXIF",
            Block::Xmp => "XMP",
            Block::Iptc => "IPTC",
            Block::Icc => "ICC",
        }
    }
}

/// One metadata field with its value as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetadataField {
    /// The block.
    pub block: Block,
    /// Where in the block: the IFD (`IFD0`, `ExifIFD`, `GPS`...), the XMP
    /// prefix (`dc`, `exif`...), `IPTC`, or `ICC`.
    pub group: String,
    /// The field's name (`Make`, `subject`, `City`, `Description`).
    pub name: String,
    /// The value as text: numbers in decimal, rationals as `n/d`, arrays
    /// joined by `; `, binary values as `(N bytes)`.
    pub value: String,
}

impl MetadataField {
    /// `BLOCK:group:name`, the key fields are listed and compared by.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.block.name(), self.group, self.name)
    }

    /// `{"block", "group", "name", "value"}`, as every face's JSON gives a field.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "block": self.block.name(),
            "group": self.group,
            "name": self.name,
            "value": self.value,
        })
    }
}

impl fmt::Display for MetadataField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.key(), self.value)
    }
}

impl Metadata {
    /// Every field of every block, in block order.
    pub fn fields(&self) -> Vec<MetadataField> {
        let mut fields = Vec::new();
        let field = |block, group: &str, name: &str, value: String| MetadataField {
            block,
            group: group.to_string(),
            name: name.to_string(),
            value,
        };
        if let Some(data) = self.exif.as_deref() {
            for (ifd, tag, value) in exif::values(data) {
                fields.push(field(Block::Exif, ifd.name(), &ifd.tag_name(tag), value));
            }
        }
        if let Some(packet) = self.xmp.as_deref() {
            for (prefix, name, value) in xmp::values(packet) {
                fields.push(field(Block::Xmp, &prefix, &name, value));
            }
        }
        if let Some(block) = self.iptc.as_deref() {
            let datasets = iptc::datasets(block);
            let utf8 = iptc::is_utf8(&datasets);
            // Repeated datasets (Keywords) become one field, as in XMP.
            let mut joined: BTreeMap<(u8, u8), Vec<String>> = BTreeMap::new();
            for d in &datasets {
                joined
                    .entry((d.record, d.number))
                    .or_default()
                    .push(iptc::text(d, utf8));
            }
            for ((record, number), values) in joined {
                let name = iptc::dataset_name(record, number);
                fields.push(field(Block::Iptc, "IPTC", &name, values.join("; ")));
            }
        }
        if let Some(profile) = self.icc.as_deref() {
            for (name, value) in icc::summary(profile) {
                fields.push(field(Block::Icc, "ICC", name, value));
            }
        }
        fields
    }

    /// Every field as a JSON array of [`MetadataField::to_json`] objects.
    pub fn fields_json(&self) -> serde_json::Value {
        self.fields().iter().map(MetadataField::to_json).collect()
    }

    /// The field-level difference from `self` (before) to `after`.
    pub fn diff(&self, after: &Metadata) -> MetadataDiff {
        let index = |fields: Vec<MetadataField>| -> BTreeMap<String, MetadataField> {
            fields.into_iter().map(|f| (f.key(), f)).collect()
        };
        let (before, after) = (index(self.fields()), index(after.fields()));
        let mut diff = MetadataDiff::default();
        for (key, old) in &before {
            match after.get(key) {
                None => diff.removed.push(old.clone()),
                Some(new) if new.value != old.value => {
                    diff.changed.push((old.clone(), new.clone()))
                }
                Some(_) => {}
            }
        }
        diff.added = after
            .iter()
            .filter(|(key, _)| !before.contains_key(*key))
            .map(|(_, f)| f.clone())
            .collect();
        // An IPTC field removed while its XMP counterpart appeared with the
        // same value was moved, not lost.
        for &((record, number), (prefix, name, _)) in iptc::TO_XMP {
            let iptc_name = iptc::dataset_name(record, number);
            let gone = diff
                .removed
                .iter()
                .position(|f| f.block == Block::Iptc && f.name == iptc_name);
            let came = diff
                .added
                .iter()
                .position(|f| f.block == Block::Xmp && f.group == prefix && f.name == name);
            if let (Some(gone), Some(came)) = (gone, came) {
                let (from, to) = (diff.removed.remove(gone), diff.added.remove(came));
                diff.moved.push((from, to));
            }
        }
        diff
    }
}

/// What changed between two sets of metadata, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataDiff {
    /// Fields only the second set has.
    pub added: Vec<MetadataField>,
    /// Fields only the first set has.
    pub removed: Vec<MetadataField>,
    /// Fields whose value differs: (before, after).
    pub changed: Vec<(MetadataField, MetadataField)>,
    /// Fields carried into another block: (before, after), as IPTC `City`
    /// to XMP `photoshop:City` in a container without an IPTC slot.
    pub moved: Vec<(MetadataField, MetadataField)>,
}

impl MetadataDiff {
    /// `{"added": [field], "removed": [field], "changed": [{"before", "after"}],
    /// "moved": [{"before", "after"}]}` with fields as [`MetadataField::to_json`] gives them.
    pub fn to_json(&self) -> serde_json::Value {
        let fields = |f: &[MetadataField]| f.iter().map(MetadataField::to_json).collect::<Vec<_>>();
        let pairs = |p: &[(MetadataField, MetadataField)]| {
            p.iter()
                .map(|(a, b)| serde_json::json!({ "before": a.to_json(), "after": b.to_json() }))
                .collect::<Vec<_>>()
        };
        serde_json::json!({
            "added": fields(&self.added),
            "removed": fields(&self.removed),
            "changed": pairs(&self.changed),
            "moved": pairs(&self.moved),
        })
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.moved.is_empty()
    }
}
