//! A small form model for dialogs: typed fields, a focused field, and a submit button. Each form
//! names its fields with an enum ([`FormField`]), so a value is read as
//! `form.value(PublishField::Key)` — checked by the compiler — and the labels drawn are derived
//! from the enum. Pure data and key handling; drawing is in `view::form`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The fields of one form, as an enum.
pub trait FormField: Copy + Eq + std::fmt::Debug + 'static {
    /// Every field, in the order they are drawn.
    const ALL: &'static [Self];
    /// The label drawn left of the value.
    fn label(self) -> &'static str;
}

/// What a field holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Enter inserts a newline.
    Multiline,
    /// One of a fixed list; ←/→ (or space) choose.
    Choice(Vec<String>),
}

/// A field's value, kind and hint (its name and label come from the form's field enum).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub value: String,
    pub kind: FieldKind,
    pub hint: String,
    /// For choices: the chosen index.
    pub choice: usize,
}

impl Field {
    pub fn text(value: &str, hint: &str) -> Field {
        Field { value: value.into(), kind: FieldKind::Text, hint: hint.into(), choice: 0 }
    }
    pub fn multiline(value: &str, hint: &str) -> Field {
        Field { kind: FieldKind::Multiline, ..Field::text(value, hint) }
    }
    pub fn choice(options: &[&str], chosen: usize, hint: &str) -> Field {
        let options: Vec<String> = options.iter().map(|s| s.to_string()).collect();
        let value = options.get(chosen).cloned().unwrap_or_default();
        Field { value, kind: FieldKind::Choice(options), hint: hint.into(), choice: chosen }
    }
}

/// A form with one field per variant of `F` and a submit button after the last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form<F> {
    pub title: String,
    fields: Vec<(F, Field)>,
    /// The number of fields means the submit button.
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

impl<F: FormField> Form<F> {
    /// A form of every field in `F::ALL`, each as `field` describes it.
    pub fn new(title: &str, submit: &str, field: impl Fn(F) -> Field) -> Form<F> {
        let fields = F::ALL.iter().map(|&id| (id, field(id))).collect();
        Form { title: title.into(), fields, focus: 0, submit: submit.into(), error: None }
    }

    /// The fields in drawing order.
    pub fn fields(&self) -> impl Iterator<Item = (F, &Field)> {
        self.fields.iter().map(|(id, f)| (*id, f))
    }

    /// True when the submit button has the focus.
    pub fn on_submit(&self) -> bool {
        self.focus == self.fields.len()
    }

    fn field(&self, id: F) -> Option<&Field> {
        self.fields.iter().find(|(f, _)| *f == id).map(|(_, f)| f)
    }

    /// A field's text (for choices: the chosen option).
    pub fn value(&self, id: F) -> &str {
        // Every field of `F` is in the form: `new` makes one per variant.
        self.field(id).map(|f| f.value.as_str()).unwrap_or("")
    }

    /// A choice's index.
    pub fn choice(&self, id: F) -> usize {
        self.field(id).map(|f| f.choice).unwrap_or(0)
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
                let Some((_, f)) = self.fields.get_mut(self.focus) else { return FormEvent::Submit };
                match f.kind {
                    FieldKind::Multiline => f.value.push('\n'),
                    _ => self.next(),
                }
            }
            _ => {
                if let Some((_, f)) = self.fields.get_mut(self.focus) {
                    edit(f, k, ctrl);
                }
            }
        }
        self.error = None;
        FormEvent::Nothing
    }
}

/// A key on the focused field: choose, delete, clear, type.
fn edit(f: &mut Field, k: &KeyEvent, ctrl: bool) {
    if let FieldKind::Choice(opts) = &f.kind {
        if matches!(k.code, KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')) {
            let n = opts.len().max(1);
            f.choice = if k.code == KeyCode::Left { (f.choice + n - 1) % n } else { (f.choice + 1) % n };
            f.value = opts.get(f.choice).cloned().unwrap_or_default();
        }
        return;
    }
    match k.code {
        KeyCode::Backspace => {
            f.value.pop();
        }
        KeyCode::Char('u') if ctrl => f.value.clear(),
        KeyCode::Char(c) if !ctrl => f.value.push(c),
        _ => {}
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

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum T {
        Key,
        Mode,
        Value,
    }

    impl FormField for T {
        const ALL: &'static [T] = &[T::Key, T::Mode, T::Value];
        fn label(self) -> &'static str {
            match self {
                T::Key => "key",
                T::Mode => "mode",
                T::Value => "value",
            }
        }
    }

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn form() -> Form<T> {
        Form::new("t", "Go", |f| match f {
            T::Key => Field::text("", ""),
            T::Mode => Field::choice(&["a", "b", "c"], 0, ""),
            T::Value => Field::multiline("", ""),
        })
    }

    #[test]
    fn typing_moving_choosing_and_submitting() {
        let mut f = form();
        f.key(&key(KeyCode::Char('k')));
        assert_eq!(f.value(T::Key), "k");
        assert_eq!(f.key(&key(KeyCode::Enter)), FormEvent::Nothing);
        f.key(&key(KeyCode::Left));
        assert_eq!((f.value(T::Mode), f.choice(T::Mode)), ("c", 2));
        f.key(&key(KeyCode::Tab));
        for c in "a".chars() {
            f.key(&key(KeyCode::Char(c)));
        }
        f.key(&key(KeyCode::Enter));
        f.key(&key(KeyCode::Char('b')));
        assert_eq!(f.value(T::Value), "a\nb");
        f.key(&key(KeyCode::Tab));
        assert!(f.on_submit());
        assert_eq!(f.key(&key(KeyCode::Enter)), FormEvent::Submit);
        assert_eq!(f.key(&key(KeyCode::Esc)), FormEvent::Cancel);
    }

    #[test]
    fn a_form_has_one_field_per_variant_in_order_and_typing_into_a_choice_changes_nothing() {
        let mut f = form();
        let labels: Vec<&str> = f.fields().map(|(id, _)| id.label()).collect();
        assert_eq!(labels, ["key", "mode", "value"]);
        f.key(&key(KeyCode::Tab));
        f.key(&key(KeyCode::Char('x')));
        f.key(&key(KeyCode::Backspace));
        assert_eq!((f.value(T::Mode), f.value(T::Key), f.value(T::Value)), ("a", "", ""));
    }
}
