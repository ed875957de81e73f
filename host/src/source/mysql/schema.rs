//! Per-table decoding plans, built once per TABLE_MAP event.
//!
//! A [`TableInfo`] turns the TABLE_MAP's column types, type metadata and optional metadata
//! (`binlog_row_metadata=FULL` or `MINIMAL`: names, signedness, charsets, ENUM/SET labels) into
//! one [`ColumnPlan`] per column, so that decoding a row does no metadata work at all. Without
//! optional metadata, names, signedness and labels come from the schema tracker
//! (`tracker.rs`, which also states the policy when they cannot); offline, columns are named
//! `@1`, `@2`, … and integers decode as signed: that is what the binlog says, and `wproc check`
//! warns about it.

use std::sync::Arc;

use mysql_common::binlog::events::{OptionalMetaExtractor, OptionalMetadataField, TableMapEvent};
use mysql_common::collations::{Collation, CollationId};
use mysql_common::constants::ColumnType;
use mysql_common::proto::MySerialize;

use super::filter::Filter;
use super::tracker::{TrackedColumn, type_agrees};
use crate::event::Column;

/// Most columns a MySQL or MariaDB table can have.
const MAX_COLUMNS: usize = 4096;
/// The MySQL collation id of the `binary` character set.
const BINARY_COLLATION: u16 = 63;

/// How a text column's bytes become a string.
#[derive(Clone, Debug)]
pub(crate) enum TextEncoding {
    /// utf8mb4, utf8mb3 and ascii: checked UTF-8.
    Utf8,
    /// No charset metadata and no tracked schema: UTF-8 when valid, else bytes.
    Unspecified,
    /// The `binary` charset (BINARY, VARBINARY, BLOB): stays bytes.
    Binary,
    /// Another charset that `encoding_rs` knows (latin1 is windows-1252, as in MySQL).
    Other(&'static encoding_rs::Encoding),
    /// A charset with no decoder: kept as bytes, never guessed.
    Unknown,
}

impl TextEncoding {
    fn from_collation(id: Option<u16>) -> Self {
        let Some(id) = id else {
            // No charset metadata: try UTF-8, fall back to bytes (see decode.rs).
            return TextEncoding::Unspecified;
        };
        if id == BINARY_COLLATION {
            return TextEncoding::Binary;
        }
        let collation = Collation::resolve(CollationId::from(id));
        Self::from_charset(collation.charset())
    }

    /// From a collation name as `information_schema` gives it (`latin1_swedish_ci`).
    fn from_collation_name(name: &str) -> Self {
        if name == "binary" {
            return TextEncoding::Binary;
        }
        Self::from_charset(name.split('_').next().unwrap_or(name))
    }

