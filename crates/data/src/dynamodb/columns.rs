//! Items as rows of a Hive schema, the form of `DynamoDBDataFormat`.
//!
//! A `DynamoDBDataFormat` lists columns as `"name TYPE"` with Hive types, as the EMR DynamoDB
//! storage handler reads them. Each column is the attribute of the same name; a row holds the
//! column values as text (`None` for a missing or NULL attribute), which is what the text
//! formats (CSV, TSV, …) write. Types map as the storage handler maps them: `string`,
//! `varchar`, `char` ↔ S; `bigint`, `int`, `smallint`, `tinyint`, `double`, `float`,
//! `decimal` ↔ N; `boolean` ↔ BOOL; `binary` ↔ B (base64 text); `array<string>` ↔ SS;
//! `array<` a numeric type `>` ↔ NS; `array<binary>` ↔ BS; any other `map<…>`, `array<…>` or
//! `struct<…>` ↔ the attribute's typed JSON.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::Item;
use super::item_json::{self, number};

/// How a column's text maps to an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Number,
    Boolean,
    Binary,
    StringSet,
    NumberSet,
    BinarySet,
    /// The attribute as typed JSON (`{"M":{…}}`), for nested types.
    Json,
}

/// One column of a `DynamoDBDataFormat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub column_type: ColumnType,
}

/// Parses `column` values (`"name TYPE"`). An empty list is an error: without columns there
/// is no way to know which attributes make a row.
pub fn parse_columns<'a>(specs: impl IntoIterator<Item = &'a str>) -> Result<Vec<Column>, String> {
    let columns: Vec<Column> = specs
        .into_iter()
        .map(parse_column)
        .collect::<Result<_, _>>()?;
    if columns.is_empty() {
        return Err("DynamoDBDataFormat needs at least one column (\"name TYPE\")".to_owned());
    }
    Ok(columns)
}

fn parse_column(spec: &str) -> Result<Column, String> {
    let spec = spec.trim();
    let Some((name, hive_type)) = spec.split_once(char::is_whitespace) else {
        return Err(format!("column {spec:?} is not \"name TYPE\""));
    };
    let t = hive_type.trim().to_ascii_lowercase().replace(' ', "");
    let numeric = |t: &str| {
        matches!(
            t,
            "bigint" | "int" | "integer" | "smallint" | "tinyint" | "double" | "float"
        ) || t.starts_with("decimal")
    };
    let column_type = if matches!(t.as_str(), "string" | "char" | "varchar")
        || t.starts_with("varchar(")
        || t.starts_with("char(")
    {
        ColumnType::String
    } else if numeric(&t) {
        ColumnType::Number
    } else if t == "boolean" {
        ColumnType::Boolean
    } else if t == "binary" {
        ColumnType::Binary
    } else if let Some(inner) = t.strip_prefix("array<").and_then(|r| r.strip_suffix('>')) {
        match inner {
            "string" => ColumnType::StringSet,
            "binary" => ColumnType::BinarySet,
            i if numeric(i) => ColumnType::NumberSet,
            _ => ColumnType::Json,
        }
    } else if t.starts_with("map<") || t.starts_with("struct<") {
        ColumnType::Json
    } else {
        return Err(format!(
            "column {name:?} has type {hive_type:?}, which a DynamoDB attribute cannot hold"
        ));
    };
    Ok(Column {
        name: name.to_owned(),
        column_type,
    })
}

/// The row of `item` under `columns`.
pub fn item_to_row(item: &Item, columns: &[Column]) -> Vec<Option<String>> {
    columns
        .iter()
        .map(|c| item.get(&c.name).and_then(|v| value_text(v, c.column_type)))
        .collect()
}

fn value_text(value: &AttributeValue, column_type: ColumnType) -> Option<String> {
    let join = |v: &[String]| serde_json::to_string(v).unwrap_or_default();
    Some(match (value, column_type) {
        (AttributeValue::Null(_), _) => return None,
        (AttributeValue::S(s), ColumnType::String) => s.clone(),
        (AttributeValue::N(n), ColumnType::Number | ColumnType::String) => n.clone(),
        (AttributeValue::Bool(b), ColumnType::Boolean | ColumnType::String) => b.to_string(),
        (AttributeValue::B(b), ColumnType::Binary) => BASE64.encode(b.as_ref()),
        (AttributeValue::Ss(v), ColumnType::StringSet) => join(v),
        (AttributeValue::Ns(v), ColumnType::NumberSet) => join(v),
        (AttributeValue::Bs(v), ColumnType::BinarySet) => join(
            &v.iter()
                .map(|b| BASE64.encode(b.as_ref()))
                .collect::<Vec<_>>(),
        ),
        // Anything else keeps its type information rather than losing it to a bare string.
        (other, _) => {
            let single = Item::from([(String::new(), other.clone())]);
            item_json::item_to_json(&single)[""].to_string()
        }
    })
}

