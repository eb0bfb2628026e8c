//! A headless Chromium or Firefox driven over W3C WebDriver, for the console's browser tests.
//!
//! Debian's `chromium` and `chromium-driver` packages provide Chromium and `chromedriver`;
//! Debian's `firefox-esr` provides Firefox, and geckodriver (not packaged by Debian) is built
//! from crates.io into `$SLUICE_TOOLS/bin` (`.ci/run` installs all of them). [`Browser::start`]
//! (Chromium) and [`Browser::firefox`] run the driver on a free loopback port with its own
//! scratch directory, open a session in a headless browser of a laptop's window size, and end
//! both when dropped. The client is the few WebDriver commands the tests use, as HTTP/1.1 with
//! JSON bodies over a plain TCP connection to the driver (which answers with a
//! `Content-Length`), so no HTTP client crate is needed; both drivers speak the W3C protocol,
//! so every command below means the same in either browser.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::poll::wait_for;
use crate::process::Proc;
use crate::tools::{bin_dir, free_port, wait_for_port};

/// The element reference key of the W3C protocol.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The browser window: a common laptop screen.
pub const WINDOW: (u32, u32) = (1366, 900);

/// Which browser a [`Browser`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Debian's `chromium`, through `chromedriver`.
    Chromium,
    /// Debian's `firefox-esr`, through geckodriver.
    Firefox,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "Chromium",
            Engine::Firefox => "Firefox",
        }
    }
}

