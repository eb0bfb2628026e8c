//! The `CREATE EXTERNAL TABLE` statements of staged tables, one row format per data format.
//!
//! | data format | row format |
//! |---|---|
//! | `CSV` | `SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'` (separator `,`, quote `"`, escape `escapeChar` or `"`); every column `STRING` |
//! | `TSV` | `DELIMITED FIELDS TERMINATED BY` `columnSeparator` (default tab) `[ESCAPED BY escapeChar]` |
//! | `Custom` | `DELIMITED FIELDS TERMINATED BY` `columnSeparator` |
//! | `RegEx` (inputs only) | `SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'` with `input.regex` = `inputRegEx` |
//! | `DynamoDBDataFormat` | Sluice's own staging files: `LazySimpleSerDe`, fields split by `\x01`, `\` escapes, `\N` for NULL |
//!
//! The CSV SerDe reads every column as a string whatever the declared type, so CSV tables are
//! declared that way: the table says what the script gets (and Spark does not warn that the
//! metastore's schema differs from the declared one).
//!
//! Delimited tables add `LINES TERMINATED BY '\n' NULL DEFINED AS ''`: an empty field is NULL
//! and NULL is written as an empty field, as every other Sluice activity reads and writes text
//! formats (Hive's own default is `\N`).

use sluice_model::{FieldValue, PipelineObject};

/// How a staged table's files are laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowFormat {
    /// Hive's CSV SerDe, which AWS documents for HiveActivity. It reads every column as
    /// `STRING`, whatever the declared type, and quotes every field it writes.
    Csv { escape: char },
    /// Hive's default text SerDe over single-byte field separators.
    Delimited { column: u8, escape: Option<u8> },
    /// Hive's `RegexSerDe`: each line matched whole, one group per column. It cannot write.
    RegEx { input_regex: String },
    /// The files Sluice writes for (and reads back from) DynamoDB tables, see [`super::rows`].
    DynamoRows,
}

/// A staged table: its name in the script, its columns and where its files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    /// `(name, Hive type)` pairs.
    pub columns: Vec<(String, String)>,
    pub row_format: RowFormat,
    /// A URI Spark can read (`file:///…`).
    pub location: String,
}

impl Table {
    /// The statement that defines the table.
    pub fn create_statement(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|(name, ty)| {
                let ty = match self.row_format {
                    RowFormat::Csv { .. } => "STRING",
                    _ => ty,
                };
                format!("{} {ty}", identifier(name))
            })
            .collect();
        format!(
            "CREATE EXTERNAL TABLE {} ({})\n{}\nSTORED AS TEXTFILE\nLOCATION {};\n",
            identifier(&self.name),
            columns.join(", "),
            row_format_clause(&self.row_format),
            sql_string(&self.location)
        )
    }
}

fn row_format_clause(format: &RowFormat) -> String {
    let serde = |class: &str, properties: &[(&str, String)]| {
        let properties: Vec<String> = properties
            .iter()
            .map(|(k, v)| format!("{} = {}", sql_string(k), sql_string(v)))
            .collect();
        format!(
            "ROW FORMAT SERDE {}\nWITH SERDEPROPERTIES ({})",
            sql_string(class),
            properties.join(", ")
        )
    };
    match format {
        RowFormat::Csv { escape } => serde(
            "org.apache.hadoop.hive.serde2.OpenCSVSerde",
            &[
                ("separatorChar", ",".into()),
                ("quoteChar", "\"".into()),
                ("escapeChar", escape.to_string()),
            ],
        ),
        RowFormat::Delimited { column, escape } => {
            let mut clause = format!(
                "ROW FORMAT DELIMITED FIELDS TERMINATED BY {}",
                sql_string(&char::from(*column).to_string())
            );
            if let Some(escape) = escape {
                clause.push_str(" ESCAPED BY ");
                clause.push_str(&sql_string(&char::from(*escape).to_string()));
            }
            clause.push_str(" LINES TERMINATED BY '\\n' NULL DEFINED AS ''");
            clause
        }
        RowFormat::RegEx { input_regex } => serde(
            "org.apache.hadoop.hive.serde2.RegexSerDe",
            &[("input.regex", input_regex.clone())],
        ),
        RowFormat::DynamoRows => serde(
            "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
            &[
                ("field.delim", "\u{1}".into()),
                ("escape.delim", "\\".into()),
                ("serialization.null.format", "\\N".into()),
                // Newlines in values are written as `\n`, so a record stays on one line.
                ("serialization.escape.crlf", "true".into()),
            ],
        ),
    }
}

