//! Executors box their work as `Send` futures; these checks keep the data crate's futures
//! usable there (a non-`Send` future only shows up as an error far away, in the executor).

use sluice_data::format::Compression;
use sluice_data::format::RecordFormat;
use sluice_data::format::objects::{Chunk, ObjectFile};
use sluice_data::sql::SqlConn;
use sluice_data::sql::script::Statement;
use sluice_data::sql::table::TableSpec;
use tokio::sync::mpsc;

fn assert_send<T: Send>(_: &T) {}

#[allow(dead_code)]
async fn futures_are_send(
    conn: &mut SqlConn,
    owned: SqlConn,
    spec: &TableSpec,
    file: &ObjectFile,
    st: &Statement,
) {
    let (tx, rx) = mpsc::channel::<Chunk>(1);
    assert_send(&conn.execute_raw("x"));
    assert_send(&conn.execute_bound(st, &[]));
    assert_send(&conn.table_exists(None, "t"));
    assert_send(&conn.primary_key(None, "t"));
    assert_send(&spec.read(conn, tx.clone()));
    assert_send(&spec.ensure(conn));
    assert_send(&sluice_data::sql::table::copy_in(
        conn,
        "COPY",
        mpsc::channel(1).1,
    ));
    assert_send(&spec.load(owned, rx));
    assert_send(&file.read_records(RecordFormat::csv(), Compression::None, tx));
    assert_send(&file.write_records(RecordFormat::csv(), Compression::None, mpsc::channel(1).1));
    assert_send(&file.copy_to(file));
    assert_send(&file.list_dir());
}

#[test]
fn compiles() {}
