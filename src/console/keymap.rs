//! Keys → actions. Every binding can be changed in the config file's `[keys]` table, e.g.
//! `publish = ["p", "ctrl-p"]`. Defaults avoid Ctrl-B (tmux's prefix) and Ctrl-A (screen's).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

/// Something a key can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Quit,
    Back,
    Help,
    Command,
    Filter,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Enter,
    Refresh,
    Topics,
    Groups,
    Publish,
    CreateTopic,
    Delete,
    Sort,
    Replay,
    Reset,
    Undo,
    Pull,
    Messages,
    Tail,
    Backlog,
    Jump,
    // Demo knobs (only while a demo runs).
    DemoRateUp,
    DemoRateDown,
    DemoFaster,
    DemoSlower,
    DemoPauseProducers,
    DemoPauseGroup,
    DemoAddMember,
    DemoCrash,
    DemoLeave,
    DemoIdempotent,
    DemoStepMode,
    DemoStep,
    DemoRestart,
}

impl Action {
    /// Name in the config file and the help overlay.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Back => "back",
            Action::Help => "help",
            Action::Command => "command",
            Action::Filter => "filter",
            Action::Up => "up",
            Action::Down => "down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Enter => "enter",
            Action::Refresh => "refresh",
            Action::Topics => "topics",
            Action::Groups => "groups",
            Action::Publish => "publish",
            Action::CreateTopic => "create_topic",
            Action::Delete => "delete",
            Action::Sort => "sort",
            Action::Replay => "replay",
            Action::Reset => "reset",
            Action::Undo => "undo",
            Action::Pull => "pull",
            Action::Messages => "messages",
            Action::Tail => "tail",
            Action::Backlog => "backlog",
            Action::Jump => "jump",
            Action::DemoRateUp => "demo_rate_up",
            Action::DemoRateDown => "demo_rate_down",
            Action::DemoFaster => "demo_faster",
            Action::DemoSlower => "demo_slower",
            Action::DemoPauseProducers => "demo_pause_producers",
            Action::DemoPauseGroup => "demo_pause_group",
            Action::DemoAddMember => "demo_add_member",
            Action::DemoCrash => "demo_crash",
            Action::DemoLeave => "demo_leave",
            Action::DemoIdempotent => "demo_idempotent",
            Action::DemoStepMode => "demo_step_mode",
            Action::DemoStep => "demo_step",
            Action::DemoRestart => "demo_restart",
        }
    }

    pub const ALL: [Action; 40] = [
        Action::Quit,
        Action::Back,
        Action::Help,
        Action::Command,
        Action::Filter,
        Action::Up,
        Action::Down,
        Action::Top,
        Action::Bottom,
        Action::PageUp,
        Action::PageDown,
        Action::Enter,
        Action::Refresh,
        Action::Topics,
        Action::Groups,
        Action::Publish,
        Action::CreateTopic,
        Action::Delete,
        Action::Sort,
        Action::Replay,
        Action::Reset,
        Action::Undo,
        Action::Pull,
        Action::Messages,
        Action::Tail,
        Action::Backlog,
        Action::Jump,
        Action::DemoRateUp,
        Action::DemoRateDown,
        Action::DemoFaster,
        Action::DemoSlower,
        Action::DemoPauseProducers,
        Action::DemoPauseGroup,
        Action::DemoAddMember,
        Action::DemoCrash,
        Action::DemoLeave,
        Action::DemoIdempotent,
        Action::DemoStepMode,
        Action::DemoStep,
        Action::DemoRestart,
    ];
}

