use super::*;

fn fields<'a>(type_name: &'a str) -> FormatFields<'a> {
    FormatFields {
        type_name,
        id: "Fmt",
        ..FormatFields::default()
    }
}

fn read_all(
    format: &RecordFormat,
    compression: Compression,
    bytes: &[u8],
) -> Result<Vec<Record>, FormatError> {
    let mut reader = format.reader(compression.decode(std::io::Cursor::new(bytes.to_vec())))?;
    let mut out = Vec::new();
    while let Some(r) = reader.next_record()? {
        out.push(r);
    }
    Ok(out)
}

fn write_all(
    format: &RecordFormat,
    compression: Compression,
    records: &[Record],
) -> Result<Vec<u8>, FormatError> {
    let mut buf = Vec::new();
    {
        let mut writer = format.writer(compression.encode(&mut buf))?;
        for r in records {
            writer.write_record(r)?;
        }
        writer.finish()?;
    }
    Ok(buf)
}

fn rec(fields: &[&str]) -> Record {
    fields
        .iter()
        .map(|f| (!f.is_empty()).then(|| f.to_string()))
        .collect()
}

/// A record given field by field, `None` for NULL.
fn row(fields: &[Option<&str>]) -> Record {
    fields.iter().map(|f| f.map(str::to_string)).collect()
}

fn format_of(f: &FormatFields<'_>) -> RecordFormat {
    RecordFormat::from_fields(f).unwrap()
}

fn csv_escaped_by(escape: &'static str) -> RecordFormat {
    let mut f = fields("CSV");
    f.escape_char = Some(escape);
    format_of(&f)
}

fn read(format: &RecordFormat, bytes: &[u8]) -> Vec<Record> {
    read_all(format, Compression::None, bytes).unwrap()
}

fn written(format: &RecordFormat, records: &[Record]) -> String {
    String::from_utf8(write_all(format, Compression::None, records).unwrap()).unwrap()
}

// dp-object-csv: "A comma-delimited data format where the column separator is a comma and the
// record separator is a newline character." A last record without a newline, CRLF line ends and
// blank lines between records are read too.
#[test]
fn csv_rule_comma_separates_columns_and_newline_separates_records() {
    let format = RecordFormat::csv();
    assert_eq!(
        read(&format, b"a,b,c\nd,e,f\r\n\n\r\ng,h,i"),
        vec![
            rec(&["a", "b", "c"]),
            rec(&["d", "e", "f"]),
            rec(&["g", "h", "i"])
        ]
    );
}

// dp-object-csv, escapeChar: "A character, for example "\", that instructs the parser to ignore
// the next character." AWS reads `1,Bob\, Jr.,20` as three fields; so does Sluice, with the
// format's three declared columns.
#[test]
fn csv_rule_escape_char_escapes_a_comma_outside_quotes() {
    let mut f = fields("CSV");
    f.escape_char = Some("\\");
    f.columns = vec!["id INT", "name STRING", "age INT"];
    let format = format_of(&f);
    assert_eq!(
        read(&format, b"1,Bob\\, Jr.,20\n"),
        vec![rec(&["1", "Bob, Jr.", "20"])]
    );
}

// dp-object-csv, escapeChar: the next character is literal whatever it is: a quote (which then
// does not open a quoted field), the escape character itself, or the newline that would end the
// record.
#[test]
fn csv_rule_escape_char_escapes_quotes_newlines_and_itself() {
    let format = csv_escaped_by("\\");
    assert_eq!(
        read(
            &format,
            b"\\\"not quoted,a\\\"b,c\\\\d,line\\\ntwo,\\n\nnext\n"
        ),
        vec![
            rec(&["\"not quoted", "a\"b", "c\\d", "line\ntwo", "n"]),
            rec(&["next"])
        ]
    );
}

// dp-object-csv, escapeChar inside a quoted field: it escapes a quote, a separator or itself.
#[test]
fn csv_rule_escape_char_works_inside_quoted_fields() {
    let format = csv_escaped_by("\\");
    assert_eq!(
        read(&format, b"\"a\\\"b\",\"x\\,y\",\"end\\\\\"\n"),
        vec![rec(&["a\"b", "x,y", "end\\"])]
    );
}

