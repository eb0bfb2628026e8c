//! `serve` over a real socket: SQLite state, the in-process runner executing a shell command,
//! a clean shutdown, and a restart that finds the pipeline again.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use common::{ALICE, Caller, api_form, credentials, field, signed_request};
use serde_json::{Value, json};
use sluice_api::server::{ServerOptions, serve};
use sluice_api::{ApiConfig, Service, ServiceOptions};
use sluice_engine::{Store, SystemClock};
use sluice_store::SqliteStore;
use sluice_testsupport::poll::{eventually, wait_for_async};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Sends one request over HTTP/1.1 and returns the status and JSON body.
async fn http(addr: std::net::SocketAddr, request: Request<Body>) -> (u16, Value) {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut text = format!("{} {} HTTP/1.1\r\n", parts.method, parts.uri.path());
    for (name, value) in &parts.headers {
        text.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    text.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(text.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let status: u16 = response[9..12].parse().unwrap();
    let (_, json) = response.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(json).unwrap())
}

async fn call(addr: std::net::SocketAddr, who: Caller, operation: &str, body: Value) -> Value {
    let bytes = serde_json::to_vec(&body).unwrap();
    let request = signed_request(who, &format!("DataPipeline.{operation}"), &bytes);
    let (status, reply) = http(addr, request).await;
    assert_eq!(status, 200, "{operation}: {reply}");
    reply
}

struct Running {
    addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), sluice_api::server::ServerError>>,
    store: Arc<SqliteStore>,
    service: Arc<sluice_api::Service>,
}

async fn start(dir: &std::path::Path) -> Running {
    let store = Arc::new(SqliteStore::open(&dir.join("sluice.db")).await.unwrap());
    let shared: Arc<dyn Store> = store.clone();
    let service = Service::open(
        shared,
        Arc::new(SystemClock),
        ServiceOptions {
            data_dir: Some(dir.to_path_buf()),
            // The test's tasks name a worker group; the in-process runner takes it too.
            local_worker_groups: vec!["anything".into()],
            ..ServiceOptions::default()
        },
    )
    .await
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let options = ServerOptions {
        api: ApiConfig::default(),
        local_runner: true,
        workers: 2,
        data_dir: dir.to_path_buf(),
        tls: None,
        ca_bundle: None,
    };
    let task = tokio::spawn(serve(
        listener,
        service.clone(),
        Arc::new(credentials()),
        options,
        shutdown.clone(),
    ));
    Running {
        addr,
        shutdown,
        task,
        store,
        service,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_runs_tasks_in_process_and_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let addr = server.addr;
    let created = call(
        addr,
        ALICE,
        "CreatePipeline",
        json!({"name": "real", "uniqueId": "real"}),
    )
    .await;
    let id = created["pipelineId"].as_str().unwrap().to_owned();
    let mut definition = api_form(
        r#"{"objects": [
          {"id": "Default", "name": "Default", "scheduleType": "ondemand",
           "workerGroup": "anything"},
          {"id": "Say", "name": "Say", "type": "ShellCommandActivity",
           "command": "echo served by #{@pipelineId}"}
        ]}"#,
    );
    definition["pipelineId"] = json!(id);
    let put = call(addr, ALICE, "PutPipelineDefinition", definition).await;
    assert_eq!(put["errored"], false, "{put}");
    call(addr, ALICE, "ActivatePipeline", json!({"pipelineId": id})).await;

    // The in-process runner serves the worker group it was told to take.
    let finished = json!({"pipelineId": id, "sphere": "INSTANCE", "query": {"selectors": [
        {"fieldName": "@status", "operator": {"type": "EQ", "values": ["FINISHED"]}}]}});
    let instance = wait_for_async("the task to finish", Duration::from_secs(30), || async {
        let ids = call(addr, ALICE, "QueryObjects", finished.clone()).await;
        match ids["ids"].as_array().and_then(|a| a.first()) {
            Some(first) => Ok(first.as_str().unwrap().to_owned()),
            None => Err(ids.to_string()),
        }
    })
    .await;
    let attempt = format!("{instance}_Attempt=1");
    let stdout = dir
        .path()
        .join("logs")
        .join(&id)
        .join(&attempt)
        .join("stdout.log");
    assert_eq!(
        std::fs::read_to_string(&stdout).unwrap().trim(),
        format!("served by {id}")
    );

    // A long poll in flight does not hold up the shutdown.
    let poll = tokio::spawn(async move {
        let request = signed_request(
            ALICE,
            "DataPipeline.PollForTask",
            br#"{"workerGroup": "nobody"}"#,
        );
        http(addr, request).await
    });
    // The in-process runner keeps at most one poll waiting; ours makes it two.
    assert!(
        eventually(Duration::from_secs(10), || server.service.waiting_polls()
            >= 2)
        .await,
        "the long poll never started waiting"
    );
    let stopping = Instant::now();
    server.shutdown.cancel();
    server.task.await.unwrap().unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(10));
    let (status, body) = poll.await.unwrap();
    assert_eq!((status, body), (200, json!({})));
    server.store.close().await;

    // Restarted on the same directory, the pipeline and its history are there.
    let again = start(dir.path()).await;
    let described = call(
        again.addr,
        ALICE,
        "DescribeObjects",
        json!({"pipelineId": id, "objectIds": [instance]}),
    )
    .await;
    assert_eq!(
        field(&described["pipelineObjects"][0], "@status").as_deref(),
        Some("FINISHED")
    );
    again.shutdown.cancel();
    again.task.await.unwrap().unwrap();
    again.store.close().await;
}
