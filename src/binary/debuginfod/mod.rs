//! The client side of the debuginfod protocol: executables and debug files fetched by build ID.
//!
//! `GET <url>/buildid/<hex>/executable` and `GET <url>/buildid/<hex>/debuginfo`, for each URL of
//! `DEBUGINFOD_URLS` (space-separated) in order, until one has the file. Files are kept in the debuginfod client
//! cache that gdb and elfutils' tools use ([`cache`]), with elfutils' layout, negative entries, configuration
//! files and cleaning; the time limits are elfutils' too (`DEBUGINFOD_TIMEOUT`, `DEBUGINFOD_MAXTIME`,
//! `DEBUGINFOD_MAXSIZE`, `DEBUGINFOD_RETRY_LIMIT`). As in elfutils, an unset or empty `DEBUGINFOD_URLS` turns
//! all of it off, the cache included.
//!
//! What elfutils does not do and pprofsym does:
//! * a file, downloaded or cached, is used only if it opens as ELF and its build ID is the one asked for; a wrong
//!   download is dropped (never cached), a wrong or truncated cache entry is removed and fetched again;
//! * many files are fetched at once ([`Debuginfod::fetch_many`], a bounded number of threads), each from the
//!   servers in order (elfutils races all servers for one file);
//! * offline mode: the cache is read, the network is not.
//!
//! Nothing is printed: problems come back as [`Warning::Debuginfod`] values, and a [`Progress`] receiver (set by
//! the command layer) is told about downloads.

pub mod cache;
mod http;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;

pub use self::cache::Cache;
pub use self::http::Limits;
use super::origin::Origin;
use super::{Binary, build_ids_match};
use crate::error::Warning;

/// Which file of a build ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The binary itself (`/executable`).
    Executable,
    /// Its debug information (`/debuginfo`), often a separate debug file.
    Debuginfo,
}

impl Kind {
    /// The name in URLs and in the cache.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Executable => "executable",
            Kind::Debuginfo => "debuginfo",
        }
    }
}

/// How the client is set up; [`DebuginfodOptions::from_env`] reads elfutils' variables.
#[derive(Debug, Clone)]
pub struct DebuginfodOptions {
    /// Server URLs, asked in order.
    pub urls: Vec<String>,
    /// The client cache directory.
    pub cache_dir: PathBuf,
    /// Time and size limits of each transfer.
    pub limits: Limits,
    /// Further tries after a transfer failed without an HTTP answer (`DEBUGINFOD_RETRY_LIMIT`, default 2).
    pub retry_limit: u32,
    /// Read the cache only; never use the network.
    pub offline: bool,
    /// At most this many downloads at once.
    pub concurrency: usize,
}

/// Default `DEBUGINFOD_TIMEOUT`, in seconds.
pub const DEFAULT_TIMEOUT_S: u64 = 90;
/// Default `DEBUGINFOD_RETRY_LIMIT`.
pub const DEFAULT_RETRY_LIMIT: u32 = 2;
/// Default number of downloads at once.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl DebuginfodOptions {
    /// The options elfutils' client would use, from the environment (`get` reads one variable). `None` when
    /// `DEBUGINFOD_URLS` is unset or blank: then debuginfod is off, the cache included.
    ///
    /// Numbers are read as C's `atoi` would read their leading digits; a variable without digits keeps the
    /// default. `DEBUGINFOD_TIMEOUT=0` means no time limit, as in elfutils.
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Option<DebuginfodOptions> {
        let urls: Vec<String> = get("DEBUGINFOD_URLS")?
            .split_ascii_whitespace()
            .map(str::to_string)
            .collect();
        if urls.is_empty() {
            return None;
        }
        let num = |k: &str| get(k).and_then(|v| leading_number(&v));
        let timeout = num("DEBUGINFOD_TIMEOUT").unwrap_or(DEFAULT_TIMEOUT_S);
        Some(DebuginfodOptions {
            urls,
            cache_dir: cache::default_cache_dir(get),
            limits: Limits {
                timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
                max_time: num("DEBUGINFOD_MAXTIME").filter(|&s| s > 0).map(Duration::from_secs),
                max_size: num("DEBUGINFOD_MAXSIZE").filter(|&s| s > 0),
            },
            retry_limit: num("DEBUGINFOD_RETRY_LIMIT")
                .map_or(DEFAULT_RETRY_LIMIT, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            offline: false,
            concurrency: DEFAULT_CONCURRENCY,
        })
    }
}

