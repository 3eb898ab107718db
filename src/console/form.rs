//! A small form model for dialogs: labelled fields, a focused field, and a submit button.
//! Pure data and key handling; drawing is in `view::dialog`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a field holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Enter inserts a newline.
    Multiline,
    /// One of a fixed list; ←/→ (or space) choose.
    Choice(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub value: String,
    pub kind: FieldKind,
    pub hint: String,
    /// For choices: the chosen index.
    pub choice: usize,
}

impl Field {
    pub fn text(label: &str, value: &str, hint: &str) -> Field {
        Field { label: label.into(), value: value.into(), kind: FieldKind::Text, hint: hint.into(), choice: 0 }
    }
    pub fn multiline(label: &str, value: &str, hint: &str) -> Field {
        Field { kind: FieldKind::Multiline, ..Field::text(label, value, hint) }
    }
    pub fn choice(label: &str, options: &[&str], chosen: usize, hint: &str) -> Field {
        let options: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        let value = options.get(chosen).cloned().unwrap_or_default();
        Field { label: label.into(), value, kind: FieldKind::Choice(options), hint: hint.into(), choice: chosen }
    }
}

/// A form with a submit button after the last field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    /// `fields.len()` means the submit button.
    pub focus: usize,
    pub submit: String,
    pub error: Option<String>,
}

/// What a key did to a form.
#[derive(Debug, PartialEq, Eq)]
pub enum FormEvent {
    Nothing,
    Submit,
    Cancel,
}

impl Form {
    pub fn new(title: &str, fields: Vec<Field>, submit: &str) -> Form {
        Form { title: title.into(), fields, focus: 0, submit: submit.into(), error: None }
    }

    pub fn value(&self, label: &str) -> &str {
        self.fields.iter().find(|f| f.label == label).map(|f| f.value.as_str()).unwrap_or("")
    }

    pub fn choice(&self, label: &str) -> usize {
        self.fields.iter().find(|f| f.label == label).map(|f| f.choice).unwrap_or(0)
    }

    fn next(&mut self) {
        self.focus = (self.focus + 1) % (self.fields.len() + 1);
    }

    fn prev(&mut self) {
        self.focus = (self.focus + self.fields.len()) % (self.fields.len() + 1);
    }

    /// Handles a key: editing, moving between fields, submitting, cancelling.
    pub fn key(&mut self, k: &KeyEvent) -> FormEvent {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Esc => return FormEvent::Cancel,
            KeyCode::Tab | KeyCode::Down => self.next(),
            KeyCode::BackTab | KeyCode::Up => self.prev(),
            KeyCode::Char('s') if ctrl => return FormEvent::Submit,
            KeyCode::Enter => {
                if self.focus == self.fields.len() {
                    return FormEvent::Submit;
                }
                match self.fields[self.focus].kind {
                    FieldKind::Multiline => self.fields[self.focus].value.push('\n'),
                    _ => self.next(),
                }
            }
            _ if self.focus >= self.fields.len() => {}
            KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')
                if matches!(self.fields[self.focus].kind, FieldKind::Choice(_)) =>
            {
                let f = &mut self.fields[self.focus];
                if let FieldKind::Choice(opts) = &f.kind {
                    let n = opts.len().max(1);
                    f.choice = if k.code == KeyCode::Left { (f.choice + n - 1) % n } else { (f.choice + 1) % n };
                    f.value = opts.get(f.choice).cloned().unwrap_or_default();
                }
            }
            KeyCode::Backspace => {
                let f = &mut self.fields[self.focus];
                if !matches!(f.kind, FieldKind::Choice(_)) {
                    f.value.pop();
                }
            }
            KeyCode::Char('u') if ctrl => {
                let f = &mut self.fields[self.focus];
                if !matches!(f.kind, FieldKind::Choice(_)) {
                    f.value.clear();
                }
            }
            KeyCode::Char(c) if !ctrl => {
                let f = &mut self.fields[self.focus];
                if !matches!(f.kind, FieldKind::Choice(_)) {
                    f.value.push(c);
                }
            }
            _ => {}
        }
        self.error = None;
        FormEvent::Nothing
    }
}

/// A one-line input (command and filter overlays).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub value: String,
}

impl Input {
    /// Edits; returns Submit on Enter, Cancel on Esc.
    pub fn key(&mut self, k: &KeyEvent) -> FormEvent {
        match k.code {
            KeyCode::Esc => FormEvent::Cancel,
            KeyCode::Enter => FormEvent::Submit,
            KeyCode::Backspace => {
                self.value.pop();
                FormEvent::Nothing
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.value.clear();
                FormEvent::Nothing
            }
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.value.push(c);
                FormEvent::Nothing
            }
            _ => FormEvent::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn typing_moving_choosing_and_submitting() {
        let mut f = Form::new(
            "t",
            vec![
                Field::text("key", "", ""),
                Field::choice("mode", &["a", "b", "c"], 0, ""),
                Field::multiline("value", "", ""),
            ],
            "Go",
        );
        f.key(&key(KeyCode::Char('k')));
        assert_eq!(f.value("key"), "k");
        assert_eq!(f.key(&key(KeyCode::Enter)), FormEvent::Nothing);
        f.key(&key(KeyCode::Left));
        assert_eq!((f.value("mode"), f.choice("mode")), ("c", 2));
        f.key(&key(KeyCode::Tab));
        for c in "a".chars() {
            f.key(&key(KeyCode::Char(c)));
        }
        f.key(&key(KeyCode::Enter));
        f.key(&key(KeyCode::Char('b')));
        assert_eq!(f.value("value"), "a\nb");
        f.key(&key(KeyCode::Tab));
        assert_eq!(f.key(&key(KeyCode::Enter)), FormEvent::Submit);
        assert_eq!(f.key(&key(KeyCode::Esc)), FormEvent::Cancel);
    }
}
