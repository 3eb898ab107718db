//! End to end: the real `depot` console in a real terminal (tmux), driven by keys and read back
//! with `capture-pane`, as a user would: create a topic, publish (a JSON value among them), browse
//! to the messages and open the detail pane, pull by hand as a group and commit, look at the
//! group's committed offsets and lag, reset with a preview, execute, undo, quit. Then the terminal
//! must be restored and the data really on disk (checked with the binary's own `--json` verbs).
//!
//! The tmux server is private to the test (its socket lives in the test's temp dir) and is killed
//! when the test ends, however it ends. Nothing waits a fixed time: every step polls the screen
//! until what the user should see is there, or fails with the last screen.
//!
//! Without tmux the test fails with a clear message, unless `DEPOT_SKIP_TMUX=1` is set.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_depot");
/// The longest one step may take to show its result.
const STEP: Duration = Duration::from_secs(10);
/// The tmux session (the server is private, so one fixed name is enough).
const SESSION: &str = "e2e";
/// What the wrapper shell prints when the console has exited.
const EXITED: &str = "depot exited with status";

/// Runs the console under `sh` so that, once it exits, the shell reports its exit status and the
/// terminal modes it left behind, then keeps the pane alive (`cat`) so tmux can still be asked
/// about the pane's cursor, mouse and alternate-screen state.
const WRAPPER: &str = r#"data="$1"; shift
"$0" --data "$data" --listen off "$@"
status=$?
printf '\n%s %s\n' 'depot exited with status' "$status"
printf 'tty after exit: %s\n' "$(stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\n' ' ')"
exec cat"#;

/// A private tmux server running the console; killed on drop (also when the test panics).
struct Tmux {
    socket: PathBuf,
    log: PathBuf,
    data: PathBuf,
    // Dropped after `drop` has killed the server.
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts the console on a fresh data directory in a 120×40 tmux pane, with HOME, the XDG
    /// directories and depot's config directory all inside the temp dir.
    fn start() -> Tmux {
        Tmux::start_with(&[])
    }

    /// Like [`Tmux::start`], the console started with `args` as well.
    fn start_with(args: &[&str]) -> Tmux {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        let data = root.join("data");
        for d in ["home", "config", "xdg-config", "xdg-data", "xdg-state", "xdg-cache"] {
            std::fs::create_dir_all(root.join(d)).expect("create dir");
        }
        let conf = root.join("tmux.conf");
        // remain-on-exit: should the wrapper itself die, its last screen stays readable.
        std::fs::write(&conf, "set -g remain-on-exit on\n").expect("write tmux.conf");
        let t = Tmux { socket: root.join("tmux.sock"), log: root.join("xdg-state/depot/console.log"), data, _dir: dir };

        let mut c = t.tmux();
        // The server started here passes this environment on to the pane.
        for v in ["DEPOT_DATA", "DEPOT_CONNECT", "DEPOT_TOKEN", "DEPOT_LOG", "NO_COLOR", "TMUX", "TMUX_PANE"] {
            c.env_remove(v);
        }
        c.env("HOME", root.join("home"))
            .env("DEPOT_CONFIG_DIR", root.join("config"))
            .env("XDG_CONFIG_HOME", root.join("xdg-config"))
            .env("XDG_DATA_HOME", root.join("xdg-data"))
            .env("XDG_STATE_HOME", root.join("xdg-state"))
            .env("XDG_CACHE_HOME", root.join("xdg-cache"))
            .arg("-f")
            .arg(&conf)
            .args(["new-session", "-d", "-x", "120", "-y", "40", "-s", SESSION, "--", "sh", "-c", WRAPPER, BIN])
            .arg(&t.data)
            .args(args);
        let out = c.output().expect("run tmux new-session");
        assert!(out.status.success(), "tmux new-session failed: {}", String::from_utf8_lossy(&out.stderr));
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-u").arg("-S").arg(&self.socket).stdin(Stdio::null());
        c
    }

