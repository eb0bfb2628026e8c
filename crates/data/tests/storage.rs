//! `ObjectStores` against a real S3 server (s3s-fs on loopback) and against the embedded
//! local store, with the same operations, so both behave alike.

use std::path::PathBuf;

use sluice_data::storage::{ObjectStores, S3Settings, Secret, StorageError};
#[cfg(feature = "s3")]
use sluice_testsupport::s3::S3Server;

#[cfg(feature = "s3")]
fn s3_settings(server: &S3Server) -> S3Settings {
    S3Settings {
        endpoint: Some(server.endpoint()),
        access_key_id: Some(server.access_key().to_string()),
        secret_access_key: Some(Secret::new(server.secret_key())),
        ..S3Settings::default()
    }
}

/// The same checks on any backend; `file_of(bucket, key)` is where the backend keeps an
/// object on disk, so writes are verified without going through the code under test.
async fn exercise(stores: &ObjectStores, bucket: &str, file_of: &dyn Fn(&str, &str) -> PathBuf) {
    let scratch = tempfile::tempdir().unwrap();
    let local = scratch.path().join("in.txt");
    std::fs::write(&local, "hello, s3\n").unwrap();

    // put, then the object is there with the same bytes
    let uri = format!("s3://{bucket}/data/2026/in.txt");
    assert_eq!(stores.put_file(&local, &uri).await.unwrap(), 10);
    assert_eq!(
        std::fs::read_to_string(file_of(bucket, "data/2026/in.txt")).unwrap(),
        "hello, s3\n"
    );
    assert!(stores.exists(&uri).await.unwrap());
    assert!(
        !stores
            .exists(&format!("s3://{bucket}/data/2026/other.txt"))
            .await
            .unwrap()
    );

    assert!(stores.file_exists(&uri).await.unwrap());
    assert!(!stores.dir_exists(&uri).await.unwrap());
    assert!(
        stores
            .dir_exists(&format!("s3://{bucket}/data/2026"))
            .await
            .unwrap()
    );
    assert!(
        stores
            .dir_exists(&format!("s3://{bucket}/data/2026/"))
            .await
            .unwrap()
    );
    assert!(
        !stores
            .dir_exists(&format!("s3://{bucket}/data/2027"))
            .await
            .unwrap()
    );
    assert!(
        !stores
            .file_exists(&format!("s3://{bucket}/data/x.txt"))
            .await
            .unwrap()
    );

    // get
    let back = scratch.path().join("deep/out.txt");
    assert_eq!(stores.get_to_file(&uri, &back).await.unwrap(), 10);
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "hello, s3\n");
    assert!(
        !scratch.path().join("deep/out.txt.partial").exists(),
        "no partial file is left behind"
    );

    // part of an object: its size, then a range of it
    let location = stores.resolve(&uri).unwrap();
    assert_eq!(location.head().await.unwrap().size, 10);
    assert_eq!(&location.get_range(7..10).await.unwrap()[..], b"s3\n");
    assert!(location.get_range(4..4).await.unwrap().is_empty());

    // missing object: a clear error naming the URI
    let missing = format!("s3://{bucket}/nope/missing.txt");
    let err = stores
        .get_to_file(&missing, &scratch.path().join("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("{missing} does not exist"));

    // copy inside the bucket
    let copy = format!("s3://{bucket}/copies/in-copy.txt");
    stores.copy(&uri, &copy).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(file_of(bucket, "copies/in-copy.txt")).unwrap(),
        "hello, s3\n"
    );
    // copy between the store and the local file system
    let local_copy = scratch.path().join("copied/local.txt");
    stores
        .copy(&uri, &format!("file://{}", local_copy.display()))
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&local_copy).unwrap(), "hello, s3\n");

    // list is directory-wise and sorted; prefixes are raw string prefixes
    std::fs::write(&local, "b").unwrap();
    stores
        .put_file(&local, &format!("s3://{bucket}/data/2026/sub/b.txt"))
        .await
        .unwrap();
    let listed = stores
        .list(&format!("s3://{bucket}/data/2026/"))
        .await
        .unwrap();
    let names: Vec<_> = listed.iter().map(|l| l.relative.as_str()).collect();
    assert_eq!(names, ["in.txt", "sub/b.txt"]);
    assert_eq!(listed[1].uri, format!("s3://{bucket}/data/2026/sub/b.txt"));
    assert_eq!(listed[1].size, 1);
    assert!(
        stores
            .list(&format!("s3://{bucket}/data/20"))
            .await
            .unwrap()
            .is_empty(),
        "list takes its argument as a directory"
    );
    for (prefix, expected) in [
        ("data/20", true),
        ("data/2026/", true),
        ("data/2026/in.txt", true),
        ("data/2026/s", true),
        ("data/2027", false),
        ("datax", false),
        ("copies/", true),
        ("", true),
    ] {
        let uri = format!("s3://{bucket}/{prefix}");
        assert_eq!(
            stores.prefix_not_empty(&uri).await.unwrap(),
            expected,
            "prefix_not_empty({uri})"
        );
    }

    // whole directories both ways
    let tree = scratch.path().join("tree");
    std::fs::create_dir_all(tree.join("x/y")).unwrap();
    std::fs::write(tree.join("top.csv"), "1,2\n").unwrap();
    std::fs::write(tree.join("x/y/leaf.csv"), "3,4\n").unwrap();
    let dir_uri = format!("s3://{bucket}/tree");
    assert_eq!(
        stores
            .resolve(&dir_uri)
            .unwrap()
            .put_dir(&tree)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        std::fs::read_to_string(file_of(bucket, "tree/x/y/leaf.csv")).unwrap(),
        "3,4\n"
    );
    let down = scratch.path().join("down");
    assert_eq!(
        stores
            .resolve(&dir_uri)
            .unwrap()
            .get_dir(&down)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        std::fs::read_to_string(down.join("x/y/leaf.csv")).unwrap(),
        "3,4\n"
    );
    assert_eq!(
        std::fs::read_to_string(down.join("top.csv")).unwrap(),
        "1,2\n"
    );
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn s3_server_put_get_list_exists_copy() {
    let server = S3Server::start();
    server.create_bucket("alpha");
    let data_dir = tempfile::tempdir().unwrap();
    let stores = ObjectStores::new(&s3_settings(&server), data_dir.path()).unwrap();
    assert!(stores.describe().contains(&server.endpoint()));
    assert_eq!(stores.local_path("s3://alpha/k").unwrap(), None);
    exercise(&stores, "alpha", &|b, k| server.object_file(b, k)).await;
    assert!(
        !data_dir.path().join("s3").exists(),
        "with an S3 server configured nothing goes to the embedded store"
    );
}

