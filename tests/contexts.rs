//! Contexts from the config file: `--context NAME` picks the engine for every verb, secrets come
//! from the environment, read-only contexts refuse writes, unknown names list the known ones.

use std::process::Command;

fn depot(cfg: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_depot"));
    c.args(args)
        .env("DEPOT_CONFIG_DIR", cfg)
        .env_remove("DEPOT_DATA")
        .env_remove("DEPOT_CONTEXT")
        .env_remove("DEPOT_CONNECT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run depot")
}

#[test]
fn verbs_use_the_named_context() {
    let dir = tempfile::tempdir().unwrap();
    let (alpha, prod) = (dir.path().join("alpha"), dir.path().join("prod"));
    let cfg = dir.path().join("cfg");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.toml"),
        format!(
            "[contexts.alpha]\nkind = \"depot\"\ndata_env = \"ALPHA_DIR\"\n\n[contexts.prod]\nkind = \"depot\"\ndata = \"{}\"\ndanger = true\nread_only = true\n",
            prod.display()
        ),
    )
    .unwrap();
    let alpha_s = alpha.display().to_string();
    let env = [("ALPHA_DIR", alpha_s.as_str())];
    let out = depot(&cfg, &["--context", "alpha", "topic", "create", "orders"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(alpha.join("topics/orders/topic.json").exists(), "the data directory came from ALPHA_DIR");
    let out = depot(&cfg, &["--context", "prod", "topic", "create", "orders"], &env);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("context prod is read-only"), "{err}");
    assert!(!prod.join("topics/orders").exists(), "nothing was written");
    let out = depot(&cfg, &["--context", "prod", "topics", "--json"], &env);
    assert!(out.status.success(), "reads work on a read-only context: {}", String::from_utf8_lossy(&out.stderr));
    let out = depot(&cfg, &["--context", "staging", "topics"], &env);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no context named staging") && err.contains("alpha, prod"), "{err}");
    // Without the variable the setting is missing, and the error says which variable.
    let out = depot(&cfg, &["--context", "alpha", "topics"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("ALPHA_DIR, which is not set"), "{err}");
}

#[test]
fn a_bad_context_table_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "[contexts.x]\nkind = \"rabbitmq\"\n").unwrap();
    let out = depot(dir.path(), &["--context", "x", "topics"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("not one of: depot, kafka, nats, redis"), "{err}");
}
