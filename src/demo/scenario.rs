//! Scenario files (`assets/scenarios/*.toml`): topics, producers, groups, members and timed events.
//! The built-in ones are embedded in the binary; `depot demo FILE.toml` runs your own. A bad file
//! gets an error naming the line.

use serde::Deserialize;

/// A workshop scenario.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// One line for `depot demo --list`.
    pub title: String,
    /// What to watch, shown in the narration panel.
    pub narration: String,
    /// Simulated milliseconds per step.
    #[serde(default = "default_tick")]
    pub tick_ms: u64,
    /// Simulated seconds run instantly before the console opens, so the story is already visible.
    #[serde(default)]
    pub warmup_s: f64,
    #[serde(default)]
    pub topics: Vec<TopicSpec>,
    #[serde(default)]
    pub producers: Vec<ProducerSpec>,
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    #[serde(default)]
    pub events: Vec<EventSpec>,
}

fn default_tick() -> u64 {
    100
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    pub name: String,
    #[serde(default = "one")]
    pub partitions: u32,
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProducerSpec {
    pub name: String,
    pub topic: String,
    /// Records per (simulated) second.
    pub rate: f64,
    /// Number of distinct keys (`customer-0` .. `customer-{keys-1}`); keyless when absent.
    #[serde(default)]
    pub keys: Option<u32>,
    /// The n-th record (0-based) this producer sends is a poison record every consumer fails on.
    #[serde(default)]
    pub poison_at: Option<u64>,
    /// Stop after this many records.
    #[serde(default)]
    pub limit: Option<u64>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    pub topic: String,
    #[serde(default = "one")]
    pub members: u32,
    /// Simulated milliseconds a member needs per record.
    pub process_ms: f64,
    /// Records a member pulls at a time (and commits after processing them all).
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Members deduplicate by record identity (an idempotent consumer).
    #[serde(default)]
    pub idempotent: bool,
    /// A consumer bug: records produced between these simulated seconds are dropped, not applied.
    #[serde(default)]
    pub drop_between: Option<[f64; 2]>,
    /// Simulated milliseconds without a heartbeat before a crashed member is evicted.
    #[serde(default = "default_session")]
    pub session_timeout_ms: u64,
}

fn default_batch() -> usize {
    10
}

fn default_session() -> u64 {
    3000
}

/// Something that happens at a simulated time. (The action's fields sit beside `at_s`, so unknown
/// keys are checked by the action, not here: serde cannot deny them through `flatten`.)
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct EventSpec {
    /// Simulated seconds since the start.
    pub at_s: f64,
    #[serde(flatten)]
    pub action: EventAction,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum EventAction {
    /// A member of the group dies mid-batch: it processed some records but never commits them.
    Crash { group: String },
    /// A member commits what it processed and leaves cleanly.
    Leave { group: String },
    /// A new member joins.
    Join { group: String },
    /// The producer's rate changes.
    Rate { producer: String, rate: f64 },
    /// The group's per-record processing time changes.
    Speed { group: String, process_ms: f64 },
    /// The consumer bug is fixed (records are applied again).
    Fix { group: String },
    /// A line in the narration's event log.
    Say { text: String },
}

/// The scenarios that ship with depot.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("lag", include_str!("../../assets/scenarios/lag.toml")),
    ("queue-vs-pubsub", include_str!("../../assets/scenarios/queue-vs-pubsub.toml")),
    ("crash-before-commit", include_str!("../../assets/scenarios/crash-before-commit.toml")),
    ("rebalance", include_str!("../../assets/scenarios/rebalance.toml")),
    ("poison", include_str!("../../assets/scenarios/poison.toml")),
    ("replay", include_str!("../../assets/scenarios/replay.toml")),
];

/// Parses a scenario and checks that it refers only to what it defines.
pub fn parse(text: &str, origin: &str) -> Result<Scenario, String> {
    let sc: Scenario = toml::from_str(text).map_err(|e| format!("{origin}: {}", e.to_string().trim_end()))?;
    let bad = |what: String| Err(format!("{origin}: {what}"));
    // Errors about a value point at the line where it is written.
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i + 1);
    let bad_at = |needle: String, what: String| match line_of(&needle) {
        Some(n) => Err(format!("{origin}: line {n}: {what}")),
        None => Err(format!("{origin}: {what}")),
    };
    if !(0.0..=600.0).contains(&sc.warmup_s) {
        return bad(format!("warmup_s = {} must be between 0 and 600", sc.warmup_s));
    }
    if sc.tick_ms == 0 || sc.tick_ms > 10_000 {
        return bad(format!("tick_ms = {} must be between 1 and 10000", sc.tick_ms));
    }
    let topics: Vec<&str> = sc.topics.iter().map(|t| t.name.as_str()).collect();
    for t in &sc.topics {
        if let Err(e) = crate::core::names::validate_name("topic", &t.name) {
            return bad(e.to_string());
        }
        if t.partitions == 0 || t.partitions > 64 {
            return bad(format!("topic {}: partitions must be between 1 and 64", t.name));
        }
    }
    for p in &sc.producers {
        if !topics.contains(&p.topic.as_str()) {
            return bad_at(
                format!("\"{}\"", p.topic),
                format!("producer {} writes to topic {:?}, which the scenario does not define", p.name, p.topic),
            );
        }
        if !(0.0..=100_000.0).contains(&p.rate) {
            return bad(format!("producer {}: rate must be between 0 and 100000 records/s", p.name));
        }
    }
    for g in &sc.groups {
        if !topics.contains(&g.topic.as_str()) {
            return bad_at(
                format!("\"{}\"", g.topic),
                format!("group {} reads topic {:?}, which the scenario does not define", g.name, g.topic),
            );
        }
        if let Err(e) = crate::core::names::validate_name("group", &g.name) {
            return bad(e.to_string());
        }
        if g.process_ms <= 0.0 || g.batch == 0 || g.members > 32 {
            return bad(format!("group {}: process_ms must be > 0, batch > 0, members at most 32", g.name));
        }
    }
    let groups: Vec<&str> = sc.groups.iter().map(|g| g.name.as_str()).collect();
    let producers: Vec<&str> = sc.producers.iter().map(|p| p.name.as_str()).collect();
    for e in &sc.events {
        let (kind, name) = match &e.action {
            EventAction::Crash { group }
            | EventAction::Leave { group }
            | EventAction::Join { group }
            | EventAction::Speed { group, .. }
            | EventAction::Fix { group } => ("group", group.as_str()),
            EventAction::Rate { producer, .. } => ("producer", producer.as_str()),
            EventAction::Say { .. } => continue,
        };
        let known = if kind == "group" { groups.contains(&name) } else { producers.contains(&name) };
        if !known {
            return bad_at(
                format!("\"{name}\""),
                format!("an event at {}s names {kind} {name:?}, which the scenario does not define", e.at_s),
            );
        }
    }
    Ok(sc)
}