// dp-object-csv, escapeChar "for example": any single character can be the escape character.
#[test]
fn csv_rule_escape_char_can_be_any_character() {
    let format = csv_escaped_by("^");
    assert_eq!(
        read(&format, b"a^,b,^^,back\\slash\n"),
        vec![rec(&["a,b", "^", "back\\slash"])]
    );
    assert_eq!(
        written(&format, &[rec(&["a,b", "^", "back\\slash"])]),
        "a^,b,^^,back\\slash\n"
    );
}

// dp-object-copyactivity: the Unix/Linux CSV variant has "," separators, records "not quoted",
// backslash as the escape character and "\n" ending records. With escapeChar `\`, Sluice writes
// exactly that: escapes, no quotes (but for the empty string, see the NULL rules).
#[test]
fn csv_with_escape_char_writes_the_unquoted_unix_variant() {
    let format = csv_escaped_by("\\");
    let record = rec(&["1", "Bob, Jr.", "say \"hi\"", "C:\\dir", "two\nlines"]);
    let text = written(&format, std::slice::from_ref(&record));
    assert_eq!(text, "1,Bob\\, Jr.,say \\\"hi\\\",C:\\\\dir,two\\\nlines\n");
    assert_eq!(read(&format, text.as_bytes()), vec![record]);
}

// CSV quoting (RFC 4180, which the CSV format's `"` quoting follows): a quoted field holds
// commas and line breaks, `""` is one quote inside it, and a quote elsewhere is an ordinary
// character.
#[test]
fn csv_rule_quoted_fields_hold_separators_doubled_quotes_and_newlines() {
    let format = RecordFormat::csv();
    let input = b"a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\r\nline\",x\"y,\"closed\"tail\n";
    assert_eq!(
        read(&format, input),
        vec![
            rec(&["a", "b,c", "say \"hi\""]),
            rec(&["multi\r\nline", "x\"y", "closedtail"])
        ]
    );
}

// Without escapeChar, CSV output is RFC 4180: only a field holding a comma, a quote or a line
// break is quoted, with its quotes doubled.
#[test]
fn csv_without_escape_char_quotes_only_what_needs_it() {
    let format = RecordFormat::csv();
    assert_eq!(
        written(
            &format,
            &[rec(&["plain", "a,b", "x\"y", "cr\rlf\n", "back\\slash"])]
        ),
        "plain,\"a,b\",\"x\"\"y\",\"cr\rlf\n\",back\\slash\n"
    );
}

// An escapeChar of `"` is RFC 4180's doubled quote, which CSV reads and writes anyway (Hive's
// OpenCSVSerde is given the same).
#[test]
fn csv_escape_char_quote_is_rfc4180_doubling() {
    let format = csv_escaped_by("\"");
    assert_eq!(read(&format, b"\"a\"\"b\",c\n"), vec![rec(&["a\"b", "c"])]);
    assert_eq!(written(&format, &[rec(&["a\"b", "c"])]), "\"a\"\"b\",c\n");
}

// Decision (AWS documents no NULL for CSV, TSV or Custom): an empty field and `\N` read as NULL
// in every format; a quoted empty field is the empty string and a quoted or escaped `\N` is
// text.
#[test]
fn null_decision_reading() {
    assert_eq!(
        read(&RecordFormat::csv(), b",\"\",\\N,\"\\N\",N\n"),
        vec![row(&[None, Some(""), None, Some("\\N"), Some("N")])]
    );
    assert_eq!(
        read(&csv_escaped_by("\\"), b"\\N,\\\\N,x\\N\n"),
        vec![row(&[None, Some("\\N"), Some("xN")])]
    );
    let mut tsv = fields("TSV");
    tsv.escape_char = Some("\\");
    assert_eq!(
        read(&format_of(&tsv), b"\t\\N\t\\\\N\r\n"),
        vec![row(&[None, None, Some("\\N")])]
    );
}

