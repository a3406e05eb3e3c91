//! debuginfod: binaries and debug files fetched by build ID, against elfutils' real `debuginfod` server (started
//! here on 127.0.0.1 at a free port, serving a temporary directory of fixture files, killed when the test ends),
//! and against tiny servers of our own for what a good server never does (answer with the wrong file, never
//! answer).
//!
//! Every run gets its own `DEBUGINFOD_CACHE_PATH` (a temporary directory: the user's cache is never touched),
//! `PPROF_BINARY_PATH` removed, and `DEBUGINFOD_URLS` set only where the test wants a server. Runs pass
//! `--no-mapping-paths` and an empty `--debug-dir`, so no file of this machine (its libc, `/usr/lib/debug`) is
//! used: only what the test names or serves.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::common::path;

/// The Rust jemalloc_pprof profile: real build IDs for the main binary and libc (and libgcc_s, libm, ld.so).
const RUST_PROFILE: &str = "testdata/rust-jemalloc/heap.pb.gz";
const RUST_BIN: &str = "testdata/rust-jemalloc/bin/jemalloc-demo";
const RUST_BIN_ID: &str = "b71310ae91cfc11ae76d75acb852716b4ce4d5c1";
const LIBC: &str = "testdata/sysroot/usr/lib/x86_64-linux-gnu/libc.so.6";
const LIBC_ID: &str = "93ac61ec5a8eb1396f9fbd350e3169a558528a40";
/// The tcmalloc profile of `cdemo`, which calls into libnativedemo.so.
const C_PROFILE: &str = "testdata/native/profiles/cdemo.pb.gz";
const CDEMO: &str = "testdata/native/bin/cdemo";
const LIBND: &str = "testdata/native/bin/libnativedemo.so";
const LIBND_ID: &str = "af9845267815a8adb948b834d6925a1359b49dbb";
const LIBND_STRIPPED: &str = "testdata/debuginfod/stripped/libnativedemo.so";
const LIBND_DEBUG: &str = "testdata/debuginfod/debuginfo/libnativedemo.so.debug";

/// elfutils' `debuginfod` serving copies of `files` (`-F`: ELF files in a directory), on 127.0.0.1 at a free
/// port; killed (and waited for) on drop, also when the test fails.
struct Server {
    child: Child,
    url: String,
    _dir: TempDir,
    log: PathBuf,
}

