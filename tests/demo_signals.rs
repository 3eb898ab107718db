//! `depot demo` in a real terminal (a private tmux server), ended from outside: the terminal
//! closing (SIGHUP, by killing the tmux session), SIGTERM and SIGINT. Each time the demo must
//! stop and remove its temporary data directory (found by its prefix under a TMPDIR of the
//! test's own). Nothing waits a fixed time: every step polls for its condition, within a bound.
//!
//! Without tmux the test fails with a clear message, unless `DEPOT_SKIP_TMUX=1` is set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_depot");
const BOUND: Duration = Duration::from_secs(20);
const SESSION: &str = "demo";

/// A private tmux server; killed on drop (also when the test panics).
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket);
        c
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.tmux().args(args).output().expect("run tmux");
        String::from_utf8_lossy(&out.stdout).to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}

fn demo_dirs(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .expect("read TMPDIR")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("depot-demo-")))
        .collect()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool, last: impl Fn() -> String) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < BOUND, "{what} did not happen within {BOUND:?}; last seen:\n{}", last());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn alive(pid: &str) -> bool {
    Command::new("kill").args(["-0", pid]).output().is_ok_and(|o| o.status.success())
}

/// Starts `depot demo lag` at 80×24, waits for its screen and its directory, ends it with `end`,
/// and checks the process is gone and the directory with it.
fn ends_cleanly(how: &str, end: impl FnOnce(&Tmux, &str)) {
    let root = tempfile::tempdir().expect("temp dir");
    let tmp = root.path().join("tmp");
    let home = root.path().join("home");
    for d in [&tmp, &home] {
        std::fs::create_dir_all(d).expect("create dir");
    }
    let t = Tmux { socket: root.path().join("tmux.sock") };
    let mut c = t.tmux();
    for v in ["DEPOT_DATA", "DEPOT_CONNECT", "DEPOT_TOKEN", "DEPOT_LOG", "TMUX", "TMUX_PANE"] {
        c.env_remove(v);
    }
    c.env("TMPDIR", &tmp)
        .env("HOME", &home)
        .env("DEPOT_CONFIG_DIR", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .args(["-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "-s", SESSION, "--", BIN])
        .args(["demo", "lag"]);
    let out = c.output().expect("run tmux new-session");
    assert!(out.status.success(), "tmux new-session failed: {}", String::from_utf8_lossy(&out.stderr));
    let screen = || t.run(&["capture-pane", "-p", "-t", SESSION]);
    wait_for("the demo's screen", || screen().contains("demo lag · t ="), screen);
    let dirs = demo_dirs(&tmp);
    assert_eq!(dirs.len(), 1, "one temporary data directory under TMPDIR: {dirs:?}");
    let pid = t.run(&["list-panes", "-t", SESSION, "-F", "#{pane_pid}"]).trim().to_string();
    assert!(alive(&pid), "the demo runs as the pane's process {pid}");
    end(&t, &pid);
    wait_for(&format!("the demo exiting after {how}"), || !alive(&pid), || format!("pid {pid}"));
    assert_eq!(demo_dirs(&tmp), Vec::<PathBuf>::new(), "after {how} the temporary data directory is gone");
}

fn tmux_missing() -> bool {
    if Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()) {
        return false;
    }
    assert!(std::env::var("DEPOT_SKIP_TMUX").is_ok_and(|v| v == "1"), "tmux is needed (DEPOT_SKIP_TMUX=1 skips)");
    true
}

#[test]
fn closing_the_terminal_removes_the_demos_data_directory() {
    if tmux_missing() {
        return;
    }
    // Killing the session closes the pane's terminal: the kernel sends the demo SIGHUP.
    ends_cleanly("the terminal closed (SIGHUP)", |t, _| {
        t.run(&["kill-session", "-t", SESSION]);
    });
}

#[test]
fn sigterm_and_sigint_remove_the_demos_data_directory() {
    if tmux_missing() {
        return;
    }
    for signal in ["TERM", "INT"] {
        ends_cleanly(&format!("SIG{signal}"), |_, pid| {
            let ok = Command::new("kill").args([&format!("-{signal}"), pid]).status().is_ok_and(|s| s.success());
            assert!(ok, "kill -{signal} {pid}");
        });
    }
}