    fn from_charset(charset: &str) -> Self {
        match charset {
            "utf8mb4" | "utf8mb3" | "utf8" | "ascii" => TextEncoding::Utf8,
            "binary" => TextEncoding::Binary,
            other => {
                match encoding_rs::Encoding::for_label(mysql_charset_label(other).as_bytes()) {
                    Some(encoding) => TextEncoding::Other(encoding),
                    None => TextEncoding::Unknown,
                }
            }
        }
    }
}

/// Maps MySQL charset names to WHATWG labels where they differ.
fn mysql_charset_label(charset: &str) -> &str {
    match charset {
        "latin1" => "windows-1252",
        "latin2" => "iso-8859-2",
        "cp1250" => "windows-1250",
        "cp1251" => "windows-1251",
        "cp1256" => "windows-1256",
        "cp1257" => "windows-1257",
        "greek" => "iso-8859-7",
        "hebrew" => "iso-8859-8",
        "latin5" => "windows-1254",
        "latin7" => "iso-8859-13",
        "koi8r" => "koi8-r",
        "koi8u" => "koi8-u",
        "sjis" | "cp932" => "shift_jis",
        "ujis" | "eucjpms" => "euc-jp",
        "euckr" => "euc-kr",
        "gb2312" | "gbk" => "gbk",
        "gb18030" => "gb18030",
        "big5" => "big5",
        "utf16" => "utf-16be",
        "utf16le" => "utf-16le",
        other => other,
    }
}

/// How one column's value is laid out in a row image.
#[derive(Clone, Debug)]
pub(crate) enum ColumnKind {
    Tiny,
    Short,
    Int24,
    Long,
    LongLong,
    Float,
    Double,
    NewDecimal {
        precision: u8,
        scale: u8,
    },
    /// VARCHAR / VAR_STRING / CHAR: a 1- or 2-byte length, then bytes.
    Text {
        length_bytes: u8,
        encoding: TextEncoding,
    },
    /// BINARY(width): like `Text`, right-padded with 0x00 to `width` bytes.
    FixedBinary {
        length_bytes: u8,
        width: u16,
    },
    /// BLOB/TEXT family: a 1- to 4-byte length, then bytes.
    Blob {
        length_bytes: u8,
        encoding: TextEncoding,
    },
    /// MySQL binary JSON (MariaDB's JSON is a LONGTEXT and arrives as `Blob`).
    Json {
        length_bytes: u8,
    },
    /// MariaDB JSON: a LONGTEXT with a `json_valid` check (known from the schema tracker),
    /// emitted as a JSON value.
    JsonText {
        length_bytes: u8,
    },
    Geometry {
        length_bytes: u8,
    },
    Vector {
        length_bytes: u8,
    },
    Bit {
        bytes: u8,
    },
    Enum {
        bytes: u8,
        labels: Arc<[String]>,
    },
    Set {
        bytes: u8,
        labels: Arc<[String]>,
    },
    Year,
    Date,
    /// Pre-5.6 TIME (HHMMSS in 3 bytes).
    Time,
    Time2 {
        fsp: u8,
    },
    /// Pre-5.6 DATETIME (YYYYMMDDHHMMSS in 8 bytes).
    DateTime,
    DateTime2 {
        fsp: u8,
    },
    /// Pre-5.6 TIMESTAMP (4-byte seconds).
    Timestamp,
    Timestamp2 {
        fsp: u8,
    },
    /// A type wproc cannot decode: the row fails with a clear error.
    Unsupported {
        type_code: u8,
    },
}

/// The decoding plan for one column.
#[derive(Clone, Debug)]
pub(crate) struct ColumnPlan {
    pub kind: ColumnKind,
    pub unsigned: bool,
    /// The SQL type family the binlog type belongs to (`int`, `varchar`, `blob`, …), compared
    /// with the tracked schema's `DATA_TYPE`.
    pub family: &'static str,
}

/// A table as one TABLE_MAP event describes it (completed by the schema tracker).
#[derive(Debug)]
pub(crate) struct TableInfo {
    pub db: Arc<str>,
    pub table: Arc<str>,
    /// Every column, aligned with the row image.
    pub all_columns: Arc<[Column]>,
    /// The columns emitted (without excluded columns), aligned with the emitted values.
    pub columns: Arc<[Column]>,
    pub plans: Vec<ColumnPlan>,
    /// For each column, whether it is emitted; `None` when all are.
    pub keep: Option<Vec<bool>>,
    /// Whether the filter captures this table at all.
    pub captured: bool,
}

/// Why a TABLE_MAP could not be turned into a decoding plan.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SchemaError {
    #[error("malformed table map: {0}")]
    Malformed(#[from] std::io::Error),
    #[error(
        "the table map carries no column names (binlog_row_metadata is not FULL) and {reason}; \
         wproc does not guess column names: set binlog_row_metadata=FULL, or start after the \
         schema change"
    )]
    Unmapped { reason: String },
}

/// The bytes of an optional metadata field, as the event holds them.
fn raw_bytes(value: &impl MySerialize) -> Vec<u8> {
    let mut raw = Vec::new();
    value.serialize(&mut raw);
    raw
}

/// Checks the ENUM or SET labels of a TABLE_MAP (per column: a length-encoded count, then each
/// label as a length-encoded string) before `mysql_common` parses them: it reserves the count
/// (`Vec::with_capacity`) before reading, so a corrupt count panicked or aborted on the
/// allocation (found by the `binlog_file` fuzz target). A count above the bytes left is an
/// error; anything else malformed the parser reports.
fn check_label_counts(raw: &[u8]) -> Result<(), SchemaError> {
    use super::file::guard::lenenc;
    let mut rest = raw;
    while !rest.is_empty() {
        let Some(count) = lenenc(&mut rest) else {
            return Ok(());
        };
        if count > rest.len() as u64 {
            return Err(SchemaError::Malformed(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "an ENUM or SET column declares {count} labels in {} bytes",
                    rest.len()
                ),
            )));
        }
        for _ in 0..count {
            match lenenc(&mut rest) {
                Some(len) if len <= rest.len() as u64 => rest = &rest[len as usize..],
                _ => return Ok(()),
            }
        }
    }
    Ok(())
}