// Decision: NULL is written as an empty field, the empty string as `""` in CSV, and a record
// whose only field is NULL as `\N` (an empty line would be skipped). TSV and Custom have no way
// to write an empty string: it is an empty field, which reads back as NULL.
#[test]
fn null_decision_writing() {
    let csv = RecordFormat::csv();
    let records = vec![
        row(&[None, Some("")]),
        row(&[None]),
        row(&[Some("")]),
        row(&[Some("\\N"), Some("x")]),
    ];
    let text = written(&csv, &records);
    assert_eq!(text, ",\"\"\n\\N\n\"\"\n\"\\N\",x\n");
    assert_eq!(read(&csv, text.as_bytes()), records);

    let escaped = csv_escaped_by("\\");
    let text = written(&escaped, &records);
    assert_eq!(text, ",\"\"\n\\N\n\"\"\n\\\\N,x\n");
    assert_eq!(read(&escaped, text.as_bytes()), records);

    let mut tsv = fields("TSV");
    tsv.escape_char = Some("\\");
    let tsv = format_of(&tsv);
    let text = written(&tsv, &records);
    assert_eq!(text, "\t\n\\N\n\\N\n\\\\N\tx\n");
    assert_eq!(
        read(&tsv, text.as_bytes()),
        vec![
            row(&[None, None]),
            row(&[None]),
            row(&[None]),
            row(&[Some("\\N"), Some("x")]),
        ]
    );
}

// dp-object-tsv: "the column separator is a tab character and the record separator is a newline
// character" (columnSeparator "Defaults to '\t'", recordSeparator "Defaults to '\n'"), and
// escapeChar "instructs the parser to ignore the next character".
#[test]
fn tsv_rule_tab_and_newline_by_default_with_escape_char() {
    let mut f = fields("TSV");
    f.escape_char = Some("\\");
    let format = format_of(&f);
    let input = b"a\tb\\\tc\td\\\\\r\nline\\\nbreak\t\t\n";
    let records = read(&format, input);
    assert_eq!(
        records,
        vec![rec(&["a", "b\tc", "d\\"]), rec(&["line\nbreak", "", ""])]
    );
    assert_eq!(
        written(&format, &records),
        "a\tb\\\tc\td\\\\\nline\\\nbreak\t\t\n"
    );
}

// dp-object-tsv: columnSeparator and recordSeparator may be other characters; escapeChar then
// escapes those.
#[test]
fn tsv_rule_separators_can_be_changed_and_are_escaped() {
    let mut f = fields("TSV");
    f.column_separator = Some("|");
    f.record_separator = Some(";");
    f.escape_char = Some("\\");
    let format = format_of(&f);
    let records = read(&format, b"a\\|b|c\\;d;\t\n|x;");
    assert_eq!(records, vec![rec(&["a|b", "c;d"]), rec(&["\t\n", "x"])]);
    assert_eq!(written(&format, &records), "a\\|b|c\\;d;\t\n|x;");
}

// Decision (the TSV and Custom pages document no quoting, and Hive's delimited tables have
// none): in TSV and Custom a quote is an ordinary character.
#[test]
fn tsv_and_custom_decision_quotes_are_ordinary_characters() {
    let tsv = format_of(&fields("TSV"));
    assert_eq!(read(&tsv, b"\"a\tb\"\n"), vec![rec(&["\"a", "b\""])]);
    let mut custom = fields("Custom");
    custom.column_separator = Some(",");
    let custom = format_of(&custom);
    assert_eq!(read(&custom, b"\"a,b\"\n"), vec![rec(&["\"a", "b\""])]);
    assert_eq!(written(&custom, &[rec(&["\"q\"", "x"])]), "\"q\",x\n");
}

// Without escapeChar a TSV or Custom file cannot hold a separator, a value `\N` or a `\r` ending
// the record: writing one is an error naming the record and the field, not a file that reads
// back differently.
#[test]
fn tsv_without_escape_char_refuses_what_would_read_back_differently() {
    let format = format_of(&fields("TSV"));
    for (value, says) in [
        ("a\tb", "separator"),
        ("two\nlines", "separator"),
        ("\\N", "reads as NULL"),
        ("ends\r", "\\r"),
    ] {
        let err = write_all(
            &format,
            Compression::None,
            &[rec(&["ok", "fine"]), rec(&["x", value])],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("record 2") && err.contains("field 2") && err.contains(says),
            "{value:?}: {err}"
        );
        assert!(err.contains("no escapeChar"), "{err}");
    }
    assert_eq!(
        written(&format, &[rec(&["mid\rdle", "x"])]),
        "mid\rdle\tx\n",
        "a \\r that does not end the record is written as it is"
    );
}

