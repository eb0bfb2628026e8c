//! Splitting SQL scripts into statements and finding `?` placeholders, skipping quoted text,
//! comments and PostgreSQL dollar-quoted bodies.

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    /// Byte offsets of the `?` placeholders in `sql`.
    pub placeholders: Vec<usize>,
}

/// Splits `script` at top-level `;` into non-empty statements.
pub fn split(script: &str) -> Vec<Statement> {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut placeholders = Vec::new();
    scan(script, |pos, c| match c {
        ';' => {
            push(
                &mut statements,
                &script[start..pos],
                start,
                &mut placeholders,
            );
            start = pos + 1;
        }
        '?' => placeholders.push(pos),
        _ => {}
    });
    push(&mut statements, &script[start..], start, &mut placeholders);
    statements
}

fn push(out: &mut Vec<Statement>, text: &str, offset: usize, placeholders: &mut Vec<usize>) {
    let trimmed_start = text.len() - text.trim_start().len();
    let sql = text.trim();
    let holes: Vec<usize> = placeholders
        .drain(..)
        .map(|p| p - offset - trimmed_start)
        .collect();
    if !is_blank(sql) {
        out.push(Statement {
            sql: sql.to_string(),
            placeholders: holes,
        });
    }
}

/// Whether `sql` holds nothing but comments and whitespace.
fn is_blank(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .find('\n')
                .map(|n| &after[n + 1..])
                .unwrap_or("")
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .find("*/")
                .map(|n| &after[n + 2..])
                .unwrap_or("")
                .trim_start();
        } else {
            return rest.is_empty();
        }
    }
}

/// Rewrites `?` placeholders as `$1`, `$2`, … (PostgreSQL), each wrapped by `wrap`.
pub fn number_placeholders(statement: &Statement, wrap: impl Fn(usize) -> String) -> String {
    let mut out = String::with_capacity(statement.sql.len() + 8 * statement.placeholders.len());
    let mut last = 0;
    for (i, &pos) in statement.placeholders.iter().enumerate() {
        out.push_str(&statement.sql[last..pos]);
        out.push_str(&wrap(i + 1));
        last = pos + 1;
    }
    out.push_str(&statement.sql[last..]);
    out
}

/// Calls `on` with the byte offset of every `;` and `?` outside quotes and comments.
fn scan(sql: &str, mut on: impl FnMut(usize, char)) {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'\\' && c == b'\'' {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == c {
                        if bytes.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..]
                    .find('\n')
                    .map(|n| i + n + 1)
                    .unwrap_or(bytes.len());
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map(|n| i + n + 4)
                    .unwrap_or(bytes.len());
            }
            b'$' => {
                // A dollar quote `$tag$ … $tag$`; `$1` parameters are not quotes.
                let tag_end = sql[i + 1..]
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .map(|n| i + 1 + n);
                match tag_end {
                    Some(end)
                        if bytes[end] == b'$'
                            && !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) =>
                    {
                        let tag = &sql[i..=end];
                        i = sql[end + 1..]
                            .find(tag)
                            .map(|n| end + 1 + n + tag.len())
                            .unwrap_or(bytes.len());
                    }
                    _ => i += 1,
                }
            }
            b';' => {
                on(i, ';');
                i += 1;
            }
            b'?' => {
                on(i, '?');
                i += 1;
            }
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let script = "create table t (a text); -- one; two\ninsert into t values ('x;y', ?);\n/* ; */ select $$a;b$$, $1;\n  ;  -- trailing\n";
        let parts = split(script);
        let sql: Vec<&str> = parts.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            vec![
                "create table t (a text)",
                "-- one; two\ninsert into t values ('x;y', ?)",
                "/* ; */ select $$a;b$$, $1",
            ]
        );
        assert_eq!(parts[0].placeholders, Vec::<usize>::new());
        assert_eq!(parts[1].placeholders.len(), 1);
        assert_eq!(&parts[1].sql[parts[1].placeholders[0]..][..1], "?");
    }

    #[test]
    fn quoted_question_marks_are_not_placeholders() {
        let parts = split("select '?', \"a?\", ? from t where x = 'it''s?'");
        assert_eq!(parts[0].placeholders.len(), 1);
        assert_eq!(
            number_placeholders(&parts[0], |n| format!("${n}")),
            "select '?', \"a?\", $1 from t where x = 'it''s?'"
        );
    }
}