/// What the decoder knows besides the TABLE_MAP.
pub(crate) struct PlanContext<'a> {
    /// The tracked schema of this table, if any.
    pub tracked: Option<&'a [TrackedColumn]>,
    /// Whether missing names are an error (replication with a tracker) or become `@N` (files).
    pub require_names: bool,
    pub filter: &'a Filter,
}

impl TableInfo {
    /// Builds the plan. Fails on a malformed TABLE_MAP, or when names are required and neither
    /// the TABLE_MAP nor an agreeing tracked schema gives them (see `tracker.rs`).
    pub fn from_table_map(
        tme: &TableMapEvent<'_>,
        ctx: &PlanContext<'_>,
    ) -> Result<Self, SchemaError> {
        let db: Arc<str> = tme.database_name().as_ref().into();
        let table: Arc<str> = tme.table_name().as_ref().into();
        let count = tme.columns_count() as usize;
        if count > MAX_COLUMNS {
            return Err(SchemaError::Malformed(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{count} columns (a table has at most {MAX_COLUMNS})"),
            )));
        }
        let extractor = OptionalMetaExtractor::new(tme.iter_optional_meta())?;
        let mut signedness = extractor.iter_signedness();
        let mut charsets = extractor.iter_charset();
        let mut names = extractor.iter_column_name();
        let (mut enum_labels, mut set_labels) = (Vec::new(), Vec::new());
        let mut has_signedness = false;
        for field in tme.iter_optional_meta() {
            match field? {
                OptionalMetadataField::Signedness(_) => has_signedness = true,
                OptionalMetadataField::EnumStrValue(values) => {
                    check_label_counts(&raw_bytes(&values))?;
                    for labels in values.iter_values() {
                        enum_labels.push(
                            labels?
                                .values()
                                .iter()
                                .map(|v| v.value().into_owned())
                                .collect(),
                        );
                    }
                }
                OptionalMetadataField::SetStrValue(values) => {
                    check_label_counts(&raw_bytes(&values))?;
                    for labels in values.iter_values() {
                        set_labels.push(
                            labels?
                                .values()
                                .iter()
                                .map(|v| v.value().into_owned())
                                .collect(),
                        );
                    }
                }
                _ => {}
            }
        }
        let mut enum_labels = enum_labels.into_iter();
        let mut set_labels = set_labels.into_iter();

        let mut columns = Vec::with_capacity(count);
        let mut plans = Vec::with_capacity(count);
        let mut named = 0;
        for i in 0..count {
            let column_type = tme.get_column_type(i).ok().flatten();
            let meta = tme.get_column_metadata(i).unwrap_or(&[]);
            let unsigned = column_type.is_some_and(|t| t.is_numeric_type())
                && signedness.next().unwrap_or(false);
            let charset = if column_type.is_some_and(|t| t.is_character_type()) {
                charsets.next().transpose()?
            } else {
                None
            };
            let (kind, sql_type, family) = match column_type {
                Some(ty) => {
                    let (kind, sql) =
                        plan_column(ty, meta, charset, &mut enum_labels, &mut set_labels);
                    (kind, sql, family_of(ty))
                }
                None => {
                    let code = tme
                        .get_raw_column_type(i)
                        .ok()
                        .flatten()
                        .map_or(0, |t| t as u8);
                    (
                        ColumnKind::Unsupported { type_code: code },
                        format!("type#{code}"),
                        "",
                    )
                }
            };
            let sql_type = if unsigned {
                format!("{sql_type} unsigned")
            } else {
                sql_type
            };
            let name = match names.next().transpose()? {
                Some(name) => {
                    named += 1;
                    Arc::from(name.name().as_ref())
                }
                None => Arc::from(format!("@{}", i + 1).as_str()),
            };
            columns.push(Column {
                name,
                sql_type: sql_type.into(),
            });
            plans.push(ColumnPlan {
                kind,
                unsigned,
                family,
            });
        }
        let has_names = named == count;
        let agreement = match ctx.tracked {
            None => Err("wproc has no schema for this table".to_owned()),
            Some(tracked) => agreement(&plans, tracked),
        };
        match (&agreement, has_names) {
            // Names from the binlog: the tracker only says which LONGTEXT columns are MariaDB
            // JSON, matched by name (the tracked schema may be newer than the binlog).
            (_, true) => {
                if let Some(tracked) = ctx.tracked {
                    mark_json_by_name(&mut columns, &mut plans, tracked);
                }
            }
            (Ok(()), false) => {
                complete_from_tracked(
                    &mut columns,
                    &mut plans,
                    ctx.tracked.unwrap_or_default(),
                    has_signedness,
                );
            }
            (Err(reason), false) if ctx.require_names => {
                return Err(SchemaError::Unmapped {
                    reason: reason.clone(),
                });
            }
            (Err(_), false) => {}
        }
        let captured = ctx.filter.table(&db, &table);
        let keep: Vec<bool> = columns
            .iter()
            .map(|c| !ctx.filter.column_excluded(&db, &table, &c.name))
            .collect();
        let all_columns: Arc<[Column]> = columns.into();
        let (columns, keep) = if keep.iter().all(|k| *k) {
            (all_columns.clone(), None)
        } else {
            let kept: Vec<Column> = all_columns
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c.clone())
                .collect();
            (kept.into(), Some(keep))
        };
        Ok(TableInfo {
            db,
            table,
            all_columns,
            columns,
            plans,
            keep,
            captured,
        })
    }
}