// dp-object-custom: columnSeparator "indicates the end of a column", recordSeparator "indicates
// the end of a row ... Only single characters are supported."
#[test]
fn custom_rule_single_character_separators() {
    let mut f = fields("Custom");
    f.column_separator = Some("|");
    f.record_separator = Some(";");
    let format = format_of(&f);
    let records = read(&format, b"1|a b;2|c\n;");
    assert_eq!(records, vec![rec(&["1", "a b"]), rec(&["2", "c\n"])]);
    assert_eq!(written(&format, &records), "1|a b;2|c\n;");
}

// dp-object-custom: columnSeparator is required, and separators are single characters.
#[test]
fn custom_needs_a_single_character_separator() {
    let err = RecordFormat::from_fields(&fields("Custom")).unwrap_err();
    assert!(err.to_string().contains("columnSeparator"), "{err}");
    let mut f = fields("Custom");
    f.column_separator = Some("||");
    let err = RecordFormat::from_fields(&f).unwrap_err();
    assert!(err.to_string().contains("single ASCII character"), "{err}");
    assert!(err.to_string().contains("Fmt"), "{err}");
}

#[test]
fn one_character_in_two_roles_is_refused() {
    let mut f = fields("TSV");
    f.column_separator = Some("\\n");
    let err = RecordFormat::from_fields(&f).unwrap_err().to_string();
    assert!(
        err.contains("column separator and the record separator are both '\\n'"),
        "{err}"
    );
    let mut f = fields("CSV");
    f.escape_char = Some(",");
    let err = RecordFormat::from_fields(&f).unwrap_err().to_string();
    assert!(err.contains("escapeChar are both ','"), "{err}");
}

#[test]
fn declared_columns_check_record_width() {
    let mut f = fields("CSV");
    f.columns = vec!["id INT", "name STRING"];
    let format = format_of(&f);
    assert_eq!(format.column_names(), vec!["id", "name"]);
    assert_eq!(format.columns[0].ty, "INT");
    let err = read_all(&format, Compression::None, b"1,a\n2,b,extra\n").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("record 2"), "{message}");
    assert!(message.contains("3 fields"), "{message}");
}

#[test]
fn quote_left_open_is_an_error_naming_the_record_and_field() {
    let err = read_all(
        &RecordFormat::csv(),
        Compression::None,
        b"1,ok\n2,\"never closed\n3,x\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("record 2") && err.contains("field 2") && err.contains("never closed"),
        "{err}"
    );
}

#[test]
fn escape_char_at_the_very_end_is_kept() {
    let format = csv_escaped_by("\\");
    assert_eq!(read(&format, b"a,b\\"), vec![rec(&["a", "b\\"])]);
    assert_eq!(read(&format, b"a,b\\\n"), vec![rec(&["a", "b\n"])]);
}

/// The bytes that break naive splitters: every separator, quote and escape used below, line
/// ends, the NULL marker's letters, and a multi-byte character.
const AWKWARD: &[char] = &[
    ',', '"', '\\', '^', '\n', '\r', '\t', '|', ';', 'N', 'a', ' ', 'é',
];

fn awkward_records() -> impl proptest::strategy::Strategy<Value = Vec<Record>> {
    use proptest::prelude::*;
    let text = proptest::collection::vec(proptest::sample::select(AWKWARD), 0..6)
        .prop_map(|chars| chars.into_iter().collect::<String>());
    let field = proptest::option::weighted(0.8, text);
    proptest::collection::vec(proptest::collection::vec(field, 1..4), 1..6)
}

/// What a record reads back as: TSV and Custom cannot tell the empty string from NULL.
fn as_read_back(format: &RecordFormat, records: &[Record]) -> Vec<Record> {
    let quoted = matches!(format.kind, FormatKind::Csv { .. });
    records
        .iter()
        .map(|r| {
            r.iter()
                .map(|f| f.clone().filter(|v| quoted || !v.is_empty()))
                .collect()
        })
        .collect()
}