/// The item a row stands for. `None` values (and empty text outside string columns) leave the
/// attribute out, as DynamoDB has no empty numbers.
pub fn row_to_item(row: &[Option<String>], columns: &[Column]) -> Result<Item, String> {
    if row.len() != columns.len() {
        return Err(format!(
            "row has {} values but the format has {} columns",
            row.len(),
            columns.len()
        ));
    }
    let mut item = Item::with_capacity(columns.len());
    for (column, value) in columns.iter().zip(row) {
        let Some(text) = value else { continue };
        if text.is_empty() && column.column_type != ColumnType::String {
            continue;
        }
        let value = text_value(text, column.column_type)
            .map_err(|e| format!("column {:?}: {e}", column.name))?;
        item.insert(column.name.clone(), value);
    }
    Ok(item)
}

fn text_value(text: &str, column_type: ColumnType) -> Result<AttributeValue, String> {
    let list = || -> Result<Vec<String>, String> {
        serde_json::from_str::<Vec<serde_json::Value>>(text)
            .map_err(|e| format!("{text:?} is not a JSON list: {e}"))?
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                serde_json::Value::Number(n) => Ok(n.to_string()),
                other => Err(format!("set member {other} is not a string or number")),
            })
            .collect()
    };
    let blob = |s: &str| {
        BASE64
            .decode(s.trim().as_bytes())
            .map(Blob::new)
            .map_err(|e| format!("{s:?} is not base64: {e}"))
    };
    Ok(match column_type {
        ColumnType::String => AttributeValue::S(text.to_owned()),
        ColumnType::Number => AttributeValue::N(number(text)?),
        ColumnType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => AttributeValue::Bool(true),
            "false" | "0" => AttributeValue::Bool(false),
            _ => return Err(format!("{text:?} is not a boolean")),
        },
        ColumnType::Binary => AttributeValue::B(blob(text)?),
        ColumnType::StringSet => AttributeValue::Ss(list()?),
        ColumnType::NumberSet => AttributeValue::Ns(
            list()?
                .iter()
                .map(|n| number(n))
                .collect::<Result<_, _>>()?,
        ),
        ColumnType::BinarySet => {
            AttributeValue::Bs(list()?.iter().map(|s| blob(s)).collect::<Result<_, _>>()?)
        }
        ColumnType::Json => {
            let wrapped = format!("{{\"v\":{text}}}");
            item_json::item_from_line(&wrapped)?
                .remove("v")
                .ok_or_else(|| format!("{text:?} is not typed JSON"))?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::item_json::item;

    #[test]
    fn rows_and_items_convert_both_ways_by_column_type() {
        let columns = parse_columns([
            "id string",
            "n bigint",
            "price DECIMAL(10,2)",
            "ok boolean",
            "tags array<string>",
            "meta map<string,string>",
            "missing string",
        ])
        .unwrap();
        let original = item([
            ("id", AttributeValue::S("a1".into())),
            ("n", AttributeValue::N("42".into())),
            ("price", AttributeValue::N("9.99".into())),
            ("ok", AttributeValue::Bool(true)),
            ("tags", AttributeValue::Ss(vec!["x".into(), "y".into()])),
            (
                "meta",
                AttributeValue::M(item([("k", AttributeValue::S("v".into()))])),
            ),
            ("ignored", AttributeValue::S("not a column".into())),
        ]);
        let row = item_to_row(&original, &columns);
        assert_eq!(
            row,
            vec![
                Some("a1".into()),
                Some("42".into()),
                Some("9.99".into()),
                Some("true".into()),
                Some(r#"["x","y"]"#.into()),
                Some(r#"{"M":{"k":{"S":"v"}}}"#.into()),
                None,
            ]
        );
        let back = row_to_item(&row, &columns).unwrap();
        let mut expected = original.clone();
        expected.remove("ignored");
        assert_eq!(back, expected);
    }

    #[test]
    fn bad_schemas_and_values_name_the_column() {
        assert!(
            parse_columns([])
                .unwrap_err()
                .contains("at least one column")
        );
        assert!(parse_columns(["id"]).unwrap_err().contains("\"name TYPE\""));
        assert!(
            parse_columns(["at timestamp"])
                .unwrap_err()
                .contains("\"at\"")
        );
        let columns = parse_columns(["n int"]).unwrap();
        let err = row_to_item(&[Some("ten".into())], &columns).unwrap_err();
        assert!(
            err.contains("column \"n\"") && err.contains("not a number"),
            "{err}"
        );
        let err = row_to_item(&[], &columns).unwrap_err();
        assert!(err.contains("0 values"), "{err}");
    }
}