impl TableInfo {
    /// The table restricted to the columns present in a partial row image
    /// (`binlog_row_image=MINIMAL` or `NOBLOB`): the images then hold only those columns, and so
    /// does the change event.
    pub fn subset(&self, present: &[bool]) -> TableInfo {
        let pick = |i: usize| present.get(i).copied().unwrap_or(false);
        let all_columns: Arc<[Column]> = self
            .all_columns
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(*i))
            .map(|(_, c)| c.clone())
            .collect();
        let plans = self
            .plans
            .iter()
            .enumerate()
            .filter(|(i, _)| pick(*i))
            .map(|(_, p)| p.clone())
            .collect();
        let keep = self.keep.as_ref().map(|keep| {
            keep.iter()
                .enumerate()
                .filter(|(i, _)| pick(*i))
                .map(|(_, k)| *k)
                .collect::<Vec<bool>>()
        });
        let columns = match &keep {
            None => all_columns.clone(),
            Some(keep) => all_columns
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c.clone())
                .collect(),
        };
        TableInfo {
            db: self.db.clone(),
            table: self.table.clone(),
            all_columns,
            columns,
            plans,
            keep,
            captured: self.captured,
        }
    }
}

/// `Ok` when the tracked table has the TABLE_MAP's columns, else what differs.
fn agreement(plans: &[ColumnPlan], tracked: &[TrackedColumn]) -> Result<(), String> {
    if plans.len() != tracked.len() {
        return Err(format!(
            "the table map has {} columns but the table on the server now has {}",
            plans.len(),
            tracked.len()
        ));
    }
    for (i, (plan, column)) in plans.iter().zip(tracked).enumerate() {
        if !type_agrees(plan.family, &column.data_type) {
            return Err(format!(
                "column {} is {} in the table map but `{}` is {} on the server now",
                i + 1,
                if plan.family.is_empty() {
                    "of an unknown type"
                } else {
                    plan.family
                },
                column.name,
                column.data_type
            ));
        }
    }
    Ok(())
}

/// Turns LONGTEXT columns that the tracked schema knows as MariaDB JSON into JSON columns.
fn mark_json_by_name(columns: &mut [Column], plans: &mut [ColumnPlan], tracked: &[TrackedColumn]) {
    for (column, plan) in columns.iter_mut().zip(plans.iter_mut()) {
        let json = tracked
            .iter()
            .any(|t| t.json && t.name.eq_ignore_ascii_case(&column.name));
        if let (true, ColumnKind::Blob { length_bytes, .. }) = (json, &plan.kind) {
            plan.kind = ColumnKind::JsonText {
                length_bytes: *length_bytes,
            };
            column.sql_type = "json".into();
        }
    }
}

/// Fills in what a TABLE_MAP without names lacks from an agreeing tracked table.
fn complete_from_tracked(
    columns: &mut [Column],
    plans: &mut [ColumnPlan],
    tracked: &[TrackedColumn],
    has_signedness: bool,
) {
    for ((column, plan), tracked) in columns.iter_mut().zip(plans.iter_mut()).zip(tracked) {
        column.name = tracked.name.clone();
        if !has_signedness && tracked.unsigned && !plan.unsigned {
            plan.unsigned = true;
            column.sql_type = format!("{} unsigned", column.sql_type).into();
        }
        match &mut plan.kind {
            ColumnKind::Enum { labels, .. } | ColumnKind::Set { labels, .. }
                if labels.is_empty() =>
            {
                *labels = tracked.labels.clone().into();
            }
            ColumnKind::Text { encoding, .. } | ColumnKind::Blob { encoding, .. } => {
                if let (TextEncoding::Unspecified, Some(name)) = (&*encoding, &tracked.collation) {
                    *encoding = TextEncoding::from_collation_name(name);
                }
            }
            _ => {}
        }
    }
    mark_json_by_name(columns, plans, tracked);
}

