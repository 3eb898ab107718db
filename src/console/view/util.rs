//! Small drawing helpers shared by the views.

use crate::console::state::State;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Cell, Clear, Paragraph, Row, StatefulWidget, Table, TableState, Widget,
};
use std::collections::VecDeque;

/// Below this many columns a list drops its less telling columns, so its names still show.
pub const NARROW: u16 = 70;

/// A sparkline as text from the last `width` values.
pub fn spark<T: Copy + Into<u64>>(values: impl IntoIterator<Item = T>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let v: Vec<u64> = values.into_iter().map(Into::into).collect();
    let tail = &v[v.len().saturating_sub(width)..];
    let max = tail.iter().copied().max().unwrap_or(0);
    tail.iter().map(|&x| BARS[(x * 7).checked_div(max).unwrap_or(0).min(7) as usize]).collect()
}

/// A trend column's sparkline of the last `width` samples; empty before the first sample.
pub fn trend(samples: Option<&VecDeque<u64>>, width: usize) -> String {
    samples.map(|q| spark(q.iter().copied(), width)).unwrap_or_default()
}

/// The bordered body block with a title.
pub fn block<'a>(s: &State, title: String) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(s.theme.style(s.theme.border))
        .title(Span::styled(format!(" {title} "), s.theme.bold(s.theme.title)))
}

/// A table of rows with a header, the cursor row highlighted, scrolled to `scroll`. A header
/// written with a leading space is right-aligned over its (numeric) column, so it stays above
/// its values however narrow the column gets.
pub fn table<'a>(
    s: &State,
    headers: &[&'a str],
    widths: &[Constraint],
    rows: Vec<Vec<Cell<'a>>>,
    selected: Option<usize>,
    scroll: usize,
) -> ListTable<'a> {
    let header = Row::new(headers.iter().map(|h| match h.strip_prefix(' ') {
        Some(right) => Cell::from(Line::from(right.trim_start()).right_aligned()),
        None => Cell::from(*h),
    }))
    .style(s.theme.bold(s.theme.header));
    let body: Vec<Row> =
        rows.into_iter().skip(scroll).map(|cells| Row::new(cells).style(s.theme.style(s.theme.text))).collect();
    let table =
        Table::new(body, widths.to_vec()).header(header).column_spacing(1).row_highlight_style(s.theme.selection());
    ListTable { table, selected: selected.and_then(|i| i.checked_sub(scroll)) }
}

/// A table whose cursor row is drawn in the selection style as a whole: the style is laid over
/// the row after its cells are drawn, so a cell's own colour (a name, a verdict) never shows
/// through as a differently coloured island in the highlighted row.
pub struct ListTable<'a> {
    table: Table<'a>,
    selected: Option<usize>,
}

impl<'a> ListTable<'a> {
    pub fn block(self, b: Block<'a>) -> ListTable<'a> {
        ListTable { table: self.table.block(b), ..self }
    }
}

impl Widget for ListTable<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let mut state = TableState::default().with_selected(self.selected);
        StatefulWidget::render(self.table, area, buf, &mut state);
    }
}

/// Which rows of a long list to build for a table in `area`: (first row, cursor within them).
/// Only the rows on screen are built, so a list of thousands draws as fast as one of fifty.
pub fn window(s: &State, area: Rect) -> (usize, Option<usize>) {
    // Rows visible: the area minus two borders and the header row.
    let visible = (area.height as usize).saturating_sub(3).max(1);
    let sel = s.nav.screen().selected;
    let mut scroll = s.nav.screen().scroll.min(sel);
    if sel >= scroll + visible {
        scroll = sel + 1 - visible;
    }
    (scroll, Some(sel - scroll))
}

/// The rows of `items` a table in `area` shows (only those are built), and the cursor among them.
pub fn on_screen<'i, T>(s: &State, area: Rect, items: &'i [T]) -> (impl Iterator<Item = &'i T>, Option<usize>) {
    let (skip, sel) = window(s, area);
    (items.iter().skip(skip).take(area.height as usize), sel)
}