/// A key with its modifiers, as written in the config: `q`, `G`, `ctrl-d`, `esc`, `f5`, `pgdn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// `KeyCode` subset that orders and hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Esc,
    Enter,
    Tab,
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Delete,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        let code = match e.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            KeyCode::Delete => KeyCodeOrd::Delete,
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
            alt: e.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Parses `q`, `G`, `?`, `ctrl-d`, `alt-x`, `esc`, `enter`, `tab`, `space`, `up`, `pgdn`, `f5`...
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "esc" => KeyCodeOrd::Esc,
            "enter" => KeyCodeOrd::Enter,
            "tab" => KeyCodeOrd::Tab,
            "backtab" => KeyCodeOrd::BackTab,
            "backspace" => KeyCodeOrd::Backspace,
            "space" => KeyCodeOrd::Char(' '),
            "up" => KeyCodeOrd::Up,
            "down" => KeyCodeOrd::Down,
            "left" => KeyCodeOrd::Left,
            "right" => KeyCodeOrd::Right,
            "home" => KeyCodeOrd::Home,
            "end" => KeyCodeOrd::End,
            "pgup" | "pageup" => KeyCodeOrd::PageUp,
            "pgdn" | "pagedown" => KeyCodeOrd::PageDown,
            "delete" | "del" => KeyCodeOrd::Delete,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCodeOrd::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCodeOrd::Char(c.chars().next().unwrap_or(' ')),
            _ => return Err(format!("{s:?} is not a key (examples: q, G, ctrl-d, esc, enter, pgdn, f5)")),
        };
        Ok(Key { code, ctrl, alt })
    }

    /// How the key is shown in hints.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCodeOrd::Char(' ') => "space".to_string(),
            KeyCodeOrd::Char(c) => c.to_string(),
            KeyCodeOrd::F(n) => format!("F{n}"),
            KeyCodeOrd::Esc => "esc".into(),
            KeyCodeOrd::Enter => "enter".into(),
            KeyCodeOrd::Tab => "tab".into(),
            KeyCodeOrd::BackTab => "shift-tab".into(),
            KeyCodeOrd::Backspace => "backspace".into(),
            KeyCodeOrd::Up => "↑".into(),
            KeyCodeOrd::Down => "↓".into(),
            KeyCodeOrd::Left => "←".into(),
            KeyCodeOrd::Right => "→".into(),
            KeyCodeOrd::Home => "home".into(),
            KeyCodeOrd::End => "end".into(),
            KeyCodeOrd::PageUp => "pgup".into(),
            KeyCodeOrd::PageDown => "pgdn".into(),
            KeyCodeOrd::Delete => "del".into(),
        };
        match (self.ctrl, self.alt) {
            (true, _) => format!("ctrl-{base}"),
            (_, true) => format!("alt-{base}"),
            _ => base,
        }
    }
}

/// The bindings in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    by_key: BTreeMap<Key, Action>,
    by_action: BTreeMap<Action, Vec<Key>>,
}

fn defaults() -> Vec<(Action, &'static [&'static str])> {
    vec![
        (Action::Quit, &["q"]),
        (Action::Back, &["esc"]),
        (Action::Help, &["?"]),
        (Action::Command, &[":"]),
        (Action::Filter, &["/"]),
        (Action::Up, &["k", "up"]),
        (Action::Down, &["j", "down"]),
        (Action::Top, &["g", "home"]),
        (Action::Bottom, &["G", "end"]),
        (Action::PageUp, &["pgup", "ctrl-u"]),
        (Action::PageDown, &["pgdn", "ctrl-d"]),
        (Action::Enter, &["enter"]),
        (Action::Refresh, &["ctrl-r", "f5"]),
        (Action::Topics, &["1"]),
        (Action::Groups, &["2"]),
        (Action::Publish, &["p"]),
        (Action::CreateTopic, &["c"]),
        (Action::Delete, &["D"]),
        (Action::Sort, &["s"]),
        (Action::Replay, &["R"]),
        (Action::Reset, &["o"]),
        (Action::Undo, &["u"]),
        (Action::Pull, &["l"]),
        (Action::Messages, &["m"]),
        (Action::Tail, &["t"]),
        (Action::Backlog, &["b"]),
        (Action::Jump, &["J"]),
        (Action::DemoRateUp, &["+"]),
        (Action::DemoRateDown, &["-"]),
        (Action::DemoFaster, &[">"]),
        (Action::DemoSlower, &["<"]),
        (Action::DemoPauseProducers, &["z"]),
        (Action::DemoPauseGroup, &["x"]),
        (Action::DemoAddMember, &["a"]),
        (Action::DemoCrash, &["X"]),
        (Action::DemoLeave, &["L"]),
        (Action::DemoIdempotent, &["i"]),
        (Action::DemoStepMode, &["."]),
        (Action::DemoStep, &["n"]),
        (Action::DemoRestart, &["r"]),
    ]
}

