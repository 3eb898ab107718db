//! Group verbs: `groups`, `group describe|delete`, `reset`, `undo`.

use super::args::{Global, ResetArgs, UndoArgs};
use super::{backend_err, print_json, print_list};
use crate::backend::Backend;
use crate::core::format::{duration_ms, opt, rate};
use crate::core::table::Table;
use crate::core::time::{parse_duration_ms, parse_time_now};
use crate::core::{GroupInfo, ResetMode, ResetPlan, ResetRequest, ResetSpec};
use anyhow::Result;

/// The groups as a table (shared by `groups` and the overview).
pub fn groups_table(groups: &[GroupInfo]) -> Table {
    let mut t = Table::new(&["GROUP", "STATE", ">MEMBERS", ">LAG", ">LAG-TIME", ">REDELIVERED", ">RATE"]);
    for x in groups {
        t.row(vec![
            x.name.clone(),
            x.state.clone(),
            x.members.len().to_string(),
            x.total_lag().to_string(),
            duration_ms(x.max_lag_ms()),
            x.redeliveries().to_string(),
            rate(x.consume_rate),
        ]);
    }
    t
}

pub async fn list(b: &dyn Backend, g: &Global) -> Result<()> {
    let groups = b.list_groups().await.map_err(backend_err)?;
    print_list(g, &groups, groups_table, "no consumer groups yet; `depot pull TOPIC --group NAME` creates one")
}

pub async fn describe(b: &dyn Backend, g: &Global, name: &str) -> Result<()> {
    let x = b.describe_group(name).await.map_err(backend_err)?;
    if g.json {
        return print_json(&x);
    }
    outln!(
        "group {}: {}, generation {}, {} member(s), assignor {}, lag {} ({})",
        x.name,
        x.state,
        x.generation,
        x.members.len(),
        x.assignor,
        x.total_lag(),
        duration_ms(x.max_lag_ms())
    )?;
    // One describe is one sample: the health column says what that shows, not a verdict (those
    // need a window over time: the console's Group view judges one).
    let mut t = Table::new(&[
        "TOPIC",
        ">PARTITION",
        ">COMMITTED",
        ">END",
        ">LAG",
        ">LAG-TIME",
        ">REDELIVERED",
        "OWNER",
        "HEALTH",
    ]);
    for p in &x.partitions {
        t.row(vec![
            p.topic.clone(),
            p.partition.to_string(),
            opt(p.committed),
            p.end_offset.to_string(),
            p.lag.to_string(),
            duration_ms(p.lag_ms),
            p.redeliveries.to_string(),
            p.owner.clone().unwrap_or_else(|| "-".into()),
            p.at_a_glance().to_string(),
        ]);
    }
    outln!("{}", t.render())?;
    if x.partitions.is_empty() {
        outln!("no partitions: the group has no commits yet and consumes nothing now")?;
    }
    if x.partitions.iter().any(|p| p.committed.is_some() && p.lag > 0) {
        outln!("health verdicts need samples over time: watch the group in the console (`depot`, then 2)")?;
    }
    if !x.members.is_empty() {
        outln!()?;
        // Kafka consumers' hosts; depot's own members have none, and their table stays as it was.
        let hosts = x.members.iter().any(|m| !m.client_host.is_empty());
        let head: &[&str] = if hosts {
            &["MEMBER", "CLIENT", "HOST", "ASSIGNMENT", ">LAST-SEEN"]
        } else {
            &["MEMBER", "CLIENT", "ASSIGNMENT", ">LAST-SEEN"]
        };
        let mut m = Table::new(head);
        for mem in &x.members {
            let a: Vec<String> = mem.assignment.iter().map(|(t, p)| format!("{t}/{p}")).collect();
            let mut row = vec![mem.member_id.clone(), mem.client_id.clone()];
            if hosts {
                row.push(mem.client_host.clone());
            }
            row.extend([a.join(" "), duration_ms(mem.last_seen_ms)]);
            m.row(row);
        }
        outln!("{}", m.render())?;
    }
    Ok(())
}

pub async fn delete(b: &dyn Backend, g: &Global, name: &str) -> Result<()> {
    b.delete_group(name).await.map_err(backend_err)?;
    if g.json {
        return print_json(&serde_json::json!({"deleted": name}));
    }
    outln!("deleted group {name}")?;
    Ok(())
}

