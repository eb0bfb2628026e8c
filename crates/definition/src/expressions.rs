//! What validation needs from the expression language without evaluating anything: whether a
//! value holds an expression, whether it parses, and which `my…` names its expressions use.
//!
//! Everything is delegated to `sluice-expr` so that the validator and the evaluator agree on
//! the grammar.

/// Whether `raw` contains a `#{...}` expression (and so is evaluated rather than literal).
pub(crate) fn contains_expression(raw: &str) -> bool {
    sluice_expr::contains_expression(raw)
}

/// Checks the syntax of every expression in `raw`. The error omits the value itself, so it may
/// be shown for secret fields only when `secret` is false.
pub(crate) fn check_syntax(raw: &str) -> Result<(), String> {
    sluice_expr::check_syntax(raw).map_err(|e| {
        let at = e.span.start;
        format!("{} (at byte {at})", e.kind)
    })
}

/// The `my…` / `*my…` names that the `#{...}` parts of `raw` use as fields of the current
/// object (heads of reference chains, not member names after `.`), in order of first use. A
/// value that does not parse has none: its syntax error is reported instead.
pub(crate) fn user_names(raw: &str) -> Vec<String> {
    let Ok(template) = sluice_expr::parse_template(raw) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for path in template.field_paths() {
        if let Some(head) = path.path.first()
            && is_user_name(head.as_bytes())
            && !out.contains(head)
        {
            out.push(head.clone());
        }
    }
    out
}

/// `my` followed by an uppercase letter or `_`, optionally after `*`: the user-field and
/// parameter namespace.
pub(crate) fn is_user_name(name: &[u8]) -> bool {
    let name = name.strip_prefix(b"*").unwrap_or(name);
    name.len() > 2 && name.starts_with(b"my") && (name[2].is_ascii_uppercase() || name[2] == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_bare_user_names_only() {
        assert_eq!(
            user_names("s3://#{myBucket}/#{myPrefix}/x"),
            ["myBucket", "myPrefix"]
        );
        assert_eq!(user_names("#{*myPassword}"), ["*myPassword"]);
        assert_eq!(user_names("#{2*myCount}"), ["myCount"]);
        assert_eq!(
            user_names("#{node.myField} #{input.directoryPath}"),
            Vec::<String>::new()
        );
        assert_eq!(
            user_names("#{myFunc(1)} #{'myQuoted'} myOutside"),
            Vec::<String>::new()
        );
        assert_eq!(
            user_names("#{format(myDate, 'YYYY')} #{myDate}"),
            ["myDate"]
        );
        assert_eq!(user_names("#{myRef.path}"), ["myRef"]);
        assert_eq!(user_names("#{mysql} #{my_x} #{myx}"), ["my_x"]);
        assert_eq!(user_names("#{myOpen"), Vec::<String>::new());
        assert_eq!(user_names("#{\"a}\" + myB}"), ["myB"]);
        assert_eq!(user_names("no expressions"), Vec::<String>::new());
    }

    #[test]
    fn user_name_rule() {
        assert!(is_user_name(b"myX"));
        assert!(is_user_name(b"my_x"));
        assert!(is_user_name(b"*myPassword"));
        assert!(!is_user_name(b"my"));
        assert!(!is_user_name(b"mysql"));
        assert!(!is_user_name(b"*password"));
    }
}