/// A built-in scenario by name, or a scenario file by path.
pub fn load(name_or_path: &str) -> Result<Scenario, String> {
    if let Some((n, text)) = BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
        return parse(text, &format!("built-in scenario {n}"));
    }
    if name_or_path.ends_with(".toml") || name_or_path.contains('/') {
        let text = std::fs::read_to_string(name_or_path).map_err(|e| format!("cannot read {name_or_path}: {e}"))?;
        return parse(&text, name_or_path);
    }
    let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
    Err(format!("no scenario named {name_or_path:?}; built in: {} (or give a path to a .toml file)", names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_scenario_parses() {
        for (name, text) in BUILT_IN {
            let sc = parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&sc.name, name);
        }
    }

    #[test]
    fn bad_files_point_at_the_line() {
        let e = parse(
            "name = \"x\"\ntitle = \"t\"\nnarration = \"n\"\n[[topics]]\nname = \"a\"\npartitions = \"two\"\n",
            "f.toml",
        )
        .unwrap_err();
        assert!(e.contains("f.toml") && e.contains("line 6"), "{e}");
        let e = parse(
            "name = \"x\"\ntitle = \"t\"\nnarration = \"n\"\n[[producers]]\nname = \"p\"\ntopic = \"nope\"\nrate = 1\n",
            "f.toml",
        )
        .unwrap_err();
        assert!(e.contains("does not define") && e.contains("line 6"), "{e}");
        assert!(load("nonesuch").unwrap_err().contains("built in: lag"));
    }
}