fn meta_byte(meta: &[u8], i: usize) -> u8 {
    meta.get(i).copied().unwrap_or(0)
}

fn plan_column(
    ty: ColumnType,
    meta: &[u8],
    charset: Option<u16>,
    enum_labels: &mut impl Iterator<Item = Vec<String>>,
    set_labels: &mut impl Iterator<Item = Vec<String>>,
) -> (ColumnKind, String) {
    use ColumnType::*;
    let text = |length_bytes, name: &str| {
        let encoding = TextEncoding::from_collation(charset);
        let binary = matches!(encoding, TextEncoding::Binary);
        let sql = match (name, binary) {
            ("varchar", true) => "varbinary",
            ("char", true) => "binary",
            (name, _) => name,
        };
        (
            ColumnKind::Text {
                length_bytes,
                encoding,
            },
            sql.to_owned(),
        )
    };
    match ty {
        MYSQL_TYPE_TINY => (ColumnKind::Tiny, "tinyint".into()),
        MYSQL_TYPE_SHORT => (ColumnKind::Short, "smallint".into()),
        MYSQL_TYPE_INT24 => (ColumnKind::Int24, "mediumint".into()),
        MYSQL_TYPE_LONG => (ColumnKind::Long, "int".into()),
        MYSQL_TYPE_LONGLONG => (ColumnKind::LongLong, "bigint".into()),
        MYSQL_TYPE_FLOAT => (ColumnKind::Float, "float".into()),
        MYSQL_TYPE_DOUBLE => (ColumnKind::Double, "double".into()),
        MYSQL_TYPE_NEWDECIMAL => {
            let (precision, scale) = (meta_byte(meta, 0), meta_byte(meta, 1));
            (
                ColumnKind::NewDecimal { precision, scale },
                format!("decimal({precision},{scale})"),
            )
        }
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => {
            let max = u16::from_le_bytes([meta_byte(meta, 0), meta_byte(meta, 1)]);
            text(if max < 256 { 1 } else { 2 }, "varchar")
        }
        MYSQL_TYPE_STRING => {
            let (b0, b1) = (
                usize::from(meta_byte(meta, 0)),
                usize::from(meta_byte(meta, 1)),
            );
            // Long CHAR columns keep the high bits of the length in the type byte (MySQL #37426).
            let max = if b0 & 0x30 != 0x30 {
                b1 | (((b0 & 0x30) ^ 0x30) << 4)
            } else {
                b1
            };
            let length_bytes = if max < 256 { 1 } else { 2 };
            match TextEncoding::from_collation(charset) {
                // BINARY(n): the binlog drops trailing 0x00 bytes; the value has n bytes.
                TextEncoding::Binary => (
                    ColumnKind::FixedBinary {
                        length_bytes,
                        width: max as u16,
                    },
                    format!("binary({max})"),
                ),
                _ => text(length_bytes, "char"),
            }
        }
        MYSQL_TYPE_ENUM => {
            let labels: Arc<[String]> = enum_labels.next().unwrap_or_default().into();
            (
                ColumnKind::Enum {
                    bytes: meta_byte(meta, 1).max(1),
                    labels,
                },
                "enum".into(),
            )
        }
        MYSQL_TYPE_SET => {
            let labels: Arc<[String]> = set_labels.next().unwrap_or_default().into();
            (
                ColumnKind::Set {
                    bytes: meta_byte(meta, 1).max(1),
                    labels,
                },
                "set".into(),
            )
        }
        MYSQL_TYPE_BLOB | MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB => {
            let encoding = TextEncoding::from_collation(charset);
            let name = if matches!(encoding, TextEncoding::Binary) {
                "blob"
            } else {
                "text"
            };
            (
                ColumnKind::Blob {
                    length_bytes: meta_byte(meta, 0),
                    encoding,
                },
                name.into(),
            )
        }
        MYSQL_TYPE_JSON => (
            ColumnKind::Json {
                length_bytes: meta_byte(meta, 0),
            },
            "json".into(),
        ),
        MYSQL_TYPE_GEOMETRY => (
            ColumnKind::Geometry {
                length_bytes: meta_byte(meta, 0),
            },
            "geometry".into(),
        ),
        MYSQL_TYPE_VECTOR => (
            ColumnKind::Vector {
                length_bytes: meta_byte(meta, 0),
            },
            "vector".into(),
        ),
        MYSQL_TYPE_BIT => {
            let bits = u16::from(meta_byte(meta, 1)) * 8 + u16::from(meta_byte(meta, 0));
            (
                ColumnKind::Bit {
                    bytes: bits.div_ceil(8) as u8,
                },
                format!("bit({bits})"),
            )
        }
        MYSQL_TYPE_YEAR => (ColumnKind::Year, "year".into()),
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => (ColumnKind::Date, "date".into()),
        MYSQL_TYPE_TIME => (ColumnKind::Time, "time".into()),
        MYSQL_TYPE_TIME2 => temporal(
            ColumnKind::Time2 {
                fsp: meta_byte(meta, 0),
            },
            "time",
            meta,
        ),
        MYSQL_TYPE_DATETIME => (ColumnKind::DateTime, "datetime".into()),
        MYSQL_TYPE_DATETIME2 => temporal(
            ColumnKind::DateTime2 {
                fsp: meta_byte(meta, 0),
            },
            "datetime",
            meta,
        ),
        MYSQL_TYPE_TIMESTAMP => (ColumnKind::Timestamp, "timestamp".into()),
        MYSQL_TYPE_TIMESTAMP2 => temporal(
            ColumnKind::Timestamp2 {
                fsp: meta_byte(meta, 0),
            },
            "timestamp",
            meta,
        ),
        other => (
            ColumnKind::Unsupported {
                type_code: other as u8,
            },
            format!("type#{}", other as u8),
        ),
    }
}

