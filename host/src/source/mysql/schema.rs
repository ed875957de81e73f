//! Per-table decoding plans, built once per TABLE_MAP event.
//!
//! A [`TableInfo`] turns the TABLE_MAP's column types, type metadata and optional metadata
//! (`binlog_row_metadata=FULL` or `MINIMAL`: names, signedness, charsets, ENUM/SET labels) into
//! one [`ColumnPlan`] per column, so that decoding a row does no metadata work at all. Without
//! optional metadata columns are named `@1`, `@2`, … and integers decode as signed: that is what
//! the binlog says, and `wproc check` warns about it.

use std::sync::Arc;

use mysql_common::binlog::events::{OptionalMetaExtractor, OptionalMetadataField, TableMapEvent};
use mysql_common::collations::{Collation, CollationId};
use mysql_common::constants::ColumnType;

use crate::event::Column;

/// The MySQL collation id of the `binary` character set.
const BINARY_COLLATION: u16 = 63;

/// How a text column's bytes become a string.
#[derive(Clone, Debug)]
pub(crate) enum TextEncoding {
    /// utf8mb4, utf8mb3 and ascii: checked UTF-8.
    Utf8,
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
            return TextEncoding::Utf8;
        };
        if id == BINARY_COLLATION {
            return TextEncoding::Binary;
        }
        let collation = Collation::resolve(CollationId::from(id));
        match collation.charset() {
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
    /// BLOB/TEXT family: a 1- to 4-byte length, then bytes.
    Blob {
        length_bytes: u8,
        encoding: TextEncoding,
    },
    /// MySQL binary JSON (MariaDB's JSON is a LONGTEXT and arrives as `Blob`).
    Json {
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
}

/// A table as one TABLE_MAP event describes it.
#[derive(Debug)]
pub(crate) struct TableInfo {
    pub db: Arc<str>,
    pub table: Arc<str>,
    pub columns: Arc<[Column]>,
    pub plans: Vec<ColumnPlan>,
}

impl TableInfo {
    /// Builds the plan. Fails only on a TABLE_MAP whose metadata is malformed.
    pub fn from_table_map(tme: &TableMapEvent<'_>) -> std::io::Result<Self> {
        let count = tme.columns_count() as usize;
        let extractor = OptionalMetaExtractor::new(tme.iter_optional_meta())?;
        let mut signedness = extractor.iter_signedness();
        let mut charsets = extractor.iter_charset();
        let mut names = extractor.iter_column_name();
        let (mut enum_labels, mut set_labels) = (Vec::new(), Vec::new());
        for field in tme.iter_optional_meta() {
            match field? {
                OptionalMetadataField::EnumStrValue(values) => {
                    for labels in values.iter_values() {
                        let labels = labels?;
                        enum_labels.push(
                            labels
                                .values()
                                .iter()
                                .map(|v| v.value().into_owned())
                                .collect(),
                        );
                    }
                }
                OptionalMetadataField::SetStrValue(values) => {
                    for labels in values.iter_values() {
                        let labels = labels?;
                        set_labels.push(
                            labels
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
            let (kind, sql_type) = match column_type {
                Some(ty) => plan_column(ty, meta, charset, &mut enum_labels, &mut set_labels),
                None => {
                    let code = tme
                        .get_raw_column_type(i)
                        .ok()
                        .flatten()
                        .map_or(0, |t| t as u8);
                    (
                        ColumnKind::Unsupported { type_code: code },
                        format!("type#{code}"),
                    )
                }
            };
            let sql_type = if unsigned {
                format!("{sql_type} unsigned")
            } else {
                sql_type
            };
            let name = match names.next().transpose()? {
                Some(name) => Arc::from(name.name().as_ref()),
                None => Arc::from(format!("@{}", i + 1).as_str()),
            };
            columns.push(Column {
                name,
                sql_type: sql_type.into(),
            });
            plans.push(ColumnPlan { kind, unsigned });
        }
        Ok(TableInfo {
            db: tme.database_name().as_ref().into(),
            table: tme.table_name().as_ref().into(),
            columns: columns.into(),
            plans,
        })
    }
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
            text(if max < 256 { 1 } else { 2 }, "char")
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

fn temporal(kind: ColumnKind, name: &str, meta: &[u8]) -> (ColumnKind, String) {
    match meta_byte(meta, 0) {
        0 => (kind, name.to_owned()),
        fsp => (kind, format!("{name}({fsp})")),
    }
}