/// The value of leading decimal digits (after blanks), as `atoi`; `None` without digits.
fn leading_number(s: &str) -> Option<u64> {
    let digits: String = s.trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Told about downloads, from the download threads; the command layer draws a progress bar with it.
pub trait Progress: Send + Sync {
    /// A batch of `files` lookups begins (most may be answered by the cache, without a download).
    fn batch_started(&self, _files: usize) {}
    /// A download begins; `total` is its size when the server said.
    fn download_started(&self, _total: Option<u64>) {}
    /// `n` more bytes arrived.
    fn bytes(&self, _n: u64) {}
    /// One lookup of the batch is over (found or not).
    fn file_done(&self) {}
    /// The batch is over.
    fn batch_finished(&self) {}
}

/// A file found by build ID.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The opened file (in the cache), its build ID checked.
    pub binary: Binary,
    /// The server it was downloaded from, or the cache.
    pub origin: Origin,
}

/// One lookup's answer and its problems.
type Outcome = (Option<Fetched>, Vec<Warning>);

/// A debuginfod client: the cache, the servers, and what this process already looked up.
pub struct Debuginfod {
    opts: DebuginfodOptions,
    cache: Cache,
    agent: OnceLock<ureq::Agent>,
    /// Every lookup of this process, so each build ID and kind is looked up once.
    memo: Mutex<HashMap<(String, Kind), Option<Fetched>>>,
    cleaned: Once,
    progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for Debuginfod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Debuginfod")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Debuginfod {
    /// A client; nothing is read or created before the first lookup.
    pub fn new(opts: DebuginfodOptions) -> Debuginfod {
        Debuginfod {
            cache: Cache::new(opts.cache_dir.clone()),
            opts,
            agent: OnceLock::new(),
            memo: Mutex::new(HashMap::new()),
            cleaned: Once::new(),
            progress: None,
        }
    }

    /// Reports downloads to `p`.
    pub fn with_progress(mut self, p: Arc<dyn Progress>) -> Debuginfod {
        self.progress = Some(p);
        self
    }

    /// The options.
    pub fn options(&self) -> &DebuginfodOptions {
        &self.opts
    }

    /// The cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// One file by build ID (hex); see [`fetch_many`](Self::fetch_many).
    pub fn fetch(&self, build_id: &str, kind: Kind, warnings: &mut Vec<Warning>) -> Option<Fetched> {
        self.fetch_many(&[(build_id.to_string(), kind)], warnings)
            .pop()
            .flatten()
    }

