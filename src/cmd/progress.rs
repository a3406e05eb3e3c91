//! The debuginfod download progress bar: drawn on standard error when it is a terminal, and only once a batch of
//! downloads has taken more than half a second (quick runs and cache hits stay quiet).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pprofsym::binary::debuginfod::Progress;

/// How long a batch runs before the bar appears.
const SHOW_AFTER: Duration = Duration::from_millis(500);

/// A [`Progress`] receiver drawing one bar for all downloads of a batch.
#[derive(Debug, Default)]
pub struct DownloadBar {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    bar: Option<ProgressBar>,
    started: Option<Instant>,
    files: usize,
    done: usize,
    total: u64,
    bytes: u64,
}

impl DownloadBar {
    fn update(&self, f: impl FnOnce(&mut State)) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s);
        if s.bar.is_none() && s.started.is_some_and(|t| t.elapsed() >= SHOW_AFTER) && s.done < s.files {
            let bar = ProgressBar::with_draw_target(Some(s.total.max(s.bytes)), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} debuginfod: {msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            s.bar = Some(bar);
        }
        if let Some(bar) = &s.bar {
            bar.set_length(s.total.max(s.bytes));
            bar.set_position(s.bytes);
            bar.set_message(format!("{}/{} files", s.done, s.files));
        }
    }
}

impl Progress for DownloadBar {
    fn batch_started(&self, files: usize) {
        self.update(|s| {
            s.started.get_or_insert_with(Instant::now);
            s.files += files;
        });
    }

    fn download_started(&self, total: Option<u64>) {
        self.update(|s| s.total += total.unwrap_or(0));
    }

    fn bytes(&self, n: u64) {
        self.update(|s| s.bytes += n);
    }

    fn file_done(&self) {
        self.update(|s| s.done += 1);
    }

    fn batch_finished(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bar) = s.bar.take() {
            bar.finish_and_clear();
        }
        *s = State::default();
    }
}
