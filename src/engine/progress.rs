//! Live progress of a run on stderr: one status line per device (indicatif) on a terminal,
//! plain timestamped lines when stderr is not a terminal or `CI` is set, nothing with `-q`.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::clock::hms;

/// Something that happened on one device.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Waiting for a concurrency slot.
    Queued,
    /// Preparing (upload, compile submission, or loading locally).
    Preparing,
    /// Prepared; profile and inference are running.
    Running,
    /// A backend note (job submitted, cache reuse); shown with `-v` in plain mode.
    Note(&'a str),
    /// The profile ended (error text when it failed).
    Profiled(Option<&'a str>),
    /// The inference over all cases ended (error text when it failed).
    Inferred(Option<&'a str>),
    /// The device is done (error text when something could not be measured).
    Finished(Option<&'a str>),
}

/// Receives progress events; implementations must not block.
pub trait Progress: Send + Sync {
    /// One event on one device.
    fn event(&self, device: &str, event: Event<'_>);
    /// A line about the whole run.
    fn message(&self, text: &str);
    /// The run is over; clear live displays.
    fn finish(&self) {}
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Nothing.
    Quiet,
    /// Timestamped lines.
    Plain { verbose: bool },
    /// Live status lines.
    Live,
}

impl ProgressMode {
    /// Live on a terminal outside CI, plain lines otherwise, nothing when quiet.
    pub fn detect(quiet: bool, verbose: bool) -> Self {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        if quiet {
            Self::Quiet
        } else if std::io::stderr().is_terminal() && !ci && !verbose {
            Self::Live
        } else {
            Self::Plain { verbose }
        }
    }

    /// The display for this mode.
    pub fn build(self, devices: &[String]) -> Box<dyn Progress> {
        match self {
            Self::Quiet => Box::new(Quiet),
            Self::Plain { verbose } => Box::new(Plain { verbose }),
            Self::Live => Box::new(Live::new(devices)),
        }
    }
}

/// Shows nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn event(&self, _device: &str, _event: Event<'_>) {}
    fn message(&self, _text: &str) {}
}

/// Timestamped lines on stderr.
pub struct Plain {
    verbose: bool,
}

impl Plain {
    fn line(&self, text: &str) {
        eprintln!("[{}] {text}", hms(SystemTime::now()));
    }
}

/// The words of an event, or `None` when it is not shown.
fn describe(event: Event<'_>, verbose: bool) -> Option<String> {
    Some(match event {
        Event::Queued => return verbose.then(|| "waiting for a free slot".to_string()),
        Event::Preparing => "preparing".to_string(),
        Event::Running => "profile and inference running".to_string(),
        Event::Note(n) => return verbose.then(|| n.to_string()),
        Event::Profiled(None) => "profile done".to_string(),
        Event::Profiled(Some(e)) => format!("profile failed: {e}"),
        Event::Inferred(None) => "inference done".to_string(),
        Event::Inferred(Some(e)) => format!("inference failed: {e}"),
        Event::Finished(None) => "done".to_string(),
        Event::Finished(Some(e)) => format!("could not be measured: {e}"),
    })
}

impl Progress for Plain {
    fn event(&self, device: &str, event: Event<'_>) {
        if let Some(text) = describe(event, self.verbose) {
            self.line(&format!("{device}: {text}"));
        }
    }

    fn message(&self, text: &str) {
        self.line(text);
    }
}

/// One live status line per device.
pub struct Live {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Live {
    fn new(devices: &[String]) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let width = devices.iter().map(|d| d.chars().count()).max().unwrap_or(4);
        let style = ProgressStyle::with_template(&format!(
            "{{spinner}} {{prefix:<{width}}} {{elapsed:>4}}  {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars = devices
            .iter()
            .map(|d| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(d.clone());
                bar.set_message("queued");
                bar.enable_steady_tick(Duration::from_millis(120));
                (d.clone(), bar)
            })
            .collect();
        Self {
            multi,
            bars: Mutex::new(bars),
        }
    }
}

impl Progress for Live {
    fn event(&self, device: &str, event: Event<'_>) {
        let Ok(bars) = self.bars.lock() else {
            return;
        };
        let Some(bar) = bars.get(device) else {
            return;
        };
        let text = match event {
            Event::Note(n) => n.to_string(),
            Event::Queued => "queued".to_string(),
            other => describe(other, true).unwrap_or_default(),
        };
        match event {
            Event::Finished(None) => bar.finish_with_message("✓ done"),
            Event::Finished(Some(e)) => bar.finish_with_message(format!("⚠ {e}")),
            _ => bar.set_message(text),
        }
    }

    fn message(&self, text: &str) {
        let _ = self.multi.println(text);
    }

    fn finish(&self) {
        if let Ok(bars) = self.bars.lock() {
            for bar in bars.values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_queueing_only_show_when_verbose() {
        assert_eq!(
            describe(Event::Note("submitted compile job j1"), false),
            None
        );
        assert_eq!(
            describe(Event::Note("submitted compile job j1"), true).as_deref(),
            Some("submitted compile job j1")
        );
        assert_eq!(describe(Event::Queued, false), None);
        assert_eq!(
            describe(Event::Finished(Some("compile job j1 failed")), false).as_deref(),
            Some("could not be measured: compile job j1 failed")
        );
    }

    #[test]
    fn quiet_wins_over_everything() {
        assert_eq!(ProgressMode::detect(true, true), ProgressMode::Quiet);
    }
}