    /// Files by build ID: from the cache, else from the servers, several at once. One answer per request, in
    /// order; problems are added to `warnings` in request order. Each build ID and kind is looked up once per
    /// client: asking again gives the first answer, without warnings.
    pub fn fetch_many(&self, reqs: &[(String, Kind)], warnings: &mut Vec<Warning>) -> Vec<Option<Fetched>> {
        let keys: Vec<Option<(String, Kind)>> = reqs
            .iter()
            .map(|(id, kind)| {
                let id = id.trim().to_ascii_lowercase();
                if id.len() >= 2 && id.len() <= 128 && id.len() % 2 == 0 && cache::is_hex(&id) {
                    Some((id, *kind))
                } else {
                    warnings.push(Warning::Debuginfod {
                        build_id: id,
                        kind: kind.as_str().into(),
                        source: "-".into(),
                        problem: "not a hexadecimal build ID; not looked up".into(),
                    });
                    None
                }
            })
            .collect();
        let mut todo: Vec<(String, Kind)> = Vec::new();
        {
            let memo = self.memo.lock().expect("debuginfod memo");
            for k in keys.iter().flatten() {
                if !memo.contains_key(k) && !todo.contains(k) {
                    todo.push(k.clone());
                }
            }
        }
        if !todo.is_empty() {
            self.cleaned.call_once(|| {
                if let Err(e) = self.cache.clean_if_due() {
                    warnings.push(Warning::Debuginfod {
                        build_id: "-".into(),
                        kind: "cache".into(),
                        source: self.cache.root().display().to_string(),
                        problem: format!("cleaning the cache failed: {e}"),
                    });
                }
            });
            for ((id, kind), (found, warns)) in todo.iter().zip(self.run_all(&todo)) {
                warnings.extend(warns);
                self.memo
                    .lock()
                    .expect("debuginfod memo")
                    .insert((id.clone(), *kind), found);
            }
        }
        let memo = self.memo.lock().expect("debuginfod memo");
        keys.iter()
            .map(|k| k.as_ref().and_then(|k| memo.get(k).cloned().flatten()))
            .collect()
    }