/// A Spark SQL string literal: backslash escapes are unescaped by Spark's parser, so
/// backslashes, quotes and control characters are escaped here.
pub fn sql_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A quoted identifier: column names come from pipeline definitions and may be keywords.
fn identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The `column` values of a data format object as `(name, type)` pairs; a column without a
/// type is a `STRING`.
pub fn columns_of(format: &PipelineObject) -> Result<Vec<(String, String)>, String> {
    format
        .values("column")
        .filter_map(FieldValue::as_str)
        .map(|spec| {
            let mut parts = spec.split_whitespace();
            let name = parts
                .next()
                .ok_or_else(|| format!("{}: column {spec:?} has no name", format.id))?;
            let ty = parts.collect::<Vec<_>>().join(" ");
            Ok((
                name.to_owned(),
                if ty.is_empty() { "STRING".into() } else { ty },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(row_format: RowFormat) -> Table {
        Table {
            name: "input1".into(),
            columns: vec![
                ("region".into(), "STRING".into()),
                ("amount".into(), "INT".into()),
            ],
            row_format,
            location: "file:///data/s3/b/in".into(),
        }
    }

    #[test]
    fn csv_tables_use_the_csv_serde() {
        assert_eq!(
            table(RowFormat::Csv { escape: '"' }).create_statement(),
            "CREATE EXTERNAL TABLE `input1` (`region` STRING, `amount` STRING)\n\
             ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'\n\
             WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '\"', 'escapeChar' = '\"')\n\
             STORED AS TEXTFILE\nLOCATION 'file:///data/s3/b/in';\n"
        );
    }

    #[test]
    fn delimited_tables_name_their_separators_and_empty_nulls() {
        let statement = table(RowFormat::Delimited {
            column: b'\t',
            escape: Some(b'\\'),
        })
        .create_statement();
        assert!(
            statement.contains(
                "ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' \
                 LINES TERMINATED BY '\\n' NULL DEFINED AS ''\n"
            ),
            "{statement}"
        );
        let custom = table(RowFormat::Delimited {
            column: b'|',
            escape: None,
        })
        .create_statement();
        assert!(
            custom.contains("FIELDS TERMINATED BY '|' LINES"),
            "{custom}"
        );
    }

    #[test]
    fn regex_and_dynamodb_tables_escape_their_properties() {
        let statement = table(RowFormat::RegEx {
            input_regex: r#"(\S+) "([^"]*)" (\d+)"#.into(),
        })
        .create_statement();
        assert!(
            statement
                .contains(r#"WITH SERDEPROPERTIES ('input.regex' = '(\\S+) "([^"]*)" (\\d+)')"#),
            "{statement}"
        );
        let statement = table(RowFormat::DynamoRows).create_statement();
        assert!(
            statement.contains(
                r#"('field.delim' = '\u0001', 'escape.delim' = '\\', 'serialization.null.format' = '\\N', 'serialization.escape.crlf' = 'true')"#
            ),
            "{statement}"
        );
    }

    #[test]
    fn names_and_literals_are_quoted() {
        assert_eq!(sql_string("it's a\\b\n"), r"'it\'s a\\b\n'");
        assert_eq!(identifier("we`ird"), "`we``ird`");
        let format = PipelineObject {
            id: "Fmt".into(),
            name: "Fmt".into(),
            fields: vec![
                sluice_model::Field::string("column", "id BIGINT"),
                sluice_model::Field::string("column", "note"),
                sluice_model::Field::string("column", "price DECIMAL(10, 2)"),
            ],
        };
        assert_eq!(
            columns_of(&format).unwrap(),
            [
                ("id".to_string(), "BIGINT".to_string()),
                ("note".into(), "STRING".into()),
                ("price".into(), "DECIMAL(10, 2)".into())
            ]
        );
    }
}