    /// Runs a tmux command; its stdout.
    fn run(&self, args: &[&str]) -> String {
        let out = self.tmux().args(args).output().expect("run tmux");
        assert!(out.status.success(), "tmux {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen as text.
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", SESSION])
    }

    /// A tmux format about the pane, e.g. `#{alternate_on}`.
    fn format(&self, f: &str) -> String {
        self.run(&["display-message", "-p", "-t", SESSION, f]).trim().to_string()
    }

    /// Presses keys by tmux name (`Enter`, `Tab`, `Escape`, `Left`, `C-u`, `q`...).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", SESSION, "-l", "--", text]);
    }

    /// Polls the screen until `ok` holds; fails with the last screen after [`STEP`], or at once
    /// when the console has exited and that is not what was awaited.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_within(STEP, what, ok)
    }

    /// [`Tmux::wait_for`] with its own bound.
    fn wait_within(&self, within: Duration, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            let exited = screen.contains(EXITED) && !what.contains(EXITED);
            if exited || start.elapsed() > within {
                let why = if exited { "the console exited" } else { "timed out" };
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let log: Vec<&str> = log.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
                panic!(
                    "waiting for {what}: {why} after {:.1}s. Last screen:\n{}\n{screen}{}\nconsole.log (tail):\n{}",
                    start.elapsed().as_secs_f64(),
                    "─".repeat(120),
                    "─".repeat(120),
                    log.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until every one of `texts` is on the screen.
    /// Like [`Tmux::wait_text`], for what a client's own timer brings (kcat commits every 5 s).
    fn wait_for_long(&self, texts: &[&str]) -> String {
        self.wait_within(3 * STEP, &format!("{texts:?}"), |s| texts.iter().all(|t| s.contains(t)))
    }

    fn wait_text(&self, texts: &[&str]) -> String {
        self.wait_for(&format!("{texts:?}"), |s| texts.iter().all(|t| s.contains(t)))
    }

    /// Waits until `texts` are on the screen and every one of `rows` is a table row on it.
    fn wait_rows(&self, texts: &[&str], rows: &[&[&str]]) -> String {
        self.wait_for(&format!("{texts:?} and rows {rows:?}"), |s| {
            texts.iter().all(|t| s.contains(t)) && rows.iter().all(|r| has_row(s, r))
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}

/// Whether some cell run of a screen line (the text between box borders `│`) starts with these
/// whitespace-separated words, e.g. `["orders", "0", "-", "1"]` for a table row. A form's focused
/// field ends with the cursor `█`.
fn has_row(screen: &str, words: &[&str]) -> bool {
    screen.lines().flat_map(|l| l.split('│')).any(|seg| {
        let toks: Vec<&str> = seg.split_whitespace().collect();
        toks.len() >= words.len() && toks.iter().zip(words).all(|(a, b)| a == b)
    })
}

/// Whether some cell run of a screen line is exactly `text` (ignoring trailing spaces).
fn has_segment(screen: &str, text: &str) -> bool {
    screen.lines().flat_map(|l| l.split('│')).any(|seg| seg.trim_end() == text)
}

fn tmux_available() -> Result<String, String> {
    match Command::new("tmux").arg("-V").stdin(Stdio::null()).output() {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        Ok(o) => Err(format!("`tmux -V` failed: {}", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!("cannot run tmux: {e}")),
    }
}

/// Runs a depot verb on the data directory after the console has exited.
fn depot(data: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    for v in ["DEPOT_DATA", "DEPOT_CONNECT", "DEPOT_TOKEN", "DEPOT_LOG"] {
        c.env_remove(v);
    }
    let out = c.arg("--data").arg(data).args(args).stdin(Stdio::null()).output().expect("run depot");
    assert!(out.status.success(), "depot {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn console_end_to_end_in_tmux() {
    if let Err(why) = tmux_available() {
        if std::env::var("DEPOT_SKIP_TMUX").as_deref() == Ok("1") {
            // Straight to stderr: the test harness would swallow eprintln! of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED console_end_to_end_in_tmux: tmux is not available ({why}) and DEPOT_SKIP_TMUX=1"
            );
            return;
        }
        panic!(
            "console_end_to_end_in_tmux needs tmux, which is not available ({why}). Install tmux \
             (.ci/run's environment has it), or set DEPOT_SKIP_TMUX=1 to skip this test knowingly."
        );
    }
    let t = Tmux::start();

    // ── The empty state, in the alternate screen with the mouse on.
    t.wait_text(&[
        "depot ▸ Topics",
        "embedded",
        "Topics (0)",
        "No topics yet.",
        "Press c to create one here",
        "c create",
        "q quit",
    ]);
    assert_eq!(t.format("#{pane_width}x#{pane_height}"), "120x40");
    assert_eq!(
        t.format("#{alternate_on} #{mouse_any_flag}"),
        "1 1",
        "the console runs in the alternate screen with the mouse on"
    );

    // ── Help overlay; any key closes it.
    t.keys(&["?"]);
    t.wait_rows(&["this view", "everywhere", "any key closes this help"], &[&["c", "create"], &["p", "publish"]]);
    t.keys(&["Escape"]);
    t.wait_for("the help to close", |s| !s.contains("any key closes this help") && s.contains("No topics yet."));

    // ── Create topic `orders`: 2 partitions, 7 days of retention; confirm.
    t.keys(&["c"]);
    t.wait_text(&["Create topic", "[ Create ]"]);
    t.type_text("orders");
    t.keys(&["Tab", "C-u"]);
    t.type_text("2");
    t.keys(&["Tab"]);
    t.type_text("7d");
    t.wait_rows(&["[ Create ]"], &[&["name", "orders"], &["partitions", "2"], &["retention", "7d█"]]);
    t.keys(&["Tab", "Enter"]);
    t.wait_text(&["Create topic orders with 2 partition(s)?", "enter/y yes", "esc/n no"]);
    t.keys(&["Enter"]);
    t.wait_rows(&["✓ created topic orders with 2 partition(s)", "Topics (1)"], &[&["orders", "2", "0"]]);

    // ── Publish a multi-line JSON value with a key and headers to partition 0.
    t.keys(&["p"]);
    t.wait_text(&["Publish to orders", "[ Publish ]", "empty: by key, or the next partition in turn"]);
    t.type_text("0");
    t.keys(&["Tab"]);
    t.type_text("k1");
    t.keys(&["Tab"]);
    t.type_text("source=e2e, kind=json");
    t.keys(&["Tab"]);
    t.type_text(r#"{"id": 1,"#);
    t.keys(&["Enter"]); // a newline inside the value
    t.type_text(r#""item": "book", "tags": ["a","b"]}"#);
    t.wait_rows(
        &[r#""item": "book", "tags": ["a","b"]}"#],
        &[
            &["partition", "0"],
            &["key", "k1"],
            &["headers", "source=e2e,", "kind=json"],
            &["value", "{\"id\":", "1,"],
            &["repeat", "1"],
        ],
    );
    t.keys(&["Tab", "Tab", "Tab", "Enter"]);
    t.wait_text(&["Publish 1 record(s) to orders?"]);
    t.keys(&["Enter"]);
    t.wait_rows(&["✓ published 1 record(s) to orders (partition 0), last at offset 0"], &[&["orders", "2", "1"]]);

    // ── Publish 4 copies of a text value to partition 1; confirm with `y`.
    t.keys(&["p"]);
    t.wait_text(&["Publish to orders", "[ Publish ]"]);
    t.type_text("1");
    t.keys(&["Tab", "Tab", "Tab"]);
    t.type_text("plain text");
    t.keys(&["Tab", "C-u"]);
    t.type_text("4");
    t.wait_rows(&["[ Publish ]"], &[&["partition", "1"], &["value", "plain", "text"], &["repeat", "4█"]]);
    t.keys(&["Tab", "Tab", "Enter"]);
    t.wait_text(&["Publish 4 record(s) to orders?"]);
    t.keys(&["y"]);
    t.wait_rows(&["✓ published 4 record(s) to orders (partition 1), last at offset 3"], &[&["orders", "2", "5"]]);

    // ── Browse: the topic's partitions, then partition 0's messages, then the detail pane.
    t.keys(&["Enter"]);
    t.wait_rows(
        &[
            "depot ▸ Topics ▸ topic orders",
            "topic orders · 2 partition(s) · retention 7d",
            "no group consumes this topic yet",
        ],
        &[&["0", "0", "1", "1"], &["1", "0", "4", "4"]],
    );
    t.keys(&["Enter"]);
    t.wait_for("partition 0's messages: one row, offset 0, key k1, the JSON value on one line", |s| {
        s.contains("▸ orders/0 messages")
            && s.contains("orders/0 · browse · offsets 0..=0")
            && s.lines().any(|l| l.contains(" k1 ") && l.contains(r#"{"id": 1, "item": "book""#))
    });
    t.keys(&["Enter"]);
    let json =
        ["{", r#"  "id": 1,"#, r#"  "item": "book","#, r#"  "tags": ["#, r#"    "a","#, r#"    "b""#, "  ]", "}"];
    let fields: [&[&str]; 4] =
        [&["offset", "0"], &["key", "k1"], &["header", "source", "=", "e2e"], &["header", "kind", "=", "json"]];
    t.wait_for(&format!("the detail pane: {fields:?}, `value (json)` and each line of {json:?}"), |s| {
        s.contains("value (json)") && json.iter().all(|l| has_segment(s, l)) && fields.iter().all(|r| has_row(s, r))
    });
    t.keys(&["Escape"]);
    t.wait_text(&["topic orders · 2 partition(s)", "l pull"]);

    // ── Pull by hand: 3 records as group `billing`, see them, commit.
    t.keys(&["l"]);
    t.wait_rows(
        &["Pull by hand", "[ Pull ]"],
        &[&["group", "depot-console█"], &["topic", "[orders]"], &["count", "10"]],
    );
    t.keys(&["C-u"]);
    t.type_text("billing");
    t.keys(&["Tab", "Tab", "C-u"]);
    t.type_text("3");
    t.wait_rows(&["Pull by hand"], &[&["group", "billing"], &["count", "3█"]]);
    t.keys(&["Tab", "Enter"]);
    // (Nothing is committed before `c`: the group that took the records shows, with no commits.)
    t.wait_rows(
        &["pulled 3 record(s) as group billing", "commit (orders/0→1 orders/1→2)", "don't commit"],
        &[
            &["0", "0", "k1", "{\"id\":"],
            &["1", "0", "plain", "text"],
            &["1", "1", "plain", "text"],
            &["billing", "0", "-", "1"],
            &["billing", "1", "-", "4"],
        ],
    );
    t.keys(&["c"]);
    t.wait_rows(&["✓ committed", "consumer groups"], &[&["billing", "0", "1", "0"], &["billing", "1", "2", "2"]]);

    // ── Groups view (`2`), then the group: committed offset, end, lag per partition.
    t.keys(&["2"]);
    t.wait_rows(&["depot ▸ Groups", "Consumer groups (1)", "o reset", "u undo"], &[&["billing", "empty", "0", "2"]]);
    t.keys(&["Enter"]);
    // TOPIC PART OWNER COMMITTED END LAG
    t.wait_rows(
        &["depot ▸ Groups ▸ group billing", "group billing · partitions", "0 member(s)", "lag 2 (", "no live members"],
        &[&["orders", "0", "-", "1", "1", "0"], &["orders", "1", "-", "2", "4", "2"]],
    );

    // ── Reset with a preview: mode shift-by (←/→ move between modes), value -2, all partitions
    //    (the form opens on the partition row the cursor is on: 0).
    t.keys(&["o"]);
    t.wait_rows(
        &["Reset offsets of billing", "[ Preview ]", "[shift-by]"],
        &[&["group", "[billing]"], &["topic", "[orders]"], &["value", "-1"], &["partitions", "0"]],
    );
    t.keys(&["Tab", "Tab", "Left"]);
    t.wait_text(&["[to-offset]"]);
    t.keys(&["Right"]);
    t.wait_text(&["[shift-by]"]);
    t.keys(&["Tab", "C-u"]);
    t.type_text("-2");
    t.wait_rows(&["Reset offsets of billing"], &[&["value", "-2█"]]);
    t.keys(&["Tab", "C-u"]);
    t.type_text("all");
    t.wait_rows(&["Reset offsets of billing"], &[&["partitions", "all█"]]);
    t.keys(&["Tab", "Enter"]);
    // PARTITION BEFORE AFTER MOVE RANGE
    // Behind the preview the group is unchanged; the note explains the clamp at the log start.
    t.wait_rows(
        &[
            "reset billing on orders: shift-by -2",
            "nothing has changed yet: this is the plan",
            "execute (journaled; u undoes)",
            "before the log start",
        ],
        &[
            &["PARTITION", "BEFORE", "AFTER", "MOVE", "RANGE", "NOTE"],
            &["0", "1", "0", "-1", "0..1"],
            &["1", "2", "0", "-2", "0..4"],
            &["orders", "1", "-", "2", "4", "2"],
        ],
    );
    t.keys(&["Enter"]);
    t.wait_rows(
        &["✓ group billing: reset #1 (shift-by -2) executed — press u in the group to undo", "lag 5 ("],
        &[&["orders", "0", "-", "0", "1", "1"], &["orders", "1", "-", "0", "4", "4"]],
    );

    // ── Undo: its own preview, then back to where the group was.
    t.keys(&["u"]);
    t.wait_rows(
        &["undo reset #1 of billing on orders", "nothing has changed yet: this is the plan"],
        &[&["0", "0", "1", "+1", "0..1"], &["1", "0", "2", "+2", "0..4"]],
    );
    t.keys(&["Enter"]);
    t.wait_rows(
        &["✓ group billing: undid reset #1", "lag 2 ("],
        &[&["orders", "0", "-", "1", "1", "0"], &["orders", "1", "-", "2", "4", "2"]],
    );

    // ── Command mode: `:topics` (worst lag names the group), `:group billing`, then its backlog.
    t.keys(&[":"]);
    t.type_text("topics");
    t.wait_text(&[":topics█", "topics · groups · group NAME"]);
    t.keys(&["Enter"]);
    t.wait_for("the Topics view alone in the breadcrumbs, orders' worst lag naming billing", |s| {
        let crumbs = s.lines().next().unwrap_or("");
        crumbs.contains("depot ▸ Topics")
            && !crumbs.contains("billing")
            && has_row(s, &["orders", "2", "5"])
            && s.lines().any(|l| l.contains("orders") && l.contains("billing"))
    });
    t.keys(&[":"]);
    t.type_text("group billing");
    t.keys(&["Enter"]);
    t.wait_rows(&["depot ▸ Groups ▸ group billing"], &[&["orders", "1", "-", "2", "4", "2"]]);
    t.keys(&["j", "Enter"]);
    t.wait_for("the backlog of billing on orders/1: the 2 records it has not consumed", |s| {
        s.contains("▸ group billing ▸ orders/1 backlog ")
            && s.contains("orders/1 · backlog of billing · offsets 2..=3")
            && s.matches("plain text").count() == 2
    });
    t.keys(&["Escape"]);
    t.wait_text(&["group billing · partitions"]);
    t.keys(&["Escape"]);
    t.wait_for("the Groups view as the top view", |s| s.contains("Consumer groups (1)") && s.contains("q quit"));

    // ── Search by the engine in orders/1: `/plain` from the first record, then `n`.
    t.keys(&["1", "Enter", "j", "Enter"]);
    t.wait_text(&["orders/1 · browse · offsets 0..=3"]);
    t.keys(&["/"]);
    t.type_text("plain");
    t.keys(&["Enter"]);
    t.wait_text(&["match 1/3 at offset 1 · \"plain\"", "· n/N"]);
    t.keys(&["n"]);
    t.wait_text(&["match 2/3 at offset 2 · \"plain\""]);

    // ── Reset a group to this record: the form opens filled in; esc changes nothing.
    t.keys(&["o"]);
    t.wait_rows(
        &["Reset offsets of billing", "[to-offset]"],
        &[&["topic", "[orders]"], &["value", "2"], &["partitions", "1"]],
    );
    t.keys(&["Escape"]);
    t.wait_text(&["cancelled; nothing changed"]);

    // ── Mark offsets 2..=3 and preview their replay (not run).
    t.keys(&["v", "j", "V"]);
    t.wait_text(&["marked offsets 2..=3 (2 records) · R replays them", "marked 2..=3"]);
    t.keys(&["R"]);
    t.wait_rows(&["Replay from orders", "[ Preview ]"], &[&["from", "2"], &["to", "4"], &["partitions", "1"]]);
    t.keys(&["C-s"]);
    t.wait_text(&["replay orders → orders: 2 record(s)"]);
    t.keys(&["Escape"]);
    t.wait_text(&["orders/1 · browse"]);

    // ── Delete a scratch topic: enter alone does nothing, its name typed deletes it.
    t.keys(&["1", "c"]);
    t.wait_text(&["Create topic", "[ Create ]"]);
    t.type_text("scratch");
    t.keys(&["Tab", "Tab", "Tab", "Enter"]);
    t.wait_text(&["Create topic scratch with 1 partition(s)?"]);
    t.keys(&["y"]);
    t.wait_rows(&["✓ created topic scratch", "Topics (2)"], &[&["scratch", "1", "0"]]);
    t.keys(&["j", "D"]);
    t.wait_text(&["Delete topic scratch and all its records?", "Type scratch to confirm:"]);
    t.keys(&["Enter"]);
    t.wait_text(&["type scratch to confirm, or esc to cancel", "Type scratch to confirm:"]);
    t.type_text("scratch");
    t.wait_text(&["> scratch█", "enter delete"]);
    t.keys(&["Enter"]);
    t.wait_rows(&["✓ deleted topic scratch", "Topics (1)"], &[&["orders", "2", "5"]]);
    t.keys(&["2"]);
    t.wait_for("the Groups view as the top view", |s| s.contains("Consumer groups (1)") && s.contains("q quit"));

    // ── Quit; the terminal is restored. (The screen is still from here on: `cat` prints nothing.)
    t.keys(&["q"]);
    let s = t.wait_text(&[EXITED, "tty after exit: "]);
    assert!(s.contains("depot exited with status 0"), "the console exits with status 0:\n{s}");
    assert!(
        !s.contains("depot ▸") && !s.contains('│') && !s.contains('╭'),
        "no console content is left on the screen:\n{s}"
    );
    let tty = s.lines().find_map(|l| l.strip_prefix("tty after exit: ")).unwrap_or_else(|| panic!("no tty line:\n{s}"));
    let modes: Vec<&str> = tty.split_whitespace().collect();
    for m in ["icanon", "echo", "isig"] {
        assert!(modes.contains(&m), "raw mode is off after exit (want {m}, got {tty:?})");
    }
    assert_eq!(
        t.format("#{pane_dead} #{alternate_on} #{mouse_any_flag} #{mouse_sgr_flag} #{cursor_flag}"),
        "0 0 0 0 1",
        "after exit the pane (pane_dead alternate_on mouse_any_flag mouse_sgr_flag cursor_flag) is back to normal"
    );

    // ── The data is really there.
    let g = &json_lines(&depot(&t.data, &["group", "describe", "billing", "--json"]))[0];
    assert_eq!(g["name"], "billing");
    assert_eq!(g["members"].as_array().map(Vec::len), Some(0), "{g}");
    let parts: Vec<(u64, u64, u64, u64)> = g["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .map(|p| {
            assert_eq!(p["topic"], "orders", "{p}");
            let n = |k: &str| p[k].as_u64().unwrap_or_else(|| panic!("{k} in {p}"));
            (n("partition"), n("committed"), n("end_offset"), n("lag"))
        })
        .collect();
    assert_eq!(parts, vec![(0, 1, 1, 0), (1, 2, 4, 2)], "partition, committed, end, lag after commit, reset and undo");

    let topic = &json_lines(&depot(&t.data, &["topic", "describe", "orders", "--json"]))[0];
    assert_eq!(topic["config"]["partitions"], 2, "{topic}");
    assert_eq!(topic["config"]["retention_ms"], 7 * 24 * 3_600_000u64, "{topic}");

    let mut recs = json_lines(&depot(&t.data, &["peek", "orders", "--json"]));
    recs.sort_by_key(|r| (r["partition"].as_u64(), r["offset"].as_u64()));
    assert_eq!(recs.len(), 5, "{recs:?}");
    let first = &recs[0];
    assert_eq!((first["partition"].as_u64(), first["offset"].as_u64()), (Some(0), Some(0)), "{first}");
    assert_eq!(first["key"], "k1");
    assert_eq!(first["value"], "{\"id\": 1,\n\"item\": \"book\", \"tags\": [\"a\",\"b\"]}");
    let value: Value =
        serde_json::from_str(first["value"].as_str().unwrap_or("")).expect("the published value is JSON");
    assert_eq!(value["tags"], serde_json::json!(["a", "b"]));
    let headers: Vec<(&str, &str)> = first["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| (h["name"].as_str().unwrap_or(""), h["value"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(headers, vec![("source", "e2e"), ("kind", "json")]);
    for (i, r) in recs[1..].iter().enumerate() {
        assert_eq!((r["partition"].as_u64(), r["offset"].as_u64()), (Some(1), Some(i as u64)), "{r}");
        assert_eq!((&r["key"], &r["value"]), (&Value::Null, &Value::from("plain text")), "{r}");
    }
}

/// kcat against the console's own Kafka listener.
fn kcat(broker: &str, args: &[&str], stdin: &str) -> Output {
    let mut c = Command::new("kcat");
    c.args(["-b", broker]).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("run kcat (installed by .ci/run)");
    if let Some(mut i) = child.stdin.take() {
        i.write_all(stdin.as_bytes()).expect("write to kcat");
    }
    let out = child.wait_with_output().expect("kcat output");
    assert!(out.status.success(), "kcat {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
#[ignore = "needs tmux and kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once they are installed (.ci/run installs them)"]
fn the_console_s_kafka_listener_serves_kcat_while_it_runs() {
    assert_eq!(
        std::env::var("DEPOT_TEST_KAFKA_CLIENTS").as_deref(),
        Ok("1"),
        "run with DEPOT_TEST_KAFKA_CLIENTS=1 after installing kcat"
    );
    let t =
        Tmux::start_with(&["--kafka-listen", "127.0.0.1:0", "--kafka-auto-create", "--kafka-default-partitions", "2"]);
    // The status area names the listener's address (port 0: the one the system chose).
    let screen = t.wait_text(&["depot ▸ Topics", "Kafka on 127.0.0.1:"]);
    let broker = screen
        .split("Kafka on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the listener's address on screen")
        .to_string();

    // kcat produces keyed records to a topic the listener creates; the console lists it.
    kcat(&broker, &["-P", "-t", "orders", "-K", ":"], "k1:first\nk2:second\nk3:third\n");
    t.wait_rows(&["Topics (1)"], &[&["orders", "2", "3"]]);
    t.keys(&["Enter"]);
    t.wait_text(&["topic orders"]);

    // And reads them back, from the engine the console shows.
    let out = kcat(&broker, &["-C", "-t", "orders", "-o", "beginning", "-e", "-f", "%k=%s\\n"], "");
    let mut got: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    got.sort();
    assert_eq!(got, ["k1=first", "k2=second", "k3=third"]);

    // A Kafka consumer group (kcat -G) shows in the console while it runs: its member (client id,
    // host) and its lag falling to 0 as its commits arrive (kcat commits every 5 s).
    let mut c = Command::new("kcat");
    c.args(["-b", &broker, "-q", "-G", "eg", "orders", "-X", "auto.offset.reset=earliest"]);
    let _kcat = Child(c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("kcat -G"));
    t.keys(&["2"]);
    t.wait_rows(&["depot ▸ Groups"], &[&["eg", "stable", "1"]]);
    t.keys(&["Enter"]);
    t.wait_for_long(&["group eg", "rdkafka", "/127.0.0.1", "lag 0 ("]);
    t.keys(&["q", "q", "q"]);
    t.wait_text(&[EXITED]);
}

/// A child process killed when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