    /// Looks up every request, on up to `concurrency` threads; the answers in request order.
    fn run_all(&self, todo: &[(String, Kind)]) -> Vec<Outcome> {
        let progress = self.progress.as_deref();
        if let Some(p) = progress {
            p.batch_started(todo.len());
        }
        let threads = self.opts.concurrency.clamp(1, 64).min(todo.len());
        let out: Vec<Outcome> = if threads <= 1 {
            todo.iter()
                .map(|(id, kind)| {
                    let r = self.fetch_one(id, *kind);
                    if let Some(p) = progress {
                        p.file_done();
                    }
                    r
                })
                .collect()
        } else {
            let next = AtomicUsize::new(0);
            let slots: Vec<Mutex<Option<Outcome>>> = todo.iter().map(|_| Mutex::new(None)).collect();
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some((id, kind)) = todo.get(i) else { break };
                            let r = self.fetch_one(id, *kind);
                            *slots[i].lock().expect("debuginfod slot") = Some(r);
                            if let Some(p) = progress {
                                p.file_done();
                            }
                        }
                    });
                }
            });
            slots
                .into_iter()
                .map(|m| m.into_inner().expect("debuginfod slot").unwrap_or((None, Vec::new())))
                .collect()
        };
        if let Some(p) = progress {
            p.batch_finished();
        }
        out
    }

    /// One lookup: the cache, then each server in order.
    fn fetch_one(&self, id: &str, kind: Kind) -> Outcome {
        let mut warnings = Vec::new();
        let warn = |warnings: &mut Vec<Warning>, source: String, problem: String| {
            warnings.push(Warning::Debuginfod {
                build_id: id.to_string(),
                kind: kind.as_str().into(),
                source,
                problem,
            });
        };
        let entry = self.cache.entry_path(id, kind);
        match self.cache.lookup(id, kind) {
            Err(e) => {
                warn(
                    &mut warnings,
                    entry.display().to_string(),
                    format!("reading the cache: {e}"),
                );
                return (None, warnings);
            }
            Ok(cache::Entry::File(p)) => match check(&p, id) {
                Err(Unusable::Unreadable(why)) => {
                    // Not ours to judge (permissions, another user's cache): leave it alone.
                    warn(
                        &mut warnings,
                        p.display().to_string(),
                        format!("cannot read the cache entry: {why}"),
                    );
                    return (None, warnings);
                }
                Ok(binary) => {
                    let origin = Origin::DebuginfodCache {
                        dir: self.cache.root().to_path_buf(),
                    };
                    return (Some(Fetched { binary, origin }), warnings);
                }
                Err(Unusable::Wrong(why)) => {
                    let action = if self.opts.offline {
                        "removed (offline: not fetched again)"
                    } else {
                        "removed; fetching it again"
                    };
                    warn(
                        &mut warnings,
                        p.display().to_string(),
                        format!("corrupt cache entry ({why}), {action}"),
                    );
                    if let Err(e) = self.cache.remove(id, kind) {
                        warn(
                            &mut warnings,
                            p.display().to_string(),
                            format!("removing it failed: {e}"),
                        );
                        return (None, warnings);
                    }
                }
            },
            Ok(cache::Entry::RecentMiss { path, cache_miss_s }) => {
                warn(
                    &mut warnings,
                    path.display().to_string(),
                    format!(
                        "the servers had no such file at the last try (negative cache entry, kept for \
                         cache_miss_s = {cache_miss_s} s); not asked again"
                    ),
                );
                return (None, warnings);
            }
            Ok(cache::Entry::Absent) => {}
        }
        if self.opts.offline {
            return (None, warnings);
        }
        let agent = self.agent.get_or_init(|| http::agent(&self.opts.limits));
        let mut only_misses = true;
        for server in &self.opts.urls {
            let url = request_url(server, id, kind);
            let mut tries = 0u32;
            loop {
                let (tmp, file) = match self.cache.temp_file(id, kind) {
                    Ok(t) => t,
                    Err(e) => {
                        warn(
                            &mut warnings,
                            entry.display().to_string(),
                            format!("writing the cache: {e}"),
                        );
                        return (None, warnings);
                    }
                };
                let mut w = std::io::BufWriter::with_capacity(256 * 1024, file);
                let got =
                    http::download(agent, &url, &self.opts.limits, &mut w, self.progress.as_deref()).and_then(|n| {
                        w.flush()
                            .map(|()| n)
                            .map_err(|e| http::Failure::Local(format!("writing the cache file: {e}")))
                    });
                drop(w);
                match got {
                    Ok(_) => match check(&tmp, id) {
                        Ok(_) => {
                            let committed = self
                                .cache
                                .commit(&tmp, id, kind)
                                .map_err(|e| format!("writing the cache: {e}"))
                                .and_then(|p| check(&p, id).map_err(|e| e.to_string()));
                            match committed {
                                Ok(binary) => {
                                    let origin = Origin::Debuginfod { url: server.clone() };
                                    return (Some(Fetched { binary, origin }), warnings);
                                }
                                Err(why) => {
                                    let _ = std::fs::remove_file(&tmp);
                                    warn(&mut warnings, url.clone(), why);
                                    return (None, warnings);
                                }
                            }
                        }
                        Err(why) => {
                            let _ = std::fs::remove_file(&tmp);
                            only_misses = false;
                            warn(&mut warnings, url.clone(), format!("refused: {why}"));
                            break;
                        }
                    },
                    Err(f) => {
                        let _ = std::fs::remove_file(&tmp);
                        match f {
                            http::Failure::Transport(_) if tries < self.opts.retry_limit => {
                                tries += 1;
                                continue;
                            }
                            http::Failure::Status(_) => {}
                            _ => only_misses = false,
                        }
                        let tried = if tries > 0 {
                            format!(" ({} tries)", tries + 1)
                        } else {
                            String::new()
                        };
                        warn(&mut warnings, url.clone(), format!("{f}{tried}"));
                        break;
                    }
                }
            }
        }
        if only_misses {
            // Every server answered that it has no such file: remember it, as elfutils does.
            if let Err(e) = self.cache.store_miss(id, kind) {
                warn(
                    &mut warnings,
                    entry.display().to_string(),
                    format!("writing the cache: {e}"),
                );
            }
        } else if let Some(dir) = entry.parent() {
            let _ = std::fs::remove_dir(dir); // only if empty, as elfutils
        }
        (None, warnings)
    }
}

