//! Keys → actions. Every binding can be changed in the config file's `[keys]` table, e.g.
//! `publish = ["p", "ctrl-p"]`. Defaults avoid Ctrl-B (tmux's prefix) and Ctrl-A (screen's).
//! A side panel's keys (see [`panel`](super::panel)) are rebound the same way, by the panel's
//! action ids (e.g. the demo's `demo_faster = [">"]`): the launcher names the ids it knows.

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
    SearchNext,
    SearchPrev,
    PrevPartition,
    NextPartition,
    MarkStart,
    MarkEnd,
    Copy,
    Save,
    Merge,
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
            Action::SearchNext => "search_next",
            Action::SearchPrev => "search_prev",
            Action::PrevPartition => "prev_partition",
            Action::NextPartition => "next_partition",
            Action::MarkStart => "mark_start",
            Action::MarkEnd => "mark_end",
            Action::Copy => "copy",
            Action::Save => "save",
            Action::Merge => "merge_partitions",
        }
    }

    pub const ALL: [Action; 36] = [
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
        Action::SearchNext,
        Action::SearchPrev,
        Action::PrevPartition,
        Action::NextPartition,
        Action::MarkStart,
        Action::MarkEnd,
        Action::Copy,
        Action::Save,
        Action::Merge,
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
    /// A plain character key.
    pub const fn char(c: char) -> Key {
        Key { code: KeyCodeOrd::Char(c), ctrl: false, alt: false }
    }

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

/// The bindings in force: the console's actions, and the keys the config file gives a side
/// panel's actions (by action id; a panel's own keys apply to the others).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    by_key: BTreeMap<Key, Action>,
    by_action: BTreeMap<Action, Vec<Key>>,
    panel: BTreeMap<String, Vec<Key>>,
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
        (Action::SearchNext, &["n"]),
        (Action::SearchPrev, &["N"]),
        (Action::PrevPartition, &["["]),
        (Action::NextPartition, &["]"]),
        (Action::MarkStart, &["v"]),
        (Action::MarkEnd, &["V"]),
        (Action::Copy, &["y"]),
        (Action::Save, &["w"]),
        (Action::Merge, &["M"]),
    ]
}

impl Default for Keymap {
    fn default() -> Self {
        let mut map = BTreeMap::new();
        for (a, keys) in defaults() {
            map.insert(a, keys.iter().filter_map(|k| Key::parse(k).ok()).collect());
        }
        Keymap::from_actions(map, BTreeMap::new())
    }
}

impl Keymap {
    fn from_actions(by_action: BTreeMap<Action, Vec<Key>>, panel: BTreeMap<String, Vec<Key>>) -> Keymap {
        let mut by_key = BTreeMap::new();
        for (a, keys) in &by_action {
            for k in keys {
                by_key.insert(*k, *a);
            }
        }
        Keymap { by_key, by_action, panel }
    }

    /// Applies `[keys]` overrides: a name is one of the console's actions or one of
    /// `panel_actions` (the action ids of the side panels this session may show). Returns the map
    /// and a message for each problem.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>, panel_actions: &[&str]) -> (Keymap, Vec<String>) {
        let mut base = Keymap::default().by_action;
        let mut panel = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, keys) in overrides {
            let action = Action::ALL.iter().find(|a| a.name() == name);
            if action.is_none() && !panel_actions.contains(&name.as_str()) {
                problems.push(format!("[keys] {name}: no such action"));
                continue;
            }
            let mut parsed = Vec::new();
            for k in keys {
                match Key::parse(k) {
                    Ok(key) => parsed.push(key),
                    Err(e) => problems.push(format!("[keys] {name}: {e}")),
                }
            }
            if parsed.is_empty() {
                continue;
            }
            match action {
                Some(a) => {
                    base.insert(*a, parsed);
                }
                None => {
                    panel.insert(name.clone(), parsed);
                }
            }
        }
        let map = Keymap::from_actions(base, panel);
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
        // The console's own actions go before a panel's.
        let mut panel_keys: BTreeMap<Key, &str> = BTreeMap::new();
        for (id, keys) in &map.panel {
            for k in keys {
                let first = map.by_key.get(k).map(|a| a.name()).or_else(|| panel_keys.get(k).copied());
                match first {
                    Some(other) => problems.push(format!("[keys] {} is bound to both {other} and {id}", k.label())),
                    None => {
                        panel_keys.insert(*k, id);
                    }
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

    /// The keys of a side panel's action: the config file's, else the panel's own.
    pub fn panel_keys(&self, action: &str, own: Key) -> Vec<Key> {
        self.panel.get(action).cloned().unwrap_or_else(|| vec![own])
    }

    /// The first key of a side panel's action, for hints.
    pub fn panel_label(&self, action: &str, own: Key) -> String {
        self.panel.get(action).and_then(|k| k.first()).copied().unwrap_or(own).label()
    }

    /// All keys of a side panel's action, for the help overlay.
    pub fn panel_labels(&self, action: &str, own: Key) -> String {
        self.panel_keys(action, own).iter().map(Key::label).collect::<Vec<_>>().join(" ")
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
        let (m, problems) = Keymap::with_overrides(&o, &[]);
        let ev = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(m.action(&ev('P')), Some(Action::Publish));
        assert_eq!(m.action(&ev('p')), None);
        assert_eq!(m.action(&ev('Q')), Some(Action::Quit));
        assert!(problems.iter().any(|p| p.contains("fly")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("ctrl-nope")), "{problems:?}");
    }

    #[test]
    fn defaults_have_no_clashes_and_avoid_tmux_prefix() {
        let (_, problems) = Keymap::with_overrides(&BTreeMap::new(), &[]);
        assert!(problems.is_empty(), "{problems:?}");
        let m = Keymap::default();
        let ctrl_b = KeyEvent::new(KeyCode::Char('b'), KeyModifiers::CONTROL);
        assert_eq!(m.action(&ctrl_b), None);
    }

    #[test]
    fn a_side_panels_actions_are_rebound_by_their_ids() {
        let mut o = BTreeMap::new();
        o.insert("lab_faster".to_string(), vec!["F".to_string(), "alt-f".to_string()]);
        o.insert("lab_slower".to_string(), vec!["p".to_string()]);
        o.insert("lab_unknown".to_string(), vec!["U".to_string()]);
        let (m, problems) = Keymap::with_overrides(&o, &["lab_faster", "lab_slower", "lab_step"]);
        assert_eq!(m.panel_keys("lab_faster", Key::char('>')), [Key::char('F'), Key::parse("alt-f").unwrap()]);
        assert_eq!(m.panel_label("lab_faster", Key::char('>')), "F");
        assert_eq!(m.panel_labels("lab_faster", Key::char('>')), "F alt-f");
        assert_eq!(m.panel_keys("lab_step", Key::char('n')), [Key::char('n')], "not rebound: the panel's own key");
        assert!(problems.iter().any(|p| p.contains("lab_unknown") && p.contains("no such action")), "{problems:?}");
        assert!(problems.iter().any(|p| p == "[keys] p is bound to both publish and lab_slower"), "{problems:?}");
        // Without the panel's ids the names are unknown.
        let (_, problems) = Keymap::with_overrides(&o, &[]);
        assert!(problems.iter().any(|p| p.contains("lab_faster: no such action")), "{problems:?}");
    }
}
