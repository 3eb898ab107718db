//! Dialogs, one at a time, one file each: its open, its keys, its submit, the answers it waits
//! for, and its drawing. This file holds the [`Dialog`] enum and the dispatch to the files.
//!
//! - [`publish`], [`create_topic`], [`delete_topic`]: writes, confirmed by [`confirm`]
//! - [`reset`] (form and before/after preview), [`undo`] (plans the undo into the same preview)
//! - [`replay`] (form and preview), [`pull`] (ask, then the pulled records and commit)
//! - [`jump`] (messages view: to an offset or a time), [`save`] (a record's value to a file),
//!   [`working`] (waiting for an answer)
//! - [`forms`]: what the form dialogs share (keys, value parsers)

pub mod confirm;
pub mod create_topic;
pub mod delete_topic;
pub mod forms;
pub mod jump;
pub mod publish;
pub mod pull;
pub mod replay;
pub mod reset;
pub mod save;
pub mod undo;
pub mod working;

use super::effect::Effect;
use super::form::Form;
use super::state::State;
use crate::core::{PullResult, ReplayPlan};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

/// The open dialog.
#[derive(Clone, Debug, PartialEq)]
pub enum Dialog {
    Publish(publish::Publish),
    CreateTopic(Form<create_topic::CreateTopicField>),
    /// Boxed: it carries the effect it runs and what has been typed.
    Confirm(Box<confirm::Confirm>),
    Reset(reset::Reset),
    ResetPreview(reset::Preview),
    Replay(replay::Replay),
    ReplayPreview(ReplayPlan),
    PullAsk(pull::Ask),
    Pulled(PullResult),
    Jump(Form<jump::JumpField>),
    Save(Form<save::SaveField>),
    /// Waiting for an answer.
    Working(String),
}

/// A key while the dialog is open (it has been taken off the state; a file puts it back to keep
/// it open).
pub fn key(s: &mut State, d: Dialog, k: KeyEvent) -> Vec<Effect> {
    match d {
        Dialog::Publish(d) => publish::key(s, d, k),
        Dialog::CreateTopic(form) => create_topic::key(s, form, k),
        Dialog::Confirm(c) => confirm::key(s, *c, k),
        Dialog::Reset(d) => reset::key(s, d, k),
        Dialog::ResetPreview(p) => reset::preview_key(s, p, k),
        Dialog::Replay(d) => replay::key(s, d, k),
        Dialog::ReplayPreview(plan) => replay::preview_key(s, plan, k),
        Dialog::PullAsk(d) => pull::key(s, d, k),
        Dialog::Pulled(p) => pull::pulled_key(s, p, k),
        Dialog::Jump(form) => jump::key(s, form, k),
        Dialog::Save(form) => save::key(s, form, k),
        Dialog::Working(text) => working::key(s, text, k),
    }
}

/// Draws the dialog over `area` (the whole screen).
pub fn draw(f: &mut Frame, area: Rect, s: &State, d: &Dialog) {
    match d {
        Dialog::Publish(d) => publish::draw(f, area, s, d),
        Dialog::CreateTopic(form) => create_topic::draw(f, area, s, form),
        Dialog::Confirm(c) => confirm::draw(f, area, s, c),
        Dialog::Reset(d) => reset::draw(f, area, s, d),
        Dialog::ResetPreview(p) => reset::draw_preview(f, area, s, p),
        Dialog::Replay(d) => replay::draw(f, area, s, d),
        Dialog::ReplayPreview(plan) => replay::draw_preview(f, area, s, plan),
        Dialog::PullAsk(d) => pull::draw(f, area, s, d),
        Dialog::Pulled(p) => pull::draw_pulled(f, area, s, p),
        Dialog::Jump(form) => jump::draw(f, area, s, form),
        Dialog::Save(form) => save::draw(f, area, s, form),
        Dialog::Working(text) => working::draw(f, area, s, text),
    }
}
