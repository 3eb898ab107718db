//! Colour themes, named by meaning. `dark` (the default), `light` and `high-contrast` are embedded
//! in the binary; user themes are read from `<config dir>/themes/NAME.toml`. `NO_COLOR` turns every
//! colour off (selection then shows as reversed text).

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::path::Path;

const DARK: &str = include_str!("../../themes/dark.toml");
const LIGHT: &str = include_str!("../../themes/light.toml");
const HIGH_CONTRAST: &str = include_str!("../../themes/high-contrast.toml");

/// The embedded themes by name.
pub const BUILT_IN: &[(&str, &str)] = &[("dark", DARK), ("light", LIGHT), ("high-contrast", HIGH_CONTRAST)];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    text: String,
    muted: String,
    accent: String,
    title: String,
    ok: String,
    warn: String,
    error: String,
    danger: String,
    selection_fg: String,
    selection_bg: String,
    border: String,
    header: String,
}

/// Resolved colours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    pub text: Color,
    pub muted: Color,
    pub accent: Color,
    pub title: Color,
    pub ok: Color,
    pub warn: Color,
    pub error: Color,
    pub danger: Color,
    pub selection_fg: Color,
    pub selection_bg: Color,
    pub border: Color,
    pub header: Color,
    /// No colours at all (NO_COLOR).
    pub mono: bool,
}

/// Parses a colour name or `#rrggbb` (`field` names it in the error).
pub fn color(field: &str, v: &str) -> Result<Color, String> {
    let c = match v.to_ascii_lowercase().as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        hex if hex.starts_with('#') && hex.len() == 7 => {
            let n =
                u32::from_str_radix(&hex[1..], 16).map_err(|_| format!("{field} = {v:?} is not a #rrggbb colour"))?;
            Color::Rgb((n >> 16) as u8, (n >> 8) as u8, n as u8)
        }
        _ => return Err(format!("{field} = {v:?} is not a colour name or #rrggbb")),
    };
    Ok(c)
}

impl Theme {
    /// Parses a theme file's text.
    pub fn parse(text: &str, fallback_name: &str) -> Result<Theme, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        Ok(Theme {
            name: f.name.unwrap_or_else(|| fallback_name.to_string()),
            text: color("text", &f.text)?,
            muted: color("muted", &f.muted)?,
            accent: color("accent", &f.accent)?,
            title: color("title", &f.title)?,
            ok: color("ok", &f.ok)?,
            warn: color("warn", &f.warn)?,
            error: color("error", &f.error)?,
            danger: color("danger", &f.danger)?,
            selection_fg: color("selection_fg", &f.selection_fg)?,
            selection_bg: color("selection_bg", &f.selection_bg)?,
            border: color("border", &f.border)?,
            header: color("header", &f.header)?,
            mono: false,
        })
    }

    /// The default theme (embedded; a test checks it parses).
    pub fn dark() -> Theme {
        Theme::parse(DARK, "dark").unwrap_or_else(|_| Theme::mono())
    }

    /// No colours.
    pub fn mono() -> Theme {
        Theme {
            name: "no-color".into(),
            text: Color::Reset,
            muted: Color::Reset,
            accent: Color::Reset,
            title: Color::Reset,
            ok: Color::Reset,
            warn: Color::Reset,
            error: Color::Reset,
            danger: Color::Reset,
            selection_fg: Color::Reset,
            selection_bg: Color::Reset,
            border: Color::Reset,
            header: Color::Reset,
            mono: true,
        }
    }

    /// Loads `name`: a user theme in `config_dir/themes/NAME.toml`, else a built-in one. On any
    /// problem, the default theme and a message saying what was wrong.
    pub fn load(name: &str, config_dir: Option<&Path>, no_color: bool) -> (Theme, Option<String>) {
        if no_color {
            return (Theme::mono(), None);
        }
        if let Some(dir) = config_dir {
            let path = dir.join("themes").join(format!("{name}.toml"));
            if let Ok(text) = std::fs::read_to_string(&path) {
                return match Theme::parse(&text, name) {
                    Ok(t) => (t, None),
                    Err(e) => (Theme::dark(), Some(format!("theme {}: {e}; using the default theme", path.display()))),
                };
            }
        }
        match BUILT_IN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => match Theme::parse(text, n) {
                Ok(t) => (t, None),
                Err(e) => (Theme::dark(), Some(format!("built-in theme {n}: {e}"))),
            },
            None => {
                let known: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                (Theme::dark(), Some(format!("no theme named {name:?} (built in: {}); using dark", known.join(", "))))
            }
        }
    }

    pub fn style(&self, fg: Color) -> Style {
        if self.mono { Style::default() } else { Style::default().fg(fg) }
    }

    pub fn selection(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().fg(self.selection_fg).bg(self.selection_bg)
        }
    }

    pub fn bold(&self, fg: Color) -> Style {
        self.style(fg).add_modifier(Modifier::BOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_parses() {
        for (name, text) in BUILT_IN {
            let t = Theme::parse(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&t.name, name);
        }
        assert_eq!(Theme::dark().name, "dark");
    }

    #[test]
    fn bad_themes_fall_back_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        std::fs::write(dir.path().join("themes/mine.toml"), "text = \"chartreuse\"").unwrap();
        let (t, msg) = Theme::load("mine", Some(dir.path()), false);
        assert_eq!(t.name, "dark");
        assert!(msg.unwrap().contains("mine.toml"));
        let (t, msg) = Theme::load("nope", None, false);
        assert_eq!(t.name, "dark");
        assert!(msg.unwrap().contains("built in: dark, light, high-contrast"));
        let (t, msg) = Theme::load("light", None, true);
        assert!(t.mono && msg.is_none());
        let good = DARK.replace("name = \"dark\"", "name = \"mine\"").replace("\"cyan\"", "\"#112233\"");
        std::fs::write(dir.path().join("themes/mine.toml"), good).unwrap();
        let (t, msg) = Theme::load("mine", Some(dir.path()), false);
        assert_eq!((t.name.as_str(), t.accent, msg), ("mine", Color::Rgb(0x11, 0x22, 0x33), None));
    }
}
