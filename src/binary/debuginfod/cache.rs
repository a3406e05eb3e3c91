//! The debuginfod client cache, laid out and kept as elfutils' `libdebuginfod` keeps it, so that gdb, elfutils'
//! tools and pprofsym share one cache.
//!
//! * Where: `$DEBUGINFOD_CACHE_PATH`; else `$HOME/.debuginfod_client_cache` when that exists (the old default);
//!   else `$XDG_CACHE_HOME/debuginfod_client`, or `$HOME/.cache/debuginfod_client` without `XDG_CACHE_HOME`.
//! * Layout: `CACHE/<hex build ID>/executable` and `CACHE/<hex build ID>/debuginfo`; directories are made 0700 and
//!   files are made read-only (0400) once complete.
//! * Writing: into `CACHE/<id>/<kind>.XXXXXX` first, then renamed into place, so a reader never sees a partial
//!   file under the real name.
//! * Misses: a server that answers with an HTTP error leaves an empty file at the entry's name (a negative entry).
//!   While it is younger than `cache_miss_s` seconds (the number in `CACHE/cache_miss_s`, written with the default
//!   600 when missing), the servers are not asked again; an older one is removed and the servers are asked.
//! * Cleaning: `CACHE/cache_clean_interval_s` (default 86400) says how often; its modification time is when the
//!   cache was last cleaned. When that is due, files under `CACHE/<hex>/` not read for `max_unused_age_s` seconds
//!   (default 604800, from `CACHE/max_unused_age_s`) are removed, and so are such directories once empty.
//!
//! pprofsym adds one thing elfutils does not do: an entry is used only if it opens as ELF and carries the build
//! ID it is filed under ([`super::Debuginfod`] checks); an entry that does not (a file truncated by a crash or a
//! full disk, another program's junk) is removed and fetched again.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::Kind;

/// Name of the file holding the cleaning interval, in seconds.
pub const CLEAN_INTERVAL_FILE: &str = "cache_clean_interval_s";
/// Default cleaning interval: one day.
pub const CLEAN_INTERVAL_DEFAULT_S: u64 = 86_400;
/// Name of the file holding how long a miss is remembered, in seconds.
pub const CACHE_MISS_FILE: &str = "cache_miss_s";
/// Default time a miss is remembered: ten minutes.
pub const CACHE_MISS_DEFAULT_S: u64 = 600;
/// Name of the file holding the age (since last read) at which cleaning removes a file, in seconds.
pub const MAX_UNUSED_AGE_FILE: &str = "max_unused_age_s";
/// Default maximum unused age: one week.
pub const MAX_UNUSED_AGE_DEFAULT_S: u64 = 604_800;

/// The cache directory elfutils would use, from the environment (`get` reads a variable; empty counts as unset).
pub fn default_cache_dir(get: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let var = |k: &str| get(k).filter(|v| !v.is_empty());
    if let Some(p) = var("DEBUGINFOD_CACHE_PATH") {
        return PathBuf::from(p);
    }
    let home = PathBuf::from(var("HOME").unwrap_or_else(|| "/".into()));
    let legacy = home.join(".debuginfod_client_cache");
    if legacy.exists() {
        return legacy;
    }
    match var("XDG_CACHE_HOME") {
        Some(x) => PathBuf::from(x).join("debuginfod_client"),
        None => home.join(".cache").join("debuginfod_client"),
    }
}

/// What the cache holds for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A non-empty file (not yet checked: see [`super::Debuginfod`]).
    File(PathBuf),
    /// A negative entry younger than `cache_miss_s`: the servers had nothing a short while ago.
    RecentMiss {
        /// The empty file.
        path: PathBuf,
        /// How long misses are remembered, in seconds.
        cache_miss_s: u64,
    },
    /// Nothing usable (no file, or a negative entry that has expired and was removed).
    Absent,
}