proptest::proptest! {
    // Whatever a writer writes, the reader of the same format gives back; formats that cannot
    // hold a value refuse the record instead.
    #[test]
    fn written_records_read_back_the_same(records in awkward_records()) {
        let mut tsv = fields("TSV");
        tsv.escape_char = Some("\\");
        let mut tsv_pipes = fields("TSV");
        (tsv_pipes.column_separator, tsv_pipes.record_separator) = (Some("|"), Some(";"));
        tsv_pipes.escape_char = Some("^");
        let mut custom = fields("Custom");
        custom.column_separator = Some(";");
        let formats = [
            (RecordFormat::csv(), true),
            (csv_escaped_by("\\"), true),
            (csv_escaped_by("^"), true),
            (format_of(&tsv), true),
            (format_of(&tsv_pipes), true),
            (format_of(&fields("TSV")), false),
            (format_of(&custom), false),
        ];
        for (format, always_writes) in formats {
            match write_all(&format, Compression::None, &records) {
                Ok(bytes) => proptest::prop_assert_eq!(
                    read_all(&format, Compression::None, &bytes).unwrap(),
                    as_read_back(&format, &records),
                    "{:?} wrote {:?}", format.kind, String::from_utf8_lossy(&bytes)
                ),
                Err(e) => {
                    proptest::prop_assert!(!always_writes, "{:?}: {e}", format.kind);
                    proptest::prop_assert!(e.to_string().contains("no escapeChar"), "{e}");
                }
            }
        }
    }
}

#[test]
fn regex_reads_groups_and_writes_output_format() {
    let mut f = fields("RegEx");
    f.input_regex = Some(r"(\S+) - (\d+) (.*)");
    f.output_format = Some("%2$s:%1$s:%3$s");
    let format = RecordFormat::from_fields(&f).unwrap();
    let records = read_all(
        &format,
        Compression::None,
        b"host1 - 200 GET /\nhost2 - 404 \n",
    )
    .unwrap();
    assert_eq!(
        records,
        vec![rec(&["host1", "200", "GET /"]), rec(&["host2", "404", ""])]
    );
    let out = write_all(&format, Compression::None, &records).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "200:host1:GET /\n404:host2:null\n"
    );
}

#[test]
fn regex_line_that_does_not_match_names_the_line() {
    let mut f = fields("RegEx");
    f.input_regex = Some(r"(\d+)");
    let format = RecordFormat::from_fields(&f).unwrap();
    let err = read_all(&format, Compression::None, b"1\n22\nx3\n").unwrap_err();
    assert!(err.to_string().contains("record 3"), "{err}");
}

#[test]
fn invalid_regex_is_reported() {
    let mut f = fields("RegEx");
    f.input_regex = Some("(unclosed");
    let err = RecordFormat::from_fields(&f).unwrap_err();
    assert!(err.to_string().contains("inputRegEx"), "{err}");
}

#[test]
fn gzip_round_trip_and_concatenated_members() {
    let format = RecordFormat::csv();
    let a = write_all(&format, Compression::Gzip, &[rec(&["1", "a"])]).unwrap();
    let b = write_all(&format, Compression::Gzip, &[rec(&["2", "b"])]).unwrap();
    assert_eq!(&a[..2], &[0x1f, 0x8b], "gzip magic");
    let mut both = a.clone();
    both.extend_from_slice(&b);
    assert_eq!(
        read_all(&format, Compression::Gzip, &both).unwrap(),
        vec![rec(&["1", "a"]), rec(&["2", "b"])]
    );
}

#[test]
fn compression_values() {
    assert_eq!(Compression::parse(None).unwrap(), Compression::None);
    assert_eq!(Compression::parse(Some("GZIP")).unwrap(), Compression::Gzip);
    assert!(
        Compression::parse(Some("zip"))
            .unwrap_err()
            .to_string()
            .contains("zip")
    );
}

#[test]
fn bad_utf8_names_the_record() {
    let format = RecordFormat::from_fields(&fields("TSV")).unwrap();
    let err = read_all(&format, Compression::None, b"ok\n\xff\xfe\n").unwrap_err();
    assert!(err.to_string().contains("record 2"), "{err}");
    // The two bytes of `é` split by a separator: valid together, neither field alone.
    let err = read_all(&format, Compression::None, b"\xc3\t\xa9\n").unwrap_err();
    assert!(
        err.to_string().contains("record 1: is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn unknown_format_type_is_refused() {
    let err = RecordFormat::from_fields(&fields("DynamoDBDataFormat")).unwrap_err();
    assert!(err.to_string().contains("not a record format"), "{err}");
}
