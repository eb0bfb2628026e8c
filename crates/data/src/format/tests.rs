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

#[test]
fn csv_reads_rfc4180_quoting() {
    let format = RecordFormat::csv();
    let input = b"a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",,x\n";
    let records = read_all(&format, Compression::None, input).unwrap();
    assert_eq!(
        records,
        vec![
            rec(&["a", "b,c", "say \"hi\""]),
            rec(&["multi\nline", "", "x"])
        ]
    );
    assert_eq!(records[1][1], None, "an empty field is NULL");
}

#[test]
fn csv_round_trips_awkward_values() {
    let format = RecordFormat::csv();
    let records = vec![
        rec(&["plain", "with,comma", "with \"quote\""]),
        rec(&["new\nline", "", "trailing space "]),
    ];
    let bytes = write_all(&format, Compression::None, &records).unwrap();
    assert_eq!(
        read_all(&format, Compression::None, &bytes).unwrap(),
        records
    );
}

#[test]
fn csv_with_escape_char_reads_backslash_escaped_quotes() {
    let mut f = fields("CSV");
    f.escape_char = Some("\\");
    let format = RecordFormat::from_fields(&f).unwrap();
    let records = read_all(&format, Compression::None, b"\"a\\\"b\",c\n").unwrap();
    assert_eq!(records, vec![rec(&["a\"b", "c"])]);
}

#[test]
fn declared_columns_check_record_width() {
    let mut f = fields("CSV");
    f.columns = vec!["id INT", "name STRING"];
    let format = RecordFormat::from_fields(&f).unwrap();
    assert_eq!(format.column_names(), vec!["id", "name"]);
    assert_eq!(format.columns[0].ty, "INT");
    let err = read_all(&format, Compression::None, b"1,a\n2,b,extra\n").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("record 2"), "{message}");
    assert!(message.contains("3 fields"), "{message}");
}

#[test]
fn tsv_defaults_and_escapes() {
    let mut f = fields("TSV");
    f.escape_char = Some("\\");
    let format = RecordFormat::from_fields(&f).unwrap();
    let input = b"a\tb\\\tc\td\\\\\r\nline\\\nbreak\t\t\n";
    let records = read_all(&format, Compression::None, input).unwrap();
    assert_eq!(
        records,
        vec![rec(&["a", "b\tc", "d\\"]), rec(&["line\nbreak", "", ""])]
    );
    let bytes = write_all(&format, Compression::None, &records).unwrap();
    assert_eq!(
        read_all(&format, Compression::None, &bytes).unwrap(),
        records
    );
}

#[test]
fn tsv_without_escape_refuses_to_write_a_separator() {
    let format = RecordFormat::from_fields(&fields("TSV")).unwrap();
    let err = write_all(&format, Compression::None, &[rec(&["ok"]), rec(&["a\tb"])]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("record 2") && message.contains("field 1"),
        "{message}"
    );
}

#[test]
fn custom_separators() {
    let mut f = fields("Custom");
    f.column_separator = Some("|");
    f.record_separator = Some(";");
    let format = RecordFormat::from_fields(&f).unwrap();
    let records = read_all(&format, Compression::None, b"1|a b;2|c\n;").unwrap();
    assert_eq!(records, vec![rec(&["1", "a b"]), rec(&["2", "c\n"])]);
    assert_eq!(
        write_all(&format, Compression::None, &records).unwrap(),
        b"1|a b;2|c\n;"
    );
}

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
}

#[test]
fn unknown_format_type_is_refused() {
    let err = RecordFormat::from_fields(&fields("DynamoDBDataFormat")).unwrap_err();
    assert!(err.to_string().contains("not a record format"), "{err}");
}