/// One debuginfod cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache at `root` (not created until something is written or cleaned).
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `CACHE/<id>/<kind>`. `id` must be lowercase hex (checked by the caller), so it names one directory.
    pub fn entry_path(&self, id: &str, kind: Kind) -> PathBuf {
        self.root.join(id).join(kind.as_str())
    }

    /// Looks up an entry without the network. An expired negative entry is removed (as elfutils does), so the
    /// caller asks the servers again.
    pub fn lookup(&self, id: &str, kind: Kind) -> io::Result<Entry> {
        let path = self.entry_path(id, kind);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Entry::Absent),
            Err(e) => return Err(e),
        };
        if !meta.is_file() {
            return Ok(Entry::Absent);
        }
        if meta.len() > 0 {
            return Ok(Entry::File(path));
        }
        let cache_miss_s = self.config_value(CACHE_MISS_FILE, CACHE_MISS_DEFAULT_S)?;
        let age = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or_default();
        if age.as_secs() <= cache_miss_s {
            return Ok(Entry::RecentMiss { path, cache_miss_s });
        }
        remove_entry(&path)?;
        Ok(Entry::Absent)
    }

    /// Removes an entry (a corrupt file, found by the caller).
    pub fn remove(&self, id: &str, kind: Kind) -> io::Result<()> {
        remove_entry(&self.entry_path(id, kind))
    }

    /// Creates the cache directory (`0777` less the umask, as elfutils) and the entry's directory (`0700`).
    fn ensure_dir(&self, id: &str) -> io::Result<PathBuf> {
        create_dir(&self.root, 0o777)?;
        let dir = self.root.join(id);
        create_dir(&dir, 0o700)?;
        Ok(dir)
    }

    /// A new temporary file beside the entry, `CACHE/<id>/<kind>.XXXXXX`, opened for writing.
    pub fn temp_file(&self, id: &str, kind: Kind) -> io::Result<(PathBuf, File)> {
        let dir = self.ensure_dir(id)?;
        let mut last = None;
        for attempt in 0..16u32 {
            let p = dir.join(format!("{}.{}", kind.as_str(), random_suffix(attempt)));
            match OpenOptions::new().write(true).create_new(true).open(&p) {
                Ok(f) => return Ok((p, f)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
    }

    /// Makes a downloaded temporary file the entry: read-only, then renamed over the entry's name.
    pub fn commit(&self, temp: &Path, id: &str, kind: Kind) -> io::Result<PathBuf> {
        set_mode(temp, 0o400)?;
        let path = self.entry_path(id, kind);
        fs::rename(temp, &path)?;
        Ok(path)
    }

    /// Records that the servers had nothing for the entry: an empty file, created only if nothing is there.
    pub fn store_miss(&self, id: &str, kind: Kind) -> io::Result<()> {
        self.ensure_dir(id)?;
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.entry_path(id, kind))
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The number in the configuration file `name` under the cache root, writing `default` there when the file
    /// is missing or empty (elfutils creates these files on first use). Unreadable text gives the default.
    pub fn config_value(&self, name: &str, default: u64) -> io::Result<u64> {
        Ok(self.config_file(name, default)?.0)
    }

    /// [`config_value`](Self::config_value) and the file's modification time.
    fn config_file(&self, name: &str, default: u64) -> io::Result<(u64, SystemTime)> {
        create_dir(&self.root, 0o777)?;
        let path = self.root.join(name);
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let meta = f.metadata()?;
        let mtime = meta.modified().unwrap_or_else(|_| SystemTime::now());
        if meta.len() == 0 {
            write!(f, "{default}")?;
            return Ok((default, SystemTime::now()));
        }
        let text = fs::read_to_string(&path).unwrap_or_default();
        // fscanf("%ld"): leading blanks, an optional sign, digits; anything else gives the default.
        let t = text.trim_start();
        let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
        let v = digits.parse::<u64>().unwrap_or(default);
        Ok((v, mtime))
    }

    /// Cleans the cache when `cache_clean_interval_s` has passed since the last cleaning (see the module
    /// documentation). Returns whether a cleaning ran.
    pub fn clean_if_due(&self) -> io::Result<bool> {
        let (interval, last) = self.config_file(CLEAN_INTERVAL_FILE, CLEAN_INTERVAL_DEFAULT_S)?;
        let now = SystemTime::now();
        let since = now.duration_since(last).unwrap_or_default();
        if since < Duration::from_secs(interval) {
            return Ok(false);
        }
        // Mark the cleaning first, so that concurrent clients do not all clean.
        File::options()
            .write(true)
            .open(self.root.join(CLEAN_INTERVAL_FILE))?
            .set_modified(now)?;
        let max_age = Duration::from_secs(self.config_value(MAX_UNUSED_AGE_FILE, MAX_UNUSED_AGE_DEFAULT_S)?);
        let older = |t: io::Result<SystemTime>| {
            t.ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age >= max_age)
        };
        for dir in fs::read_dir(&self.root)?.filter_map(|e| e.ok()) {
            let name = dir.file_name();
            let Some(name) = name.to_str() else { continue };
            if !is_hex(name) || !dir.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Ok(files) = fs::read_dir(dir.path()) else { continue };
            for f in files.filter_map(|e| e.ok()) {
                let fname = f.file_name();
                let fname = fname.to_string_lossy();
                let ours = fname == "debuginfo" || fname == "executable" || fname.starts_with("source");
                if ours && f.file_type().is_ok_and(|t| t.is_file()) && f.metadata().is_ok_and(|m| older(m.accessed())) {
                    let _ = fs::remove_file(f.path());
                }
            }
            if fs::metadata(dir.path()).is_ok_and(|m| older(m.modified())) {
                let _ = fs::remove_dir(dir.path()); // fails (and is meant to) when not empty
            }
        }
        Ok(true)
    }
}

/// Is `s` a non-empty string of lowercase hex digits (a cache directory name)?
pub fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn remove_entry(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn create_dir(p: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().recursive(true).mode(mode).create(p) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
fn create_dir(p: &Path, _mode: u32) -> io::Result<()> {
    fs::create_dir_all(p)
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(p: &Path, _mode: u32) -> io::Result<()> {
    let mut perm = fs::metadata(p)?.permissions();
    perm.set_readonly(true);
    fs::set_permissions(p, perm)
}

/// Six characters for a temporary name (`mkstemp`'s `XXXXXX`): the process, a counter and the clock, mixed.
fn random_suffix(attempt: u32) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ u64::from(attempt);
    // splitmix64 finalizer
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|i| ALPHABET[((x >> (i * 10)) % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn cache_dir_follows_elfutils_order() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path().to_str().unwrap();
        let d = |vars: &[(&str, &str)]| default_cache_dir(&env(vars));
        assert_eq!(
            d(&[("DEBUGINFOD_CACHE_PATH", "/x/c"), ("HOME", h)]),
            PathBuf::from("/x/c")
        );
        assert_eq!(
            d(&[("DEBUGINFOD_CACHE_PATH", ""), ("HOME", h), ("XDG_CACHE_HOME", "/xdg")]),
            PathBuf::from("/xdg/debuginfod_client")
        );
        assert_eq!(d(&[("HOME", h)]), home.path().join(".cache/debuginfod_client"));
        assert_eq!(d(&[]), PathBuf::from("/.cache/debuginfod_client"));
        fs::create_dir(home.path().join(".debuginfod_client_cache")).unwrap();
        assert_eq!(
            d(&[("HOME", h), ("XDG_CACHE_HOME", "/xdg")]),
            home.path().join(".debuginfod_client_cache")
        );
    }

    #[test]
    fn config_files_are_created_with_defaults_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(dir.path().join("c"));
        assert_eq!(c.config_value(CACHE_MISS_FILE, 600).unwrap(), 600);
        assert_eq!(fs::read_to_string(c.root().join(CACHE_MISS_FILE)).unwrap(), "600");
        fs::write(c.root().join(CACHE_MISS_FILE), "  42\n").unwrap();
        assert_eq!(c.config_value(CACHE_MISS_FILE, 600).unwrap(), 42);
        fs::write(c.root().join(CACHE_MISS_FILE), "soon").unwrap();
        assert_eq!(c.config_value(CACHE_MISS_FILE, 600).unwrap(), 600);
    }

    #[test]
    fn negative_entries_expire_after_cache_miss_s() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(dir.path());
        let id = "abcd";
        assert_eq!(c.lookup(id, Kind::Executable).unwrap(), Entry::Absent);
        c.store_miss(id, Kind::Executable).unwrap();
        let p = c.entry_path(id, Kind::Executable);
        assert!(matches!(
            c.lookup(id, Kind::Executable).unwrap(),
            Entry::RecentMiss { cache_miss_s: 600, .. }
        ));
        // The debuginfo entry of the same build ID is separate.
        assert_eq!(c.lookup(id, Kind::Debuginfo).unwrap(), Entry::Absent);
        // Ten minutes and a second ago: expired, removed.
        let old = SystemTime::now() - Duration::from_secs(601);
        File::options().write(true).open(&p).unwrap().set_modified(old).unwrap();
        assert_eq!(c.lookup(id, Kind::Executable).unwrap(), Entry::Absent);
        assert!(!p.exists());
    }

    #[test]
    fn commit_renames_a_read_only_file_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(dir.path());
        let (tmp, mut f) = c.temp_file("ab12", Kind::Debuginfo).unwrap();
        assert!(tmp.file_name().unwrap().to_str().unwrap().starts_with("debuginfo."));
        f.write_all(b"bytes").unwrap();
        drop(f);
        let p = c.commit(&tmp, "ab12", Kind::Debuginfo).unwrap();
        assert_eq!(p, dir.path().join("ab12/debuginfo"));
        assert!(!tmp.exists());
        assert_eq!(c.lookup("ab12", Kind::Debuginfo).unwrap(), Entry::File(p.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o400);
            assert_eq!(
                fs::metadata(p.parent().unwrap()).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }

    #[test]
    fn cleaning_removes_only_old_entries_when_due() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(dir.path());
        // First use: the interval file is created now, so nothing is due.
        assert!(!c.clean_if_due().unwrap());
        let old = SystemTime::now() - Duration::from_secs(8 * 86_400);
        let stale = |p: &Path| {
            let f = File::options().write(true).open(p).unwrap();
            f.set_times(fs::FileTimes::new().set_accessed(old).set_modified(old))
                .unwrap();
        };
        fs::create_dir_all(dir.path().join("aa11")).unwrap();
        fs::create_dir_all(dir.path().join("bb22")).unwrap();
        fs::write(dir.path().join("aa11/executable"), b"old").unwrap();
        fs::write(dir.path().join("bb22/debuginfo"), b"new").unwrap();
        fs::write(dir.path().join("bb22/notes.txt"), b"not ours").unwrap();
        fs::write(dir.path().join("aa11/notes.txt"), b"not ours").unwrap();
        stale(&dir.path().join("aa11/executable"));
        stale(&dir.path().join(CLEAN_INTERVAL_FILE));
        assert!(c.clean_if_due().unwrap());
        assert!(!dir.path().join("aa11/executable").exists());
        assert!(dir.path().join("aa11/notes.txt").exists());
        assert!(dir.path().join("bb22/debuginfo").exists());
        // Cleaned just now: not due again.
        assert!(!c.clean_if_due().unwrap());
    }
}
