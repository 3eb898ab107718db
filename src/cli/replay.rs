//! `depot replay`: plan (how many records, which ranges), then `--execute`.

use super::args::{Global, ReplayArgs};
use super::{backend_err, print_json};
use crate::backend::Backend;
use crate::core::table::Table;
use crate::core::time::parse_time_now;
use crate::core::{ReplayRange, ReplayRequest};
use anyhow::{Result, bail};

pub async fn run(b: &dyn Backend, g: &Global, a: ReplayArgs) -> Result<()> {
    let range = match (a.from_offset, a.to_offset, &a.since, &a.until) {
        (Some(from), Some(to), None, None) => ReplayRange::Offsets { from, to },
        (None, None, Some(s), Some(u)) => {
            ReplayRange::Time { since_ms: parse_time_now(s)?, until_ms: parse_time_now(u)? }
        }
        _ => bail!("give a range: --from-offset A --to-offset B, or --since T --until T"),
    };
    let req = ReplayRequest { source: a.topic.clone(), partitions: a.partitions.clone(), range, target: a.to.clone() };
    let plan = b.plan_replay(req).await.map_err(backend_err)?;
    if !a.execute {
        if g.json {
            return print_json(&plan);
        }
        outln!("replay {} → {}: {} record(s)", plan.source, plan.target, plan.total)?;
        let mut t = Table::new(&[">PARTITION", ">FROM", ">TO", ">RECORDS"]);
        for r in &plan.rows {
            t.row(vec![r.partition.to_string(), r.from.to_string(), r.to.to_string(), r.count.to_string()]);
        }
        outln!("{}", t.render())?;
        outln!("{}", super::dry_run_end(b, g, "nothing copied", "Add --execute to replay.").await)?;
        return Ok(());
    }
    let res = b.execute_replay(plan).await.map_err(backend_err)?;
    if g.json {
        return print_json(&res);
    }
    outln!("replayed {} record(s) into {}", res.appended, res.target)?;
    Ok(())
}