#[tokio::test]
async fn embedded_store_keeps_objects_under_the_data_dir() {
    let data_dir = tempfile::tempdir().unwrap();
    let stores = ObjectStores::new(&S3Settings::default(), data_dir.path()).unwrap();
    let root = data_dir.path().join("s3");
    assert!(stores.describe().contains(&root.display().to_string()));
    assert_eq!(
        stores.local_path("s3://beta/a/b.txt").unwrap(),
        Some(root.join("beta/a/b.txt"))
    );
    assert_eq!(
        stores.local_path("file:///tmp/x/y").unwrap(),
        Some(PathBuf::from("/tmp/x/y"))
    );
    // Locally an empty directory exists; there are no empty directories in S3.
    std::fs::create_dir_all(root.join("beta/empty")).unwrap();
    assert!(stores.dir_exists("s3://beta/empty").await.unwrap());
    assert!(!stores.file_exists("s3://beta/empty").await.unwrap());
    exercise(&stores, "beta", &|b, k| {
        k.split('/').fold(root.join(b), |p, part| p.join(part))
    })
    .await;
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn multipart_upload_of_a_large_file_and_copy_between_buckets() {
    let server = S3Server::start();
    server.create_bucket("big");
    server.create_bucket("other");
    let data_dir = tempfile::tempdir().unwrap();
    let stores = ObjectStores::new(&s3_settings(&server), data_dir.path()).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("big.bin");
    // Above the single-PUT threshold, and not a multiple of the part size.
    let size = sluice_data::storage::MULTIPART_THRESHOLD as usize + 3 * 1024 * 1024 + 17;
    let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&file, &data).unwrap();
    stores.put_file(&file, "s3://big/blob.bin").await.unwrap();
    assert_eq!(
        std::fs::read(server.object_file("big", "blob.bin")).unwrap(),
        data
    );

    // Different buckets are different clients, so this streams through the process.
    stores
        .copy("s3://big/blob.bin", "s3://other/blob-copy.bin")
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(server.object_file("other", "blob-copy.bin")).unwrap(),
        data
    );
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn a_wrong_secret_is_refused_with_a_clear_error() {
    let server = S3Server::start();
    server.create_bucket("guarded");
    std::fs::write(server.object_file("guarded", "k.txt"), "x").unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let settings = S3Settings {
        secret_access_key: Some(Secret::new("not-the-secret-zz9")),
        ..s3_settings(&server)
    };
    let stores = ObjectStores::new(&settings, data_dir.path()).unwrap();
    let err = stores.exists("s3://guarded/k.txt").await.unwrap_err();
    assert!(matches!(err, StorageError::AccessDenied { .. }), "{err:?}");
    let message = err.to_string();
    assert_eq!(
        message,
        "access to s3://guarded/k.txt was refused (check the access key, secret key and their \
         permissions): HTTP 403 Forbidden"
    );
    // A listing's response names the S3 error code.
    let err = stores.list("s3://guarded/").await.unwrap_err();
    assert!(matches!(err, StorageError::AccessDenied { .. }), "{err:?}");
    assert!(err.to_string().contains("SignatureDoesNotMatch"), "{err}");
    assert!(!message.contains("not-the-secret-zz9"), "{message}");
    assert!(!format!("{err:?}").contains("not-the-secret-zz9"));
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn a_missing_bucket_is_named_in_the_error() {
    let server = S3Server::start();
    let data_dir = tempfile::tempdir().unwrap();
    let stores = ObjectStores::new(&s3_settings(&server), data_dir.path()).unwrap();
    let err = stores.exists("s3://no-such-bucket/k").await.unwrap_err();
    assert!(matches!(err, StorageError::NoSuchBucket { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "bucket 'no-such-bucket' of s3://no-such-bucket/k does not exist"
    );
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn an_unreachable_endpoint_fails_naming_the_endpoint_and_where_it_was_set() {
    let port = sluice_testsupport::tools::free_port();
    let data_dir = tempfile::tempdir().unwrap();
    let settings = S3Settings {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        access_key_id: Some("AK".into()),
        secret_access_key: Some(Secret::new("unreachable-secret-q9")),
        ..S3Settings::default()
    };
    let stores = ObjectStores::new(&settings, data_dir.path()).unwrap();
    let err = stores.exists("s3://b/k").await.unwrap_err();
    assert!(matches!(err, StorageError::Unreachable { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot check s3://b/k: cannot reach the S3 endpoint http://127.0.0.1:{port} (set by \
             data.s3.endpoint in the settings file): Connection refused (os error 111)"
        )
    );
    // Record readers and writers say the same through their own error type.
    let file = sluice_data::format::objects::ObjectFile::from(stores.resolve("s3://b/k").unwrap());
    let err = file.read_to_string().await.unwrap_err().to_string();
    assert!(
        err.starts_with("s3://b/k: cannot reach the S3 endpoint")
            && err.contains(&format!("http://127.0.0.1:{port}"))
            && !err.contains("unreachable-secret-q9"),
        "{err}"
    );
}

#[cfg(not(feature = "s3"))]
#[tokio::test]
async fn s3_settings_in_a_build_without_s3_fail_naming_the_feature() {
    let data_dir = tempfile::tempdir().unwrap();
    let settings = S3Settings {
        endpoint: Some("http://127.0.0.1:9".into()),
        access_key_id: Some("AK".into()),
        secret_access_key: Some(Secret::new("hunter2")),
        ..S3Settings::default()
    };
    let stores = ObjectStores::new(&settings, data_dir.path()).unwrap();
    assert!(stores.describe().contains("cargo feature `s3`"));
    let err = stores.exists("s3://b/k").await.unwrap_err();
    assert!(matches!(err, StorageError::LeftOut { .. }), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains("s3://b/k") && err.contains("cargo feature `s3`") && !err.contains("hunter2"),
        "{err}"
    );
    // Local files and the embedded store need no S3 support.
    let embedded = ObjectStores::new(&S3Settings::default(), data_dir.path()).unwrap();
    assert!(!embedded.exists("s3://b/k").await.unwrap());
}

#[tokio::test]
async fn local_paths_and_file_uris_resolve_to_the_file_system() {
    let scratch = tempfile::tempdir().unwrap();
    let stores = ObjectStores::new(&S3Settings::default(), scratch.path()).unwrap();
    let file = scratch.path().join("plain.txt");
    std::fs::write(&file, "p").unwrap();
    assert!(stores.exists(file.to_str().unwrap()).await.unwrap());
    assert!(
        stores
            .exists(&format!("file://{}", file.display()))
            .await
            .unwrap()
    );
    assert!(
        stores
            .exists(&format!("file://localhost{}", file.display()))
            .await
            .unwrap()
    );
    assert!(
        !stores
            .exists(&format!("{}/none", scratch.path().display()))
            .await
            .unwrap()
    );
}

#[test]
fn bad_uris_and_settings_are_refused_with_the_reason() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let stores = ObjectStores::new(&S3Settings::default(), dir).unwrap();
    let cases = [
        ("", "empty URI"),
        ("s3:///key", "no bucket"),
        ("s3://Bad Bucket/k", "not a valid bucket name"),
        ("s3://b/a/../../etc", ".."),
        ("s3://b/a//b", "a//b"),
        ("https://example.com/x", "unsupported URI scheme 'https'"),
        ("relative/path", "must be absolute"),
        ("file://otherhost/x", "absolute path on this host"),
        ("/tmp/../etc/passwd", ".."),
    ];
    for (uri, expected) in cases {
        let err = stores.resolve(uri).unwrap_err().to_string();
        assert!(err.contains(expected), "{uri}: {err}");
        assert!(err.contains(&format!("'{uri}'")), "{uri}: {err}");
    }

    let bad = |s: S3Settings| ObjectStores::new(&s, dir).unwrap_err().to_string();
    let err = bad(S3Settings {
        endpoint: Some("127.0.0.1:9000".into()),
        ..S3Settings::default()
    });
    assert!(err.contains("must start with http:// or https://"), "{err}");
    let err = bad(S3Settings {
        access_key_id: Some("AK".into()),
        ..S3Settings::default()
    });
    assert!(err.contains("no secret access key"), "{err}");
    let err = bad(S3Settings {
        secret_access_key: Some(Secret::new("hunter2")),
        ..S3Settings::default()
    });
    assert!(
        err.contains("no access key id") && !err.contains("hunter2"),
        "{err}"
    );
}

#[test]
fn shared_stores_are_one_per_settings() {
    let dir = tempfile::tempdir().unwrap();
    let a = ObjectStores::shared(&S3Settings::default(), dir.path()).unwrap();
    let b = ObjectStores::shared(&S3Settings::default(), dir.path()).unwrap();
    let la = a.resolve("s3://x/k").unwrap();
    let lb = b.resolve("s3://x/k").unwrap();
    assert!(std::sync::Arc::ptr_eq(&la.store, &lb.store));
    let other = tempfile::tempdir().unwrap();
    let c = ObjectStores::shared(&S3Settings::default(), other.path()).unwrap();
    assert!(!std::sync::Arc::ptr_eq(
        &la.store,
        &c.resolve("s3://x/k").unwrap().store
    ));
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn a_directory_of_many_files_round_trips() {
    let server = S3Server::start();
    server.create_bucket("many");
    let scratch = tempfile::tempdir().unwrap();
    let stores = ObjectStores::new(&s3_settings(&server), scratch.path()).unwrap();
    let tree = scratch.path().join("tree");
    for i in 0..60 {
        let file = tree.join(format!("d{}/f{i:02}.txt", i % 3));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, format!("file {i}\n")).unwrap();
    }
    let location = stores.resolve("s3://many/run/1").unwrap();
    assert_eq!(location.put_dir(&tree).await.unwrap(), 60);
    assert_eq!(
        std::fs::read_to_string(server.object_file("many", "run/1/d2/f59.txt")).unwrap(),
        "file 59\n"
    );
    let down = scratch.path().join("down");
    assert_eq!(location.get_dir(&down).await.unwrap(), 60);
    for i in 0..60 {
        let file = down.join(format!("d{}/f{i:02}.txt", i % 3));
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!("file {i}\n")
        );
    }
    assert_eq!(stores.list("s3://many/run/1/d0").await.unwrap().len(), 20);
}
