//! The text layout of staged DynamoDB tables, as Hive's `LazySimpleSerDe` reads and writes it
//! with the properties of [`RowFormat::DynamoRows`](super::ddl::RowFormat::DynamoRows).
//!
//! One record per line; fields are separated by `\x01` (Hive's default, which attribute
//! values practically never hold); `\` escapes a separator, itself, and stands for line breaks
//! as `\n` / `\r`; a field that is exactly `\N` is NULL (a missing attribute), so an empty
//! string stays an empty string.

/// The field separator.
const SEPARATOR: char = '\u{1}';
const ESCAPE: char = '\\';
const NULL: &str = "\\N";

/// One record as a line, with its line break.
pub fn encode(row: &[Option<String>]) -> String {
    let mut line = String::new();
    for (k, field) in row.iter().enumerate() {
        if k > 0 {
            line.push(SEPARATOR);
        }
        let Some(text) = field else {
            line.push_str(NULL);
            continue;
        };
        for c in text.chars() {
            match c {
                '\n' => line.push_str("\\n"),
                '\r' => line.push_str("\\r"),
                SEPARATOR | ESCAPE => {
                    line.push(ESCAPE);
                    line.push(c);
                }
                c => line.push(c),
            }
        }
    }
    line.push('\n');
    line
}

/// The fields of one line (without its line break).
pub fn decode(line: &str) -> Vec<Option<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut start = 0;
    let mut chars = line.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            ESCAPE => match chars.next() {
                Some((_, 'n')) => field.push('\n'),
                Some((_, 'r')) => field.push('\r'),
                Some((_, next)) => field.push(next),
                None => field.push(ESCAPE),
            },
            SEPARATOR => {
                fields.push(value(&line[start..at], &mut field));
                start = at + SEPARATOR.len_utf8();
            }
            c => field.push(c),
        }
    }
    fields.push(value(&line[start..], &mut field));
    fields
}

/// The decoded field, or NULL when the field as written is exactly the marker.
fn value(written: &str, field: &mut String) -> Option<String> {
    let text = std::mem::take(field);
    (written != NULL).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[Option<&str>]) -> Vec<Option<String>> {
        fields.iter().map(|f| f.map(str::to_string)).collect()
    }

    #[test]
    fn records_round_trip_with_awkward_values() {
        let awkward = row(&[
            Some("a\nb\r"),
            None,
            Some(""),
            Some("x\u{1}y\\z"),
            Some("\\N"),
            Some("N"),
        ]);
        let line = encode(&awkward);
        assert_eq!(
            line,
            "a\\nb\\r\u{1}\\N\u{1}\u{1}x\\\u{1}y\\\\z\u{1}\\\\N\u{1}N\n"
        );
        assert_eq!(decode(line.trim_end_matches('\n')), awkward);
    }

    #[test]
    fn what_hive_writes_is_read() {
        // Hive escapes the collection separators too, and writes NULL as \N.
        assert_eq!(
            decode("a\\\u{2}b\u{1}\\N\u{1}17"),
            row(&[Some("a\u{2}b"), None, Some("17")])
        );
        assert_eq!(decode(""), row(&[Some("")]));
    }
}
