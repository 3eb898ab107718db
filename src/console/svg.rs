//! A rendered screen as SVG, with its colours: the README's screenshots are drawn from the same
//! `TestBackend` buffer the snapshot tests read as text (see `tests/screenshots.rs`). One
//! `<text>` per row, one `<tspan>` per run of cells that share a style, placed on the cell grid;
//! a `<rect>` under every run with a background; a monospace font on the theme's background.
//! Named terminal colours are drawn in one fixed palette (a terminal's own may differ).

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use std::fmt::Write;

/// Width and height of a cell, in pixels (a 14 px monospace font).
const CELL_W: f64 = 8.4;
const CELL_H: f64 = 18.0;
/// Where the text sits in its cell.
const BASELINE: f64 = 13.5;

/// The colours a screen is drawn on: the terminal's background and default text colour.
#[derive(Clone, Copy, Debug)]
pub struct Canvas {
    pub background: &'static str,
    pub foreground: &'static str,
}

/// A dark terminal.
pub const DARK: Canvas = Canvas { background: "#16181d", foreground: "#d4d4d4" };
/// A light terminal.
pub const LIGHT: Canvas = Canvas { background: "#ffffff", foreground: "#1f2328" };

/// A colour as `#rrggbb`; `None` for the terminal's own (reset).
pub fn hex(c: Color) -> Option<String> {
    let named = |s: &str| Some(s.to_string());
    match c {
        Color::Reset => None,
        Color::Black => named("#000000"),
        Color::Red => named("#cd3131"),
        Color::Green => named("#0dbc79"),
        Color::Yellow => named("#e5e510"),
        Color::Blue => named("#2472c8"),
        Color::Magenta => named("#bc3fbc"),
        Color::Cyan => named("#11a8cd"),
        Color::Gray => named("#cccccc"),
        Color::DarkGray => named("#767676"),
        Color::LightRed => named("#f14c4c"),
        Color::LightGreen => named("#23d18b"),
        Color::LightYellow => named("#f5f543"),
        Color::LightBlue => named("#3b8eea"),
        Color::LightMagenta => named("#d670d6"),
        Color::LightCyan => named("#29b8db"),
        Color::White => named("#ffffff"),
        Color::Rgb(r, g, b) => Some(format!("#{r:02x}{g:02x}{b:02x}")),
        Color::Indexed(i) => Some(indexed(i)),
    }
}

/// The xterm 256-colour palette.
fn indexed(i: u8) -> String {
    const BASE: [Color; 16] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    let rgb = |r: u8, g: u8, b: u8| format!("#{r:02x}{g:02x}{b:02x}");
    match i {
        0..=15 => hex(BASE[i as usize]).unwrap_or_default(),
        16..=231 => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            let n = i - 16;
            rgb(level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            rgb(v, v, v)
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// One cell's look: text colour, background, bold, crossed out, underlined.
#[derive(Clone, PartialEq, Eq)]
struct Look {
    fg: String,
    bg: Option<String>,
    bold: bool,
    crossed: bool,
    underlined: bool,
}

fn look(cell: &ratatui::buffer::Cell, canvas: Canvas) -> Look {
    let (mut fg, mut bg) = (hex(cell.fg), hex(cell.bg));
    if cell.modifier.contains(Modifier::REVERSED) {
        let new_bg = fg.unwrap_or_else(|| canvas.foreground.to_string());
        fg = Some(bg.unwrap_or_else(|| canvas.background.to_string()));
        bg = Some(new_bg);
    }
    Look {
        fg: fg.unwrap_or_else(|| canvas.foreground.to_string()),
        bg,
        bold: cell.modifier.contains(Modifier::BOLD),
        crossed: cell.modifier.contains(Modifier::CROSSED_OUT),
        underlined: cell.modifier.contains(Modifier::UNDERLINED),
    }
}

/// The buffer as an SVG document.
pub fn svg(buf: &Buffer, canvas: Canvas) -> String {
    let (w, h) = (buf.area.width, buf.area.height);
    let (px_w, px_h) = (f64::from(w) * CELL_W, f64::from(h) * CELL_H);
    let mut rects = String::new();
    let mut texts = String::new();
    for y in 0..h {
        // Runs of cells with one look: (first column, look, text).
        let mut runs: Vec<(u16, Look, String)> = Vec::new();
        for x in 0..w {
            let cell = &buf[(x, y)];
            let l = look(cell, canvas);
            match runs.last_mut() {
                Some((_, last, text)) if *last == l => text.push_str(cell.symbol()),
                _ => runs.push((x, l, cell.symbol().to_string())),
            }
        }
        let top = f64::from(y) * CELL_H;
        let mut spans = String::new();
        for (x, l, text) in runs {
            let left = f64::from(x) * CELL_W;
            let cells = text.chars().count() as f64;
            if let Some(bg) = &l.bg {
                let _ = writeln!(
                    rects,
                    r#"<rect x="{left:.1}" y="{top:.1}" width="{:.1}" height="{CELL_H:.1}" fill="{bg}"/>"#,
                    cells * CELL_W
                );
            }
            if text.trim().is_empty() {
                continue;
            }
            let mut attrs = format!(r#" x="{left:.1}" fill="{}""#, l.fg);
            if l.bold {
                attrs.push_str(r#" font-weight="bold""#);
            }
            match (l.crossed, l.underlined) {
                (true, _) => attrs.push_str(r#" text-decoration="line-through""#),
                (false, true) => attrs.push_str(r#" text-decoration="underline""#),
                _ => {}
            }
            let _ = write!(spans, "<tspan{attrs}>{}</tspan>", escape(&text));
        }
        if !spans.is_empty() {
            let _ = writeln!(texts, r#"<text y="{:.1}">{spans}</text>"#, top + BASELINE);
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{px_w:.0}" height="{px_h:.0}" viewBox="0 0 {px_w:.1} {px_h:.1}">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="{}"/>"#, canvas.background);
    out.push_str(&rects);
    let _ = writeln!(
        out,
        r#"<g font-family="'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace" font-size="14px" xml:space="preserve">"#
    );
    out.push_str(&texts);
    out.push_str("</g>\n</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn runs_of_one_style_become_one_tspan_with_its_colours() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 1));
        buf.set_string(0, 0, "ab", Style::default().fg(Color::Rgb(1, 2, 3)).add_modifier(Modifier::BOLD));
        buf.set_string(2, 0, "<c", Style::default().fg(Color::White).bg(Color::Blue));
        let svg = svg(&buf, LIGHT);
        assert!(svg.contains(r##"<tspan x="0.0" fill="#010203" font-weight="bold">ab</tspan>"##), "{svg}");
        assert!(svg.contains(r##"<tspan x="16.8" fill="#ffffff">&lt;c</tspan>"##), "{svg}");
        assert!(svg.contains(r##"<rect x="16.8" y="0.0" width="16.8" height="18.0" fill="#2472c8"/>"##), "{svg}");
        assert!(svg.contains(r##"fill="#ffffff"/>"##), "the theme's background: {svg}");
        assert_eq!(svg.matches("<tspan").count(), 2, "trailing blanks make no text: {svg}");
        assert_eq!(indexed(196), "#ff0000");
        assert_eq!(indexed(244), "#808080");
    }
}