impl Default for Keymap {
    fn default() -> Self {
        let mut map = BTreeMap::new();
        for (a, keys) in defaults() {
            map.insert(a, keys.iter().filter_map(|k| Key::parse(k).ok()).collect());
        }
        Keymap::from_actions(map)
    }
}

impl Keymap {
    fn from_actions(by_action: BTreeMap<Action, Vec<Key>>) -> Keymap {
        let mut by_key = BTreeMap::new();
        for (a, keys) in &by_action {
            for k in keys {
                by_key.insert(*k, *a);
            }
        }
        Keymap { by_key, by_action }
    }

    /// Applies `[keys]` overrides; returns the map and a message for each problem.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> (Keymap, Vec<String>) {
        let mut base = Keymap::default().by_action;
        let mut problems = Vec::new();
        for (name, keys) in overrides {
            let Some(action) = Action::ALL.iter().find(|a| a.name() == name) else {
                problems.push(format!("[keys] {name}: no such action"));
                continue;
            };
            let mut parsed = Vec::new();
            for k in keys {
                match Key::parse(k) {
                    Ok(key) => parsed.push(key),
                    Err(e) => problems.push(format!("[keys] {name}: {e}")),
                }
            }
            if !parsed.is_empty() {
                base.insert(*action, parsed);
            }
        }
        let map = Keymap::from_actions(base);
        // A key bound to two actions: the later one wins; say so.
        for (a, keys) in &map.by_action {
            for k in keys {
                if let Some(other) = map.by_key.get(k)
                    && other != a
                {
                    problems.push(format!("[keys] {} is bound to both {} and {}", k.label(), a.name(), other.name()));
                }
            }
        }
        (map, problems)
    }

    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        let k = Key::from_event(e)?;
        // Shifted letters arrive as uppercase chars (SHIFT is not part of a binding).
        self.by_key.get(&k).copied()
    }

    /// The first key of an action, for hints.
    pub fn label(&self, a: Action) -> String {
        self.by_action.get(&a).and_then(|k| k.first()).map(Key::label).unwrap_or_else(|| "-".into())
    }

    /// All keys of an action, for the help overlay.
    pub fn labels(&self, a: Action) -> String {
        self.by_action
            .get(&a)
            .map(|ks| ks.iter().map(Key::label).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "-".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_overrides_apply() {
        assert_eq!(Key::parse("ctrl-d").unwrap().label(), "ctrl-d");
        assert_eq!(Key::parse("f5").unwrap().code, KeyCodeOrd::F(5));
        assert!(Key::parse("hyper-x").is_err());
        let mut o = BTreeMap::new();
        o.insert("publish".to_string(), vec!["P".to_string()]);
        o.insert("fly".to_string(), vec!["f".to_string()]);
        o.insert("quit".to_string(), vec!["ctrl-nope".to_string(), "Q".to_string()]);
        let (m, problems) = Keymap::with_overrides(&o);
        let ev = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(m.action(&ev('P')), Some(Action::Publish));
        assert_eq!(m.action(&ev('p')), None);
        assert_eq!(m.action(&ev('Q')), Some(Action::Quit));
        assert!(problems.iter().any(|p| p.contains("fly")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("ctrl-nope")), "{problems:?}");
    }

    #[test]
    fn defaults_have_no_clashes_and_avoid_tmux_prefix() {
        let (_, problems) = Keymap::with_overrides(&BTreeMap::new());
        assert!(problems.is_empty(), "{problems:?}");
        let m = Keymap::default();
        let ctrl_b = KeyEvent::new(KeyCode::Char('b'), KeyModifiers::CONTROL);
        assert_eq!(m.action(&ctrl_b), None);
    }
}