fn spec(a: &ResetArgs) -> Result<ResetSpec> {
    Ok(if a.to_earliest {
        ResetSpec::ToEarliest
    } else if a.to_latest {
        ResetSpec::ToLatest
    } else if let Some(o) = a.to_offset {
        ResetSpec::ToOffset(o)
    } else if let Some(n) = a.shift_by {
        ResetSpec::ShiftBy(n)
    } else if let Some(t) = &a.to_datetime {
        ResetSpec::ToDatetime(parse_time_now(t)?)
    } else if let Some(d) = &a.by_duration {
        ResetSpec::ByDuration(parse_duration_ms(d)?)
    } else {
        anyhow::bail!("choose a reset mode: {}", mode_flags())
    })
}

/// `--to-earliest, --to-latest, ... or --by-duration`: the reset flags, one per [`ResetMode`].
fn mode_flags() -> String {
    let flags: Vec<String> = ResetMode::ALL.iter().map(|m| format!("--{}", m.name())).collect();
    match flags.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => flags.concat(),
    }
}

fn print_plan(p: &ResetPlan) -> Result<()> {
    let title = match p.undo_of {
        Some(id) => format!("undo of reset #{id} ({})", p.spec),
        None => p.spec.to_string(),
    };
    outln!("group {} on {}: {title}", p.group, p.topic)?;
    let mut t = Table::new(&[">PARTITION", ">BEFORE", ">AFTER", ">MOVE", ">LOG-START", ">END", "NOTE"]);
    for r in &p.rows {
        let mv = match r.before {
            Some(b) => format!("{:+}", r.after as i128 - b as i128),
            None => "-".into(),
        };
        t.row(vec![
            r.partition.to_string(),
            opt(r.before),
            r.after.to_string(),
            mv,
            r.log_start.to_string(),
            r.end_offset.to_string(),
            r.note.clone().unwrap_or_default(),
        ]);
    }
    outln!("{}", t.render())?;
    if !p.live_members.is_empty() {
        outln!("the group has {} live member(s): executing needs --force", p.live_members.len())?;
    }
    Ok(())
}

async fn execute_or_preview(b: &dyn Backend, g: &Global, plan: ResetPlan, execute: bool, force: bool) -> Result<()> {
    if !execute {
        if g.json {
            return print_json(&plan);
        }
        print_plan(&plan)?;
        outln!("{}", super::dry_run_end(b, g, "nothing changed", "Add --execute to apply.").await)?;
        return Ok(());
    }
    let rec = b.execute_reset(plan.clone(), force).await.map_err(backend_err)?;
    if g.json {
        return print_json(&rec);
    }
    print_plan(&plan)?;
    let undo = b.capabilities().await.map(|c| c.undo).unwrap_or(false);
    match rec.undo_of {
        Some(id) => outln!("executed: undid reset #{id}")?,
        None if undo => outln!("executed as reset #{}; `depot undo {}` shows how to take it back", rec.id, rec.group)?,
        None => outln!("executed; this engine keeps no reset journal (no undo): the BEFORE column is your way back")?,
    }
    Ok(())
}

pub async fn reset(b: &dyn Backend, g: &Global, a: ResetArgs) -> Result<()> {
    let req = ResetRequest { topic: a.topic.clone(), partitions: a.partitions.clone(), spec: spec(&a)? };
    let plan = b.plan_reset(&a.group, req).await.map_err(backend_err)?;
    execute_or_preview(b, g, plan, a.execute, a.force).await
}

pub async fn undo(b: &dyn Backend, g: &Global, a: UndoArgs) -> Result<()> {
    let plan = b.plan_undo(&a.group).await.map_err(backend_err)?;
    execute_or_preview(b, g, plan, a.execute, a.force).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_reset_mode_is_a_flag_of_reset_and_one_of_its_modes() {
        let cli = crate::cli::Cli::command();
        let reset = cli.find_subcommand("reset").expect("a reset verb");
        let group = reset.get_groups().find(|g| g.get_id() == "mode").expect("the mode group");
        let in_group: Vec<&str> = group.get_args().map(|a| a.as_str()).collect();
        assert_eq!(in_group.len(), ResetMode::ALL.len(), "{in_group:?}");
        for m in ResetMode::ALL {
            let arg = reset.get_arguments().find(|a| a.get_long() == Some(m.name()));
            let arg = arg.unwrap_or_else(|| panic!("reset has no --{m}"));
            assert!(in_group.contains(&arg.get_id().as_str()), "--{m} is not in the mode group");
        }
        assert_eq!(mode_flags(), "--to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime or --by-duration");
    }
}