/// A block with nothing to list (loading, empty, gone): the block, and `lines` centered in it in
/// the muted colour.
pub fn empty(f: &mut Frame, area: Rect, s: &State, b: Block<'_>, lines: Vec<Line<'static>>) {
    let inner = b.inner(area);
    f.render_widget(b, area);
    centered(f, inner, lines, s.theme.style(s.theme.muted));
}

/// A block with one muted line of note where a table would be (nothing consumes, no members).
pub fn note(f: &mut Frame, area: Rect, s: &State, b: Block<'_>, text: &'static str) {
    let inner = b.inner(area);
    f.render_widget(b, area);
    f.render_widget(Paragraph::new(text).style(s.theme.style(s.theme.muted)), inner);
}

/// A popup of at most `width` columns for a table of `rows` rows with `foot` lines below it
/// (after a blank line): cleared, bordered and titled. Returns the table's and the foot's areas.
pub fn table_popup(
    f: &mut Frame,
    area: Rect,
    s: &State,
    width: u16,
    title: String,
    rows: usize,
    foot: u16,
) -> [Rect; 2] {
    // Border, header, rows, blank, foot, border.
    let r = popup(area, width, (rows + 4) as u16 + foot);
    f.render_widget(Clear, r);
    let b = block(s, title);
    let inner = b.inner(r);
    f.render_widget(b, r);
    let [tab, _, foot] =
        Layout::vertical([Constraint::Min(2), Constraint::Length(1), Constraint::Length(foot)]).areas(inner);
    [tab, foot]
}

/// A key and what it does, as a dialog's last line shows them: the key in bold `color`, the
/// words after it in the text colour.
pub fn key_hint(s: &State, key: &str, color: ratatui::style::Color, what: impl Into<String>) -> [Span<'static>; 2] {
    [Span::styled(format!(" {key} "), s.theme.bold(color)), Span::styled(what.into(), s.theme.style(s.theme.text))]
}

/// A cell styled with a colour.
pub fn cell<'a>(s: &State, text: impl Into<String>, fg: ratatui::style::Color) -> Cell<'a> {
    Cell::from(Span::styled(text.into(), s.theme.style(fg)))
}

/// A right-aligned cell.
pub fn num<'a>(text: impl Into<String>) -> Cell<'a> {
    Cell::from(Line::from(text.into()).right_aligned())
}

/// A right-aligned cell styled with a colour.
pub fn num_in<'a>(s: &State, text: impl Into<String>, fg: ratatui::style::Color) -> Cell<'a> {
    Cell::from(Line::from(Span::styled(text.into(), s.theme.style(fg))).right_aligned())
}

/// The width a table in a bordered block of `width` columns gives a `Fill(share)` column, so its
/// text can be cut with an ellipsis rather than mid-word by the table.
pub fn fill_width(width: u16, widths: &[Constraint], share: u16) -> usize {
    let fixed: u16 = widths.iter().map(|c| if let Constraint::Length(n) = c { *n } else { 0 }).sum();
    let fills: u16 = widths.iter().map(|c| if let Constraint::Fill(n) = c { *n } else { 0 }).sum();
    let spacing = widths.len().saturating_sub(1) as u16;
    let free = width.saturating_sub(2).saturating_sub(fixed).saturating_sub(spacing);
    (free as usize * share as usize).checked_div(fills as usize).unwrap_or(0)
}

/// Centered text in an area (empty states).
pub fn centered(f: &mut Frame, area: Rect, lines: Vec<Line<'static>>, style: Style) {
    let h = lines.len() as u16;
    let [_, mid, _] = Layout::vertical([Constraint::Fill(1), Constraint::Length(h), Constraint::Fill(1)]).areas(area);
    f.render_widget(Paragraph::new(lines).style(style).centered(), mid);
}

/// Cuts text to `max` characters with an ellipsis.
pub fn clip(text: &str, max: usize) -> String {
    let one_line: String = text.chars().map(|c| if c == '\n' || c == '\r' || c == '\t' { ' ' } else { c }).collect();
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut t: String = one_line.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A centered rectangle of at most `w`×`h` inside `area`.
pub fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(area.width.min(10));
    let h = h.min(area.height.saturating_sub(2)).max(area.height.min(3));
    Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    }
}