/// The SQL type family of a binlog column type, as `information_schema.DATA_TYPE` names it.
fn family_of(ty: ColumnType) -> &'static str {
    use ColumnType::*;
    match ty {
        MYSQL_TYPE_TINY => "tinyint",
        MYSQL_TYPE_SHORT => "smallint",
        MYSQL_TYPE_INT24 => "mediumint",
        MYSQL_TYPE_LONG => "int",
        MYSQL_TYPE_LONGLONG => "bigint",
        MYSQL_TYPE_FLOAT => "float",
        MYSQL_TYPE_DOUBLE => "double",
        MYSQL_TYPE_NEWDECIMAL | MYSQL_TYPE_DECIMAL => "decimal",
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => "varchar",
        MYSQL_TYPE_STRING => "char",
        MYSQL_TYPE_ENUM => "enum",
        MYSQL_TYPE_SET => "set",
        MYSQL_TYPE_BLOB | MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB => {
            "blob"
        }
        MYSQL_TYPE_JSON => "json",
        MYSQL_TYPE_GEOMETRY => "geometry",
        MYSQL_TYPE_VECTOR => "vector",
        MYSQL_TYPE_BIT => "bit",
        MYSQL_TYPE_YEAR => "year",
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => "date",
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => "time",
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => "datetime",
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => "timestamp",
        _ => "",
    }
}

fn temporal(kind: ColumnKind, name: &str, meta: &[u8]) -> (ColumnKind, String) {
    match meta_byte(meta, 0) {
        0 => (kind, name.to_owned()),
        fsp => (kind, format!("{name}({fsp})")),
    }
}

#[cfg(test)]
mod label_tests {
    use super::check_label_counts;

    /// Fuzzing (panic, "capacity overflow"): an ENUM label count of 2^63 in a TABLE_MAP.
    #[test]
    fn label_counts_past_the_field_are_errors() {
        // Two columns: labels ["a", "bc"] and [].
        assert!(check_label_counts(&[2, 1, b'a', 2, b'b', b'c', 0]).is_ok());
        let mut huge = vec![0xfe];
        huge.extend_from_slice(&(1u64 << 63).to_le_bytes());
        huge.extend_from_slice(&[1, b'a']);
        let error = check_label_counts(&huge).unwrap_err().to_string();
        assert!(error.contains("labels in 2 bytes"), "{error}");
        assert!(check_label_counts(&[3, 1, b'a']).is_err());
        // Truncated labels are left to the parser.
        assert!(check_label_counts(&[1, 5, b'a']).is_ok());
    }
}
