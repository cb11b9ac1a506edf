//! Metadata as fields: [`MetadataField`], [`MetadataDiff`] and the calls
//! that read or diff the metadata of encoded images.

use crate::errors::{Code, Failure};
use crate::job::Job;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// One metadata field with its value as text.
#[napi(object)]
pub struct MetadataField {
    /// "EXIF", "XMP", "IPTC" or "ICC".
    pub block: String,
    /// The IFD (`IFD0`, `ExifIFD`, `GPS`...), the XMP prefix (`dc`...), "IPTC" or "ICC".
    pub group: String,
    /// The field's name (`Make`, `subject`, `City`, `Description`).
    pub name: String,
    /// The value as text (arrays joined by `; `).
    pub value: String,
}

impl From<&engine::MetadataField> for MetadataField {
    fn from(f: &engine::MetadataField) -> MetadataField {
        MetadataField {
            block: f.block.name().to_string(),
            group: f.group.clone(),
            name: f.name.clone(),
            value: f.value.clone(),
        }
    }
}

/// A field before and after.
#[napi(object)]
pub struct MetadataChange {
    /// The field in the first image.
    pub before: MetadataField,
    /// The field in the second image.
    pub after: MetadataField,
}

/// The field-level difference of two images' metadata.
#[napi(object)]
pub struct MetadataDiff {
    /// Fields only the second image has.
    pub added: Vec<MetadataField>,
    /// Fields only the first image has.
    pub removed: Vec<MetadataField>,
    /// Fields whose value differs.
    pub changed: Vec<MetadataChange>,
    /// Fields carried into another block (IPTC to XMP in WebP and AVIF).
    pub moved: Vec<MetadataChange>,
}

impl From<engine::MetadataDiff> for MetadataDiff {
    fn from(d: engine::MetadataDiff) -> MetadataDiff {
        let fields = |v: &[engine::MetadataField]| v.iter().map(MetadataField::from).collect();
        let changes = |v: &[(engine::MetadataField, engine::MetadataField)]| {
            v.iter()
                .map(|(a, b)| MetadataChange {
                    before: a.into(),
                    after: b.into(),
                })
                .collect()
        };
        MetadataDiff {
            added: fields(&d.added),
            removed: fields(&d.removed),
            changed: changes(&d.changed),
            moved: changes(&d.moved),
        }
    }
}

/// One metadata read (or diff) on the libuv thread pool.
pub type MetadataTask = Job<MetadataRead, Either<Vec<MetadataField>, MetadataDiff>>;

/// A metadata task over `first` (and, for a diff, `second`).
fn metadata_task(first: Vec<u8>, second: Option<Vec<u8>>) -> AsyncTask<MetadataTask> {
    AsyncTask::new(MetadataTask::new(
        move || {
            let metadata = engine::read_metadata(&first)?;
            Ok(match &second {
                None => MetadataRead::Fields(metadata.fields()),
                Some(second) => MetadataRead::Diff(metadata.diff(&engine::read_metadata(second)?)),
            })
        },
        metadata_value,
    ))
}

/// A metadata task's output as JavaScript receives it.
fn metadata_value(output: MetadataRead) -> Either<Vec<MetadataField>, MetadataDiff> {
    match output {
        MetadataRead::Fields(fields) => Either::A(fields.iter().map(MetadataField::from).collect()),
        MetadataRead::Diff(diff) => Either::B(diff.into()),
    }
}

/// Every EXIF, XMP, IPTC and ICC field of an encoded image, as stored, on
/// the libuv thread pool.
#[napi(ts_return_type = "Promise<Array<MetadataField>>")]
pub fn read_metadata(data: Buffer) -> AsyncTask<MetadataTask> {
    metadata_task(data.to_vec(), None)
}

/// `readMetadata` on the calling thread.
#[napi]
pub fn read_metadata_sync(data: &[u8]) -> Result<Vec<MetadataField>, Code> {
    let metadata = engine::read_metadata(data).map_err(Failure::from)?;
    Ok(metadata.fields().iter().map(MetadataField::from).collect())
}

/// The field-level difference of two encoded images' metadata, on the
/// libuv thread pool.
#[napi(ts_return_type = "Promise<MetadataDiff>")]
pub fn diff_metadata(before: Buffer, after: Buffer) -> AsyncTask<MetadataTask> {
    metadata_task(before.to_vec(), Some(after.to_vec()))
}

/// `diffMetadata` on the calling thread.
#[napi]
pub fn diff_metadata_sync(before: &[u8], after: &[u8]) -> Result<MetadataDiff, Code> {
    let a = engine::read_metadata(before).map_err(Failure::from)?;
    let b = engine::read_metadata(after).map_err(Failure::from)?;
    Ok(a.diff(&b).into())
}

/// What a metadata task computed.
pub enum MetadataRead {
    /// The fields of one image.
    Fields(Vec<engine::MetadataField>),
    /// The difference of two.
    Diff(engine::MetadataDiff),
}