/// Where chromedriver is: `$SLUICE_CHROMEDRIVER`, else Debian's `/usr/bin/chromedriver`.
pub fn chromedriver_path() -> PathBuf {
    std::env::var_os("SLUICE_CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from)
}

/// Where the browser is: `$SLUICE_CHROMIUM`, else Debian's `/usr/bin/chromium`.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("SLUICE_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Where geckodriver is: `$SLUICE_GECKODRIVER`, else `$SLUICE_TOOLS/bin/geckodriver` when it
/// is there, else the first `geckodriver` on `PATH` (the tools directory's path when there is
/// none, to name in the message saying it is missing).
pub fn geckodriver_path() -> PathBuf {
    if let Some(path) = std::env::var_os("SLUICE_GECKODRIVER") {
        return PathBuf::from(path);
    }
    let installed = bin_dir().join("geckodriver");
    if installed.exists() {
        return installed;
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("geckodriver"))
        .find(|path| path.is_file())
        .unwrap_or(installed)
}

/// Where Firefox is: `$SLUICE_FIREFOX`, else Debian's `/usr/bin/firefox-esr`.
pub fn firefox_path() -> PathBuf {
    std::env::var_os("SLUICE_FIREFOX")
        .map_or_else(|| PathBuf::from("/usr/bin/firefox-esr"), PathBuf::from)
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// A WebDriver session in a headless Chromium or Firefox.
pub struct Browser {
    engine: Engine,
    port: u16,
    session: String,
    // Dropped after the session is deleted.
    _driver: Proc,
    _dir: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session. Panics naming what to install when
    /// the packages are missing.
    pub fn start() -> Browser {
        Browser::open(Engine::Chromium)
    }

    /// Starts geckodriver and a headless Firefox session. Panics naming what to install when
    /// either is missing.
    pub fn firefox() -> Browser {
        Browser::open(Engine::Firefox)
    }

    /// Starts the engine's driver and a headless session in it.
    pub fn open(engine: Engine) -> Browser {
        let dir = tempfile::Builder::new()
            .prefix("sluice-browser")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let (driver, capabilities) = match engine {
            Engine::Chromium => chromium(dir.path(), port),
            Engine::Firefox => firefox(dir.path(), port),
        };
        // On a panic here the driver's output is printed as it is dropped.
        wait_for_port(port, Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{} did not start listening: {e}", driver.name()));
        let answer = request(port, "POST", "/session", Some(&capabilities))
            .unwrap_or_else(|e| panic!("cannot open a {} session: {e}", engine.name()));
        let session = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {answer}"))
            .to_owned();
        let browser = Browser {
            engine,
            port,
            session,
            _driver: driver,
            _dir: dir,
        };
        if engine == Engine::Firefox {
            // Chromium is sized by its `--window-size` flag, Firefox by the W3C command.
            browser.call(
                "POST",
                "/window/rect",
                Some(&json!({ "width": WINDOW.0, "height": WINDOW.1 })),
            );
        }
        browser
    }

    /// The browser this session runs in.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        request(self.port, method, &path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    fn try_call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        request(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn title(&self) -> String {
        self.call("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML as the browser holds it now.
    pub fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching the CSS selector, if any.
    pub fn find(&self, css: &str) -> Option<Element> {
        let body = json!({ "using": "css selector", "value": css });
        self.try_call("POST", "/element", Some(&body))
            .ok()
            .and_then(|v| v[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned())))
    }

    /// Every element matching the CSS selector.
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        let body = json!({ "using": "css selector", "value": css });
        self.call("POST", "/elements", Some(&body))
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|v| v[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The element matching `css`, waiting up to `limit` for it to appear.
    #[track_caller]
    pub fn wait_find(&self, css: &str, limit: Duration) -> Element {
        wait_for(&format!("an element matching {css}"), limit, || {
            self.find(css)
                .ok_or_else(|| format!("not on {}", self.url()))
        })
    }

    /// The element's rendered text.
    pub fn text(&self, element: &Element) -> String {
        self.call("GET", &format!("/element/{}/text", element.0), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// An attribute of the element (`href`, `data-status`, …), as the HTML sets it: both
    /// drivers follow the W3C protocol here, so a typed field's `value` is the one it was
    /// served with (read what was typed with [`Browser::execute`]).
    pub fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        self.call(
            "GET",
            &format!("/element/{}/attribute/{name}", element.0),
            None,
        )
        .as_str()
        .map(str::to_owned)
    }

    /// The rendered text of the first element matching `css` now; `None` when there is none,
    /// or when the page replaced it between finding and reading (a live page does).
    pub fn text_at(&self, css: &str) -> Option<String> {
        let element = self.find(css)?;
        self.try_call("GET", &format!("/element/{}/text", element.0), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// An attribute of the first element matching `css` now, as [`Browser::text_at`] reads.
    pub fn attribute_at(&self, css: &str, name: &str) -> Option<String> {
        let element = self.find(css)?;
        self.try_call(
            "GET",
            &format!("/element/{}/attribute/{name}", element.0),
            None,
        )
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
    }

    pub fn click(&self, element: &Element) {
        self.call(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(&json!({})),
        );
    }

    /// Types `text` into the element (after clearing it).
    pub fn fill(&self, element: &Element, text: &str) {
        self.call(
            "POST",
            &format!("/element/{}/clear", element.0),
            Some(&json!({})),
        );
        self.call(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(&json!({ "text": text })),
        );
    }

    /// Sets a form field's value at once (typing a long text key by key takes a while).
    pub fn set_value(&self, element: &Element, text: &str) {
        let mut reference = serde_json::Map::new();
        reference.insert(ELEMENT_KEY.to_owned(), Value::from(element.0.clone()));
        self.execute(
            "arguments[0].value = arguments[1];",
            json!([reference, text]),
        );
    }

    /// Runs `script` in the page (`arguments` are passed to it) and returns its result.
    pub fn execute(&self, script: &str, arguments: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": arguments })),
        )
    }

    /// A PNG of the viewport, written to `path`.
    pub fn screenshot(&self, path: &Path) {
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("the screenshot is base64");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot directory");
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// chromedriver on `port`, and the capabilities of a headless Chromium session.
fn chromium(dir: &Path, port: u16) -> (Proc, Value) {
    let driver = chromedriver_path();
    let browser = chromium_path();
    assert!(
        driver.exists() && browser.exists(),
        "{} or {} is missing: install Debian's packages with `apt-get install -y \
         --no-install-recommends chromium chromium-driver fonts-liberation` (.ci/run does)",
        driver.display(),
        browser.display()
    );
    let mut command = Command::new(&driver);
    command.arg(format!("--port={port}"));
    let proc = Proc::spawn("chromedriver", command, dir);
    let profile = dir.join("profile");
    let capabilities = json!({
        "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser.to_string_lossy(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={},{}", WINDOW.0, WINDOW.1),
                ]
            }
        }}
    });
    (proc, capabilities)
}

/// geckodriver on `port`, and the capabilities of a headless Firefox session.
fn firefox(dir: &Path, port: u16) -> (Proc, Value) {
    let driver = geckodriver_path();
    let browser = firefox_path();
    assert!(
        driver.exists(),
        "{} is missing: install geckodriver with `cargo install --locked --root \
         \"$SLUICE_TOOLS\" geckodriver` (.ci/run does), or name it in $SLUICE_GECKODRIVER",
        driver.display()
    );
    assert!(
        browser.exists(),
        "{} is missing: install Debian's package with `apt-get install -y \
         --no-install-recommends firefox-esr` (.ci/run does), or name the binary in \
         $SLUICE_FIREFOX",
        browser.display()
    );
    // Marionette, its connection to Firefox, takes a port the system allocates, so sessions
    // of tests running at once stay apart.
    let mut command = Command::new(&driver);
    command
        .arg("--host=127.0.0.1")
        .arg(format!("--port={port}"))
        // The profile geckodriver writes for each session goes to the temporary directory:
        // this one, removed with the browser.
        .env("TMPDIR", dir);
    let proc = Proc::spawn("geckodriver", command, dir);
    let capabilities = json!({
        "capabilities": { "alwaysMatch": {
            "browserName": "firefox",
            "moz:firefoxOptions": {
                "binary": browser.to_string_lossy(),
                "args": ["-headless"],
            }
        }}
    });
    (proc, capabilities)
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = request(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }
}

/// One WebDriver command: its `value` on success, the driver's error otherwise.
fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .map_err(|e| e.to_string())?;
    let mut length = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut bytes = Vec::new();
    match length {
        Some(n) => {
            bytes.resize(n, 0);
            reader.read_exact(&mut bytes).map_err(|e| e.to_string())?;
        }
        None => {
            reader.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        }
    }
    let answer: Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{status_line}: not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    })?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    if status_line
        .split(' ')
        .nth(1)
        .is_some_and(|code| code.starts_with('2'))
    {
        Ok(value)
    } else {
        Err(format!(
            "{}: {}",
            value["error"].as_str().unwrap_or("error"),
            value["message"].as_str().unwrap_or_default()
        ))
    }
}