impl Server {
    fn start(files: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let served = dir.path().join("files");
        std::fs::create_dir(&served).unwrap();
        for f in files {
            let src = path(f);
            std::fs::copy(&src, served.join(src.file_name().unwrap())).unwrap();
        }
        let log = dir.path().join("debuginfod.log");
        let mut dir = Some(dir);
        // A port found free may be taken before the server binds it: then try another.
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new("debuginfod")
                // -F: index the ELF files in the directory; -t0: no rescans after the first; -g0: no grooming;
                // -v: log each request; an in-memory database, so nothing is written outside the temporary
                // directory.
                .args(["-F", served.to_str().unwrap(), "-p", &port.to_string()])
                .args(["-d", ":memory:", "-t", "0", "-g", "0", "-v"])
                // A server without a file asks the servers of its own DEBUGINFOD_URLS (federation): none here.
                .env_remove("DEBUGINFOD_URLS")
                .env(
                    "DEBUGINFOD_CACHE_PATH",
                    dir.as_ref().unwrap().path().join("server-cache"),
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot run elfutils' debuginfod ({e}); install it: apt-get install debuginfod")
                });
            let mut s = Server {
                child,
                url: format!("http://127.0.0.1:{port}"),
                _dir: dir.take().unwrap(),
                log: log.clone(),
            };
            if s.wait_ready() {
                return s;
            }
            let _ = s.child.kill();
            let _ = s.child.wait();
            dir = Some(std::mem::replace(&mut s._dir, tempfile::tempdir().unwrap()));
        }
        panic!(
            "debuginfod did not start:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Polls `/metrics` until the first traversal of `-F` is done and no scan is pending or busy (how elfutils'
    /// own tests wait); false if the server exits or is not ready within 60 s.
    fn wait_ready(&mut self) -> bool {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return false;
            }
            if let Ok(mut r) = agent.get(format!("{}/metrics", self.url)).call()
                && let Ok(text) = r.body_mut().read_to_string()
            {
                let metric = |name: &str| {
                    text.lines()
                        .find(|l| l.starts_with(name))
                        .and_then(|l| l.rsplit(' ').next())
                        .and_then(|v| v.parse::<f64>().ok())
                };
                if metric("thread_work_total{role=\"traverse\"}").is_some_and(|v| v >= 1.0)
                    && metric("thread_work_pending{role=\"scan\"}") == Some(0.0)
                    && metric("thread_busy{role=\"scan\"}") == Some(0.0)
                {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Stops the server now (the URL then refuses connections).
    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The requests the server logged for `build_id`, once the log shows `expect` of them (it is written after the
    /// answer is sent, so it may lag a little) or 5 s have passed.
    fn requests_for(&self, build_id: &str, expect: usize) -> usize {
        let count = || {
            std::fs::read_to_string(&self.log)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains(&format!("GET /buildid/{build_id}/")))
                .count()
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let n = count();
            if n == expect || Instant::now() > deadline {
                return n;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A one-file-answers-all HTTP server on 127.0.0.1 (what a lying or broken debuginfod does): every request gets
/// `body` with status 200; with `body` `None` the connection is accepted and never answered. Stops on drop.
struct FakeServer {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    fn start(body: Option<Vec<u8>>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            // Bounded: at most 5 minutes, or until dropped.
            let deadline = Instant::now() + Duration::from_secs(300);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        let Some(body) = &body else {
                            held.push(s); // never answered
                            continue;
                        };
                        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                        let mut req = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                            match s.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => req.extend_from_slice(&buf[..n]),
                            }
                        }
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(body));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        FakeServer {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One test's cache and empty debug directory.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("no-debug")).unwrap();
        Sandbox { dir }
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    fn entry(&self, id: &str, kind: &str) -> PathBuf {
        self.cache().join(id).join(kind)
    }

    /// `pprofsym ARGS` with this sandbox's cache and `DEBUGINFOD_URLS` = `urls` (unset with `None`), plus
    /// `--no-mapping-paths` and the empty debug directory for the commands that take them.
    fn run(&self, urls: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pprofsym"));
        cmd.current_dir(path("")).args(args);
        if args[0] != "addr2line" {
            cmd.arg("--no-mapping-paths")
                .arg("--debug-dir")
                .arg(self.dir.path().join("no-debug"));
        }
        cmd.env_remove("PPROF_BINARY_PATH")
            .env_remove("DEBUGINFOD_URLS")
            .env_remove("DEBUGINFOD_TIMEOUT")
            .env_remove("DEBUGINFOD_RETRY_LIMIT")
            .env_remove("DEBUGINFOD_MAXSIZE")
            .env_remove("DEBUGINFOD_MAXTIME")
            .env("DEBUGINFOD_CACHE_PATH", self.cache())
            .stdin(Stdio::null());
        if let Some(u) = urls {
            cmd.env("DEBUGINFOD_URLS", u);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

fn ok(o: &Output) -> (String, String) {
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    let err = String::from_utf8(o.stderr.clone()).unwrap();
    assert!(o.status.success(), "failed: {err}\n{out}");
    (out, err)
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}

/// No file left in the cache but the configuration files (no entry, no temporary file).
fn cache_files(sb: &Sandbox) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(sb.cache()) else {
        return out;
    };
    for d in rd.flatten() {
        if d.path().is_dir() {
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                out.push(format!(
                    "{}/{}",
                    d.file_name().to_string_lossy(),
                    f.file_name().to_string_lossy()
                ));
            }
        }
    }
    out.sort();
    out
}

const TOP: &[&str] = &["top", RUST_PROFILE, "-F", "text", "--lines", "--no-trim"];

fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(more).copied().collect()
}

#[test]
fn main_binary_and_library_from_the_server_then_from_the_cache() {
    let server = Server::start(&[RUST_BIN, LIBC]);
    let sb = Sandbox::new();
    // Reference: the same two files given locally, no debuginfod.
    let (local, _) = ok(&sb.run(None, &with(TOP, &["--binary", RUST_BIN, "--binary", LIBC]), &[]));
    assert!(local.contains("grow_vec"), "{local}");
    assert!(
        !sb.cache().exists(),
        "no DEBUGINFOD_URLS: the cache is not even created"
    );

    let (remote, err) = ok(&sb.run(Some(&server.url), TOP, &[]));
    assert_eq!(remote, local);
    // Both files are in the cache, byte for byte, read-only.
    for (id, file) in [(RUST_BIN_ID, RUST_BIN), (LIBC_ID, LIBC)] {
        assert!(same_bytes(&sb.entry(id, "executable"), &path(file)), "{id}");
    }
    // libc has no DWARF and the server no debug file for it: one 404, remembered as a negative entry.
    assert!(
        err.contains(&format!(
            "debuginfod: debuginfo of build ID {LIBC_ID}: {}/buildid/{LIBC_ID}/debuginfo: not found (HTTP 404)",
            server.url
        )),
        "{err}"
    );
    assert_eq!(std::fs::metadata(sb.entry(LIBC_ID, "debuginfo")).unwrap().len(), 0);
    // Not a terminal: no progress bar.
    assert!(!err.contains('\r'), "{err:?}");

    // Where each binary came from.
    let (info, _) = ok(&sb.run(
        Some(&server.url),
        &["info", "--locate", RUST_PROFILE, "-F", "text"],
        &[],
    ));
    let cache = sb.cache();
    assert!(
        info.contains(&format!(
            "jemalloc-demo: {} (debuginfod cache {})",
            sb.entry(RUST_BIN_ID, "executable").display(),
            cache.display()
        )),
        "{info}"
    );

    // sites and symbolize go through the same search.
    let sites = ["sites", RUST_PROFILE, "-F", "text"];
    let (local_sites, _) = ok(&sb.run(None, &with(&sites, &["--binary", RUST_BIN, "--binary", LIBC]), &[]));
    assert_eq!(ok(&sb.run(Some(&server.url), &sites, &[])).0, local_sites);
    let out = sb.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (a, b) = (out.join("local.pb.gz"), out.join("remote.pb.gz"));
    let sym = |o: &Path| {
        vec![
            "symbolize".to_string(),
            RUST_PROFILE.into(),
            "-o".into(),
            o.display().to_string(),
        ]
    };
    let local_args = [
        sym(&a),
        vec!["--binary".into(), RUST_BIN.into(), "--binary".into(), LIBC.into()],
    ]
    .concat();
    ok(&sb.run(None, &local_args.iter().map(String::as_str).collect::<Vec<_>>(), &[]));
    ok(&sb.run(
        Some(&server.url),
        &sym(&b).iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    ));
    assert!(same_bytes(&a, &b), "symbolize writes the same profile");

    let url = server.url.clone();
    assert_eq!(server.requests_for(RUST_BIN_ID, 1), 1, "the executable, asked once");
    assert_eq!(
        server.requests_for(LIBC_ID, 2),
        2,
        "libc's executable and debuginfo, each asked once"
    );
    server.stop();

    // Server gone: the same output, from the cache alone; no connection was tried (the libc debuginfo miss is
    // remembered).
    let (again, err) = ok(&sb.run(Some(&url), TOP, &[]));
    assert_eq!(again, local);
    assert!(!err.contains("connection refused"), "{err}");
    assert!(err.contains("negative cache entry"), "{err}");
    // And with --offline.
    let (offline, _) = ok(&sb.run(Some(&url), &with(TOP, &["--offline"]), &[]));
    assert_eq!(offline, local);
}

#[test]
fn addrs_and_info_say_where_binaries_came_from() {
    let server = Server::start(&[RUST_BIN, LIBC]);
    let sb = Sandbox::new();
    let (out, _) = ok(&sb.run(
        Some(&server.url),
        &["addrs", RUST_PROFILE, "-F", "json", "--binary", LIBC],
        &[],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let bins = v["binaries"].as_array().unwrap();
    let of = |id: u64| bins.iter().find(|b| b["mapping_id"] == id).unwrap()["located"].clone();
    // Mapping 2 holds the main binary's code, mapping 15 libc's.
    assert_eq!(of(2)["origin"]["kind"], "debuginfod");
    assert_eq!(of(2)["origin"]["url"], server.url.as_str());
    assert_eq!(of(2)["path"], sb.entry(RUST_BIN_ID, "executable").to_str().unwrap());
    assert_eq!(of(15)["origin"]["kind"], "explicit");
    assert_eq!(of(15)["path"], LIBC);
    let (text, _) = ok(&sb.run(Some(&server.url), &["addrs", RUST_PROFILE, "-F", "text"], &[]));
    assert!(text.contains("Binaries:"), "{text}");
    let libc_line = format!(
        "libc.so.6: {} (debuginfod {})",
        sb.entry(LIBC_ID, "executable").display(),
        server.url
    );
    assert!(text.contains(&libc_line), "{text}");
    assert!(text.lines().last().unwrap().contains("locations:"), "{text}");
    let (csv, _) = ok(&sb.run(Some(&server.url), &["info", "--locate", RUST_PROFILE, "-F", "csv"], &[]));
    assert!(
        csv.starts_with("id,start,limit,offset,file,build_id,flags,locations,binary,origin,debug_file,debug_origin\n")
    );
    assert!(
        csv.lines().any(|l| l.starts_with("6,") && l.ends_with(",,,,")),
        "libgcc_s: not found\n{csv}"
    );
}

/// A stripped copy of libnativedemo.so on the machine; its debug file only on the server.
#[test]
fn a_stripped_library_gains_lines_and_inline_frames_from_the_server() {
    let server = Server::start(&[LIBND_DEBUG]);
    let sb = Sandbox::new();
    let top = [
        "top",
        C_PROFILE,
        "-F",
        "text",
        "--lines",
        "--no-trim",
        "--binary",
        CDEMO,
    ];
    let (full, _) = ok(&sb.run(None, &with(&top, &["--binary", LIBND]), &[]));
    let (bare, _) = ok(&sb.run(None, &with(&top, &["--binary", LIBND_STRIPPED]), &[]));
    assert_ne!(bare, full, "without its debug file the library has no lines");
    assert!(!bare.contains("nativedemo.c"), "{bare}");
    let (served, _) = ok(&sb.run(Some(&server.url), &with(&top, &["--binary", LIBND_STRIPPED]), &[]));
    assert_eq!(served, full);
    assert!(served.contains("nativedemo.c"), "{served}");
    assert!(same_bytes(&sb.entry(LIBND_ID, "debuginfo"), &path(LIBND_DEBUG)));

    // The inline chain of nd_dup_string, from the served DWARF.
    let (json, _) = ok(&sb.run(
        Some(&server.url),
        &[
            "addrs",
            C_PROFILE,
            "-F",
            "json",
            "--binary",
            CDEMO,
            "--binary",
            LIBND_STRIPPED,
        ],
        &[],
    ));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let chains: Vec<Vec<&str>> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["binary_frames"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["function"].as_str().unwrap())
                .collect()
        })
        .collect();
    assert!(
        chains
            .iter()
            .any(|c| c[..] == ["nd_raw_alloc", "nd_copy_bytes", "nd_dup_string"]),
        "{chains:?}"
    );
    let lib = v["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["mapping_file"].as_str().unwrap().ends_with("libnativedemo.so"))
        .unwrap();
    assert_eq!(lib["located"]["origin"]["kind"], "explicit");
    assert_eq!(lib["located"]["debug_origin"]["kind"], "debuginfod_cache");

    // addr2line -e on the stripped library reads the served debug file too.
    // nd_make_table's entry and middle, nd_dup_string's middle, the deepest inline chain (from the goldens).
    let addrs = ["0x1180", "0x11a3", "0x115f", "0x1151"];
    let a2l = |lib: &str, urls: Option<&str>| {
        ok(&sb.run(urls, &with(&["addr2line", "-f", "-i", "-C", "-e", lib], &addrs), &[])).0
    };
    let want = a2l(LIBND, None);
    assert!(want.contains("nativedemo.c"), "{want}");
    assert_eq!(a2l(LIBND_STRIPPED, Some(&server.url)), want);
    assert_ne!(a2l(LIBND_STRIPPED, None), want);
}

/// The libc of the Rust profile cannot be had: symbolization goes on with the main binary, the warning names
/// the build ID and the URL, and nothing is cached for libc.
fn assert_libc_failure(sb: &Sandbox, urls: &str, env: &[(&str, &str)], problem: &str) -> String {
    let (reference, _) = ok(&sb.run(None, &with(TOP, &["--binary", RUST_BIN]), &[]));
    let (out, err) = ok(&sb.run(Some(urls), &with(TOP, &["--binary", RUST_BIN]), env));
    assert_eq!(out, reference, "the rest is symbolized as without debuginfod");
    let url = urls.split(' ').next().unwrap();
    let want = format!("debuginfod: executable of build ID {LIBC_ID}: {url}/buildid/{LIBC_ID}/executable: {problem}");
    assert!(err.contains(&want), "want {want:?} in:\n{err}");
    assert!(
        err.contains(&format!(
            "no binary found for /lib/x86_64-linux-gnu/libc.so.6 (build ID {LIBC_ID})"
        )),
        "{err}"
    );
    err
}

#[test]
fn server_down_is_a_warning_and_nothing_is_cached() {
    let sb = Sandbox::new();
    let url = format!("http://127.0.0.1:{}", free_port());
    assert_libc_failure(
        &sb,
        &url,
        &[("DEBUGINFOD_RETRY_LIMIT", "1")],
        "connection refused (2 tries)",
    );
    assert_eq!(
        cache_files(&sb),
        Vec::<String>::new(),
        "no negative entry for an unreachable server"
    );
}

#[test]
fn not_found_is_remembered_for_cache_miss_s() {
    let server = Server::start(&[RUST_BIN]);
    let sb = Sandbox::new();
    assert_libc_failure(&sb, &server.url, &[], "not found (HTTP 404)");
    assert_eq!(std::fs::metadata(sb.entry(LIBC_ID, "executable")).unwrap().len(), 0);
    assert_eq!(server.requests_for(LIBC_ID, 1), 1);
    // Asked again: the miss is remembered, the server is not asked.
    let (_, err) = ok(&sb.run(Some(&server.url), TOP, &[]));
    assert!(
        err.contains("negative cache entry, kept for cache_miss_s = 600 s"),
        "{err}"
    );
    assert_eq!(server.requests_for(LIBC_ID, 1), 1);
    // cache_miss_s = 0: the entry has expired, the server is asked again.
    std::fs::write(sb.cache().join("cache_miss_s"), "0").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    ok(&sb.run(Some(&server.url), TOP, &[]));
    assert_eq!(server.requests_for(LIBC_ID, 2), 2);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let silent = FakeServer::start(None);
    let sb = Sandbox::new();
    let env = [("DEBUGINFOD_TIMEOUT", "1"), ("DEBUGINFOD_RETRY_LIMIT", "0")];
    assert_libc_failure(&sb, &silent.url, &env, "timed out");
    assert_eq!(cache_files(&sb), Vec::<String>::new());
}

#[test]
fn a_file_with_the_wrong_build_id_is_refused_and_not_cached() {
    // Answers every request with cdemo.
    let liar = FakeServer::start(Some(std::fs::read(path(CDEMO)).unwrap()));
    let sb = Sandbox::new();
    let err = assert_libc_failure(
        &sb,
        &liar.url,
        &[],
        "refused: its build ID is 0c0f7fa63f528c11f7886280d9283e5099a38377",
    );
    assert!(!err.contains("connection"), "{err}");
    assert_eq!(
        cache_files(&sb),
        Vec::<String>::new(),
        "neither the file nor a negative entry"
    );
    // A second server that has the file: the liar is skipped, the good one used.
    let good = Server::start(&[LIBC]);
    let (out, _) = ok(&sb.run(
        Some(&format!("{} {}", liar.url, good.url)),
        &with(TOP, &["--binary", RUST_BIN]),
        &[],
    ));
    let (local, _) = ok(&sb.run(None, &with(TOP, &["--binary", RUST_BIN, "--binary", LIBC]), &[]));
    assert_eq!(out, local);
    assert!(same_bytes(&sb.entry(LIBC_ID, "executable"), &path(LIBC)));
}

#[test]
fn a_truncated_cache_entry_is_fetched_again() {
    let server = Server::start(&[LIBC]);
    let sb = Sandbox::new();
    let entry = sb.entry(LIBC_ID, "executable");
    std::fs::create_dir_all(entry.parent().unwrap()).unwrap();
    let libc = std::fs::read(path(LIBC)).unwrap();
    std::fs::write(&entry, &libc[..libc.len() / 3]).unwrap();
    // Offline: the corrupt entry is not used (and removed), nothing is fetched.
    let (_, err) = ok(&sb.run(Some(&server.url), &with(TOP, &["--binary", RUST_BIN, "--offline"]), &[]));
    assert!(
        err.contains(&format!(
            "debuginfod: executable of build ID {LIBC_ID}: {}: corrupt cache entry (truncated or malformed ELF file",
            entry.display()
        )),
        "{err}"
    );
    assert!(!entry.exists());
    assert_eq!(server.requests_for(LIBC_ID, 0), 0);
    // Online: a half-written entry is replaced by a good download.
    std::fs::write(&entry, &libc[..libc.len() / 3]).unwrap();
    let (out, err) = ok(&sb.run(Some(&server.url), &with(TOP, &["--binary", RUST_BIN]), &[]));
    assert!(
        err.contains("corrupt cache entry") && err.contains("fetching it again"),
        "{err}"
    );
    let (local, _) = ok(&sb.run(None, &with(TOP, &["--binary", RUST_BIN, "--binary", LIBC]), &[]));
    assert_eq!(out, local);
    assert!(same_bytes(&entry, &path(LIBC)));
}

#[test]
fn offline_and_unset_urls_use_no_network() {
    let server = Server::start(&[RUST_BIN, LIBC]);
    let sb = Sandbox::new();
    // --offline with an empty cache: nothing fetched, nothing found.
    let (_, err) = ok(&sb.run(Some(&server.url), &with(TOP, &["--offline"]), &[]));
    assert!(
        err.contains(&format!(
            "no binary found for /lib/x86_64-linux-gnu/libc.so.6 (build ID {LIBC_ID})"
        )),
        "{err}"
    );
    assert_eq!(server.requests_for(LIBC_ID, 0) + server.requests_for(RUST_BIN_ID, 0), 0);
    assert_eq!(cache_files(&sb), Vec::<String>::new());
    // No DEBUGINFOD_URLS: top does not even symbolize (no binary named), and the cache is untouched.
    let sb = Sandbox::new();
    let (out, _) = ok(&sb.run(None, TOP, &[]));
    assert!(!out.contains("grow_vec"), "{out}");
    assert!(!sb.cache().exists());
}

/// Many build IDs are fetched at once, at most `concurrency` at a time: a server that takes its time over each
/// request sees several connections open together, never more than the bound.
#[test]
fn many_build_ids_are_fetched_concurrently_within_the_bound() {
    use pprofsym::binary::debuginfod::{Debuginfod, DebuginfodOptions, Kind, Limits};
    use std::sync::atomic::AtomicUsize;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let active = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (a, m) = (Arc::clone(&active), Arc::clone(&most));
    // Answers 12 requests (each after 300 ms) with 404, then stops.
    let server = std::thread::spawn(move || {
        let mut handlers = Vec::new();
        for stream in listener.incoming().take(12) {
            let mut s = stream.unwrap();
            let (a, m) = (Arc::clone(&a), Arc::clone(&m));
            handlers.push(std::thread::spawn(move || {
                let now = a.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                std::thread::sleep(Duration::from_millis(300));
                a.fetch_sub(1, Ordering::SeqCst);
                let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }));
        }
        for h in handlers {
            h.join().unwrap();
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let d = Debuginfod::new(DebuginfodOptions {
        urls: vec![url],
        cache_dir: cache.path().to_path_buf(),
        limits: Limits {
            timeout: Some(Duration::from_secs(10)),
            max_time: None,
            max_size: None,
        },
        retry_limit: 0,
        offline: false,
        concurrency: 4,
    });
    let reqs: Vec<(String, Kind)> = (0..12u8).map(|i| (format!("{i:02x}aa"), Kind::Executable)).collect();
    let mut warnings = Vec::new();
    let got = d.fetch_many(&reqs, &mut warnings);
    server.join().unwrap();
    assert!(got.iter().all(Option::is_none));
    assert_eq!(warnings.len(), 12, "{warnings:?}");
    // In request order, each naming its build ID.
    for (w, (id, _)) in warnings.iter().zip(&reqs) {
        assert!(w.to_string().contains(&format!("build ID {id}:")), "{w}");
    }
    let most = most.load(Ordering::SeqCst);
    assert!((2..=4).contains(&most), "{most} requests at once");
    // Each miss is remembered.
    assert_eq!(cache_files_in(cache.path()).len(), 12);
}

fn cache_files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|d| d.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten().map(|f| f.path()))
        .collect()
}