/// `<server>/buildid/<id>/<kind>`, joined as elfutils joins them (no doubled slash after a trailing one).
pub fn request_url(server: &str, id: &str, kind: Kind) -> String {
    let sep = if server.len() > 1 && server.ends_with('/') {
        ""
    } else {
        "/"
    };
    format!("{server}{sep}buildid/{id}/{}", kind.as_str())
}

/// Why a file cannot be used for a build ID.
#[derive(Debug)]
enum Unusable {
    /// It could not be read (permissions, I/O).
    Unreadable(String),
    /// It is not an ELF file, is truncated, or has another build ID.
    Wrong(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Unreadable(s) | Unusable::Wrong(s) => f.write_str(s),
        }
    }
}

/// Opens `path` and checks that it is an ELF file with build ID `id`; the reason when it is not.
fn check(path: &Path, id: &str) -> Result<Binary, Unusable> {
    let b = Binary::open(path).map_err(|e| {
        // The outer layer names the (temporary) file; the reason is below it.
        let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
        if e.kind() == crate::error::ErrorKind::Io {
            Unusable::Unreadable(why)
        } else {
            Unusable::Wrong(why)
        }
    })?;
    match b.build_id() {
        Some(got) if build_ids_match(got, id) => Ok(b),
        Some(got) => Err(Unusable::Wrong(format!("its build ID is {got}"))),
        None => Err(Unusable::Wrong("it has no build ID".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_elfutils_variables() {
        let vars = [
            ("DEBUGINFOD_URLS", " http://a:1/  https://b "),
            ("DEBUGINFOD_CACHE_PATH", "/c"),
            ("DEBUGINFOD_TIMEOUT", "5s"),
            ("DEBUGINFOD_MAXSIZE", "1000"),
            ("DEBUGINFOD_RETRY_LIMIT", "0"),
        ];
        let get = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        let o = DebuginfodOptions::from_env(&get).unwrap();
        assert_eq!(o.urls, ["http://a:1/", "https://b"]);
        assert_eq!(o.cache_dir, PathBuf::from("/c"));
        assert_eq!(o.limits.timeout, Some(Duration::from_secs(5)));
        assert_eq!(o.limits.max_size, Some(1000));
        assert_eq!(o.limits.max_time, None);
        assert_eq!(o.retry_limit, 0);
        assert!(!o.offline);
        let none = |k: &str| (k == "DEBUGINFOD_URLS").then(|| "  ".to_string());
        assert!(DebuginfodOptions::from_env(&none).is_none());
        assert!(DebuginfodOptions::from_env(&|_| None).is_none());
        let zero = |k: &str| match k {
            "DEBUGINFOD_URLS" => Some("http://x".to_string()),
            "DEBUGINFOD_TIMEOUT" => Some("0".to_string()),
            _ => None,
        };
        assert_eq!(DebuginfodOptions::from_env(&zero).unwrap().limits.timeout, None);
    }

    #[test]
    fn request_urls_are_joined_as_elfutils_joins_them() {
        assert_eq!(
            request_url("http://h:8002", "ab", Kind::Executable),
            "http://h:8002/buildid/ab/executable"
        );
        assert_eq!(
            request_url("http://h:8002/", "ab", Kind::Debuginfo),
            "http://h:8002/buildid/ab/debuginfo"
        );
    }

    #[test]
    fn bad_build_ids_are_never_looked_up() {
        let dir = tempfile::tempdir().unwrap();
        let d = Debuginfod::new(DebuginfodOptions {
            urls: vec!["http://127.0.0.1:9".into()],
            cache_dir: dir.path().to_path_buf(),
            limits: Limits {
                timeout: Some(Duration::from_secs(1)),
                max_time: None,
                max_size: None,
            },
            retry_limit: 0,
            offline: false,
            concurrency: 2,
        });
        let mut w = Vec::new();
        for bad in ["../../etc", "abc", "", "zz"] {
            assert!(d.fetch(bad, Kind::Executable, &mut w).is_none());
        }
        assert_eq!(w.len(), 4, "{w:?}");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "nothing written"
        );
    }
}
