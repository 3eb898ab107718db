//! Contexts: named connections in the config file, like kubeconfig / k9s contexts.
//!
//! ```toml
//! [contexts.local]
//! kind = "depot"                 # data = "/path/to/data"  or  url = "http://host:7878", token_env = "DEPOT_TOKEN"
//! [contexts.prod]
//! kind = "kafka"
//! brokers = "kafka-1:9092,kafka-2:9092"
//! sasl_mechanism = "SCRAM-SHA-512"
//! username = "ops"
//! password_env = "PROD_KAFKA_PASSWORD"   # any field can come from the environment: <field>_env = "VAR"
//! tls = true
//! danger = true                  # shown in the danger colour (or: color = "red")
//! read_only = true
//! [contexts.events]
//! kind = "nats"
//! url = "nats://127.0.0.1:4222"  # token, user, password, creds_file
//! [contexts.cache]
//! kind = "redis"
//! url = "redis://127.0.0.1:6379"
//! ```

use super::{BResult, BackendError};
use crate::config;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What kind of engine a context names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Depot,
    Kafka,
    Nats,
    Redis,
}

/// A named connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub name: String,
    pub kind: Kind,
    /// Field values (secrets already read from the environment).
    pub fields: BTreeMap<String, String>,
    pub danger: bool,
    /// A colour name for the context badge (theme colour names or #rrggbb).
    pub color: Option<String>,
    pub read_only: bool,
    /// `<field>_env` settings whose variable is not set: (field, variable).
    pub missing_env: Vec<(String, String)>,
}

const KNOWN: &[(&str, Kind, &[&str])] = &[
    ("depot", Kind::Depot, &["data", "url", "token"]),
    ("kafka", Kind::Kafka, &["brokers", "sasl_mechanism", "username", "password", "tls", "ca_file", "batch_records"]),
    ("nats", Kind::Nats, &["url", "token", "user", "password", "creds_file"]),
    ("redis", Kind::Redis, &["url"]),
];

impl Context {
    /// An error when a secret's environment variable is missing (checked before connecting).
    pub fn check_env(&self) -> Result<(), BackendError> {
        match self.missing_env.first() {
            Some((field, var)) => Err(BackendError::BadRequest(format!(
                "context {}: `{field}_env` names the environment variable {var}, which is not set",
                self.name
            ))),
            None => Ok(()),
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    fn required(&self, field: &str) -> Result<&str, BackendError> {
        self.get(field).ok_or_else(|| {
            BackendError::BadRequest(format!(
                "context {}: `{field}` is missing (or its `{field}_env` variable is unset)",
                self.name
            ))
        })
    }

    pub fn flag(&self, field: &str) -> bool {
        matches!(self.get(field), Some("true" | "yes" | "1"))
    }

    pub fn path(&self, field: &str) -> Option<PathBuf> {
        self.get(field).map(PathBuf::from)
    }

    /// The value of a required field.
    pub fn need(&self, field: &str) -> Result<String, BackendError> {
        self.required(field).map(str::to_string)
    }
}

fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// Every context in the user's config file (secrets read from the environment).
pub fn all() -> BResult<BTreeMap<String, Context>> {
    let (cfg, problems) = config::load(config::config_dir().as_deref());
    if let Some(p) = problems.into_iter().next() {
        return Err(BackendError::BadRequest(p));
    }
    parse(&cfg.contexts, &|v| std::env::var(v).ok()).map_err(BackendError::BadRequest)
}

/// The named context, or an error listing the known ones.
pub fn find(name: &str) -> BResult<Context> {
    let mut all = all()?;
    if let Some(c) = all.remove(name) {
        return Ok(c);
    }
    Err(BackendError::NotFound(if all.is_empty() {
        format!(
            "no context named {name}: the config file ({}) defines none; see the README's Contexts section",
            config::config_dir()
                .map(|d| d.join("config.toml").display().to_string())
                .unwrap_or_else(|| "config.toml".into())
        )
    } else {
        format!("no context named {name}; known: {}", all.keys().cloned().collect::<Vec<_>>().join(", "))
    }))
}

/// Parses the `[contexts]` tables, reading `<field>_env` variables with `env`.
pub fn parse(
    tables: &BTreeMap<String, toml::Table>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, Context>, String> {
    let mut out = BTreeMap::new();
    for (name, table) in tables {
        let kind_name = table
            .get("kind")
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("context {name}: `kind` is missing (one of: depot, kafka, nats, redis)"))?;
        let Some((_, kind, allowed)) = KNOWN.iter().find(|(k, _, _)| *k == kind_name) else {
            return Err(format!("context {name}: kind = {kind_name:?} is not one of: depot, kafka, nats, redis"));
        };
        let mut fields = BTreeMap::new();
        let mut danger = false;
        let mut color = None;
        let mut read_only = false;
        let mut missing_env = Vec::new();
        for (key, value) in table {
            match key.as_str() {
                "kind" => {}
                "danger" => {
                    danger = value.as_bool().ok_or_else(|| format!("context {name}: danger must be true or false"))?
                }
                "read_only" => {
                    read_only =
                        value.as_bool().ok_or_else(|| format!("context {name}: read_only must be true or false"))?
                }
                "color" => {
                    color = Some(scalar(value).ok_or_else(|| format!("context {name}: color must be a string"))?)
                }
                k => {
                    let (field, from_env) = match k.strip_suffix("_env") {
                        Some(f) => (f, true),
                        None => (k, false),
                    };
                    if !allowed.contains(&field) {
                        return Err(format!(
                            "context {name}: unknown setting `{k}` for kind {kind_name} (known: {}, each also as <name>_env)",
                            allowed.join(", ")
                        ));
                    }
                    let v = scalar(value)
                        .ok_or_else(|| format!("context {name}: `{k}` must be a string, number or boolean"))?;
                    if from_env {
                        match env(&v) {
                            Some(val) => {
                                fields.insert(field.to_string(), val);
                            }
                            None => missing_env.push((field.to_string(), v)),
                        }
                    } else {
                        fields.entry(field.to_string()).or_insert(v);
                    }
                }
            }
        }
        out.insert(
            name.clone(),
            Context { name: name.clone(), kind: *kind, fields, danger, color, read_only, missing_env },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_parse_with_secrets_from_the_environment() {
        let text = r#"
            [prod]
            kind = "kafka"
            brokers = "k1:9092"
            username = "ops"
            password_env = "PROD_PW"
            danger = true
            [events]
            kind = "nats"
            url = "nats://127.0.0.1:4222"
        "#;
        let tables: BTreeMap<String, toml::Table> = toml::from_str(text).unwrap();
        let env = |v: &str| (v == "PROD_PW").then(|| "s3cret".to_string());
        let c = parse(&tables, &env).unwrap();
        assert_eq!(c["prod"].kind, Kind::Kafka);
        assert_eq!(c["prod"].get("password"), Some("s3cret"));
        assert!(c["prod"].danger);
        assert_eq!(c["events"].need("url").unwrap(), "nats://127.0.0.1:4222");
        let bad: BTreeMap<String, toml::Table> = toml::from_str("[x]\nkind = \"kafka\"\nbrokerz = \"a\"\n").unwrap();
        let e = parse(&bad, &env).unwrap_err();
        assert!(e.contains("unknown setting `brokerz`") && e.contains("brokers"), "{e}");
        let bad: BTreeMap<String, toml::Table> = toml::from_str("[x]\nkind = \"rabbit\"\n").unwrap();
        assert!(parse(&bad, &env).unwrap_err().contains("not one of"));
    }
}
