//! The OpenAPI 3.1 document served at `/v1/openapi.json`. Tests check that it names exactly the
//! routes in [`super::ROUTES`], and that requests shaped like its schemas are accepted.

use crate::core::ResetMode;
use serde_json::{Value, json};

fn payload() -> Value {
    json!({
        "description": "UTF-8 text as a JSON string, other bytes as {\"base64\": \"...\"}",
        "oneOf": [
            {"type": "string"},
            {"type": "object", "required": ["base64"], "properties": {"base64": {"type": "string"}}, "additionalProperties": false}
        ]
    })
}

/// The value a reset mode takes, as a schema (`None`: the mode takes none).
fn reset_value(mode: ResetMode) -> Option<Value> {
    match mode {
        ResetMode::ToEarliest | ResetMode::ToLatest => None,
        ResetMode::ToOffset => Some(json!({"type": "integer", "minimum": 0})),
        ResetMode::ShiftBy => Some(json!({"type": "integer"})),
        ResetMode::ToDatetime => Some(json!({"type": "integer", "description": "ms since the epoch"})),
        ResetMode::ByDuration => Some(json!({"type": "integer", "minimum": 0, "description": "ms"})),
    }
}

/// One schema for the modes without a value, then one per mode with its value.
fn reset_spec_variants() -> Vec<Value> {
    let bare: Vec<&str> = ResetMode::ALL.iter().filter(|m| reset_value(**m).is_none()).map(|m| m.name()).collect();
    let mut variants = vec![json!({"type": "object", "required": ["mode"], "properties": {"mode": {"enum": bare}}})];
    for m in ResetMode::ALL {
        if let Some(value) = reset_value(m) {
            variants.push(json!({"type": "object", "required": ["mode", "value"],
                "properties": {"mode": {"const": m.name()}, "value": value}}));
        }
    }
    variants
}

fn schemas() -> Value {
    let header = json!({"type": "object", "required": ["name", "value"],
        "properties": {"name": {"type": "string"}, "value": {"$ref": "#/components/schemas/Payload"}}});
    let spec = json!({"description": "kafka-consumer-groups' reset modes", "oneOf": reset_spec_variants()});
    let range = json!({
        "oneOf": [
            {"type": "object", "required": ["kind", "from", "to"], "properties": {"kind": {"const": "offsets"}, "from": {"type": "integer"}, "to": {"type": "integer", "description": "exclusive"}}},
            {"type": "object", "required": ["kind", "since_ms", "until_ms"], "properties": {"kind": {"const": "time"}, "since_ms": {"type": "integer"}, "until_ms": {"type": "integer"}}}
        ]
    });
    json!({
        "Payload": payload(),
        "Header": header,
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["kind", "message"],
            "properties": {"kind": {"enum": ["not_found", "conflict", "refused", "unavailable", "bad_request", "unauthorized", "unsupported", "internal"]},
                           "message": {"type": "string"}}}}},
        "CreateTopic": {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,248}$"},
            "partitions": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1},
            "retention_ms": {"type": "integer", "minimum": 1},
            "retention_bytes": {"type": "integer", "minimum": 1},
            "segment_bytes": {"type": "integer", "minimum": 1024, "maximum": 1073741824}}},
        "OutRecord": {"type": "object", "required": ["value"], "additionalProperties": false, "properties": {
            "key": {"$ref": "#/components/schemas/Payload"},
            "value": {"description": "required; null publishes a tombstone", "oneOf": [{"$ref": "#/components/schemas/Payload"}, {"type": "null"}]},
            "headers": {"type": "array", "items": {"$ref": "#/components/schemas/Header"}},
            "partition": {"type": "integer", "minimum": 0}}},
        "PublishRequest": {"type": "object", "required": ["records"], "additionalProperties": false, "properties": {
            "records": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/OutRecord"}},
            "producer": {"type": "object", "required": ["id", "sequence"], "properties": {"id": {"type": "integer"}, "sequence": {"type": "integer"}}}}},
        "PullRequest": {"type": "object", "required": ["topic"], "additionalProperties": false, "properties": {
            "topic": {"type": "string"},
            "max": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
            "commit": {"type": "boolean", "default": true},
            "wait_ms": {"type": "integer", "minimum": 0, "maximum": 60000, "default": 0}}},
        "Commit": {"type": "object", "required": ["offsets"], "additionalProperties": false, "properties": {
            "offsets": {"type": "array", "items": {"type": "object", "required": ["topic", "partition", "offset"],
                "properties": {"topic": {"type": "string"}, "partition": {"type": "integer"}, "offset": {"type": "integer"}}}}}},
        "ResetSpec": spec,
        "ResetRequest": {"type": "object", "required": ["topic", "spec"], "additionalProperties": false, "properties": {
            "topic": {"type": "string"}, "partitions": {"type": "array", "items": {"type": "integer"}},
            "spec": {"$ref": "#/components/schemas/ResetSpec"}}},
        "ExecuteReset": {"type": "object", "required": ["plan"], "additionalProperties": false, "properties": {
            "plan": {"type": "object", "description": "a plan exactly as returned by resets/plan or resets/undo-plan"},
            "force": {"type": "boolean", "default": false}}},
        "ReplayRange": range,
        "ReplayRequest": {"type": "object", "required": ["source", "range"], "additionalProperties": false, "properties": {
            "source": {"type": "string"}, "partitions": {"type": "array", "items": {"type": "integer"}},
            "range": {"$ref": "#/components/schemas/ReplayRange"}, "target": {"type": "string"}}},
        "SearchRequest": {"type": "object", "additionalProperties": false,
            "description": "every criterion given must hold; bounded by max_matches, max_bytes and max_ms",
            "properties": {
            "partition": {"type": "integer", "minimum": 0, "description": "one partition (default: every partition)"},
            "key": {"type": "string", "description": "the key, exactly"},
            "header": {"type": "object", "required": ["name", "value"], "additionalProperties": false,
                "description": "a header with this name whose value contains this text",
                "properties": {"name": {"type": "string", "minLength": 1}, "value": {"type": "string"}}},
            "value": {"type": "string", "description": "text the value contains"},
            "regex": {"type": "string", "description": "a regex the value matches (instead of value); compiled with a 1 MiB size limit"},
            "from_offset": {"type": "integer", "minimum": 0},
            "to_offset": {"type": "integer", "minimum": 0, "description": "exclusive"},
            "since_ms": {"type": "integer", "description": "ms since the epoch, inclusive"},
            "until_ms": {"type": "integer", "description": "ms since the epoch, exclusive"},
            "backward": {"type": "boolean", "default": false, "description": "from the end of the range (or the cursors) towards its start"},
            "resume": {"type": "array", "description": "a previous answer's next: where to continue, per partition",
                "items": {"type": "object", "required": ["partition", "offset"],
                    "properties": {"partition": {"type": "integer"}, "offset": {"type": "integer"}, "done": {"type": "boolean"}}}},
            "max_matches": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0, "description": "0: 100"},
            "max_bytes": {"type": "integer", "minimum": 0, "maximum": crate::core::search::MAX_BYTES, "default": 0, "description": "bytes of keys, values and headers to scan; 0: 256 MiB"},
            "max_ms": {"type": "integer", "minimum": 0, "maximum": 60000, "default": 0, "description": "0: 5000"}}},
        "ExecuteReplay": {"type": "object", "required": ["plan"], "additionalProperties": false, "properties": {
            "plan": {"type": "object", "description": "a plan exactly as returned by replays/plan"}}}
    })
}

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn path_param(name: &str, kind: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": kind}})
}

fn query_param(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": {"type": kind}, "description": description})
}

fn op(summary: &str, params: Vec<Value>, request: Option<&str>, ok: &str) -> Value {
    let mut o = json!({
        "summary": summary,
        "parameters": params,
        "responses": {
            ok: {"description": "success"},
            "4XX": {"description": "the request was wrong or refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "5XX": {"description": "the engine failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
    });
    if let Some(r) = request {
        o["requestBody"] = body(r);
    }
    o
}

/// The whole document.
pub fn document() -> Value {
    let topic = || path_param("topic", "string");
    let group = || path_param("group", "string");
    json!({
        "openapi": "3.1.0",
        "info": {"title": "depot", "version": env!("CARGO_PKG_VERSION"),
                 "description": "The depot engine over HTTP. Send `Authorization: Bearer TOKEN` when the server has a token."},
        "paths": {
            "/healthz": {"get": op("Liveness: 200 when the engine answers", vec![], None, "200")},
            "/metrics": {"get": op("Prometheus text exposition", vec![], None, "200")},
            "/v1/openapi.json": {"get": op("This document", vec![], None, "200")},
            "/v1/capabilities": {"get": op("What this engine can do", vec![], None, "200")},
            "/v1/topics": {
                "get": op("List topics", vec![], None, "200"),
                "post": op("Create a topic", vec![], Some("CreateTopic"), "201")
            },
            "/v1/topics/{topic}": {
                "get": op("Describe a topic and its partitions", vec![topic()], None, "200"),
                "delete": op("Delete a topic and its data", vec![topic()], None, "204")
            },
            "/v1/topics/{topic}/records": {
                "get": op("Peek: read without committing (one partition or all, merged by time)", vec![
                    topic(),
                    query_param("partition", "integer", "one partition (default: all)"),
                    query_param("offset", "integer", "start at this offset"),
                    query_param("from_time", "string", "start at this time: ms since the epoch or RFC 3339"),
                    query_param("last", "integer", "the last N records of each partition"),
                    query_param("from", "string", "`earliest` (the default)"),
                    query_param("max", "integer", "1..10000, default 20"),
                ], None, "200"),
                "post": op("Publish records; each ack means durable as the server's sync mode promises", vec![topic()], Some("PublishRequest"), "200")
            },
            "/v1/topics/{topic}/partitions/{partition}/records": {
                "get": op("Fetch one partition from an offset; long-polls up to wait_ms for new records", vec![
                    topic(), path_param("partition", "integer"),
                    json!({"name": "offset", "in": "query", "required": true, "schema": {"type": "integer"}}),
                    query_param("max", "integer", "1..10000, default 100"),
                    query_param("wait_ms", "integer", "0..60000, default 0"),
                ], None, "200")
            },
            "/v1/topics/{topic}/search": {
                "post": op("Search the topic by the engine; the answer has the matches, how far the scan got per partition (next), bytes scanned, and the bound that stopped it (stopped)", vec![topic()], Some("SearchRequest"), "200")
            },
            "/v1/groups": {"get": op("List consumer groups with lag", vec![], None, "200")},
            "/v1/groups/{group}": {
                "get": op("Describe a group: members, assignment, offsets, lag", vec![group()], None, "200"),
                "delete": op("Delete a group without live members", vec![group()], None, "204")
            },
            "/v1/groups/{group}/pull": {"post": op("Pull records as a one-off member of the group", vec![group()], Some("PullRequest"), "200")},
            "/v1/groups/{group}/commit": {"post": op("Commit offsets for a group without live members", vec![group()], Some("Commit"), "204")},
            "/v1/groups/{group}/resets": {"get": op("The group's executed resets, oldest first", vec![group()], None, "200")},
            "/v1/groups/{group}/resets/plan": {"post": op("Plan a reset (dry run): before/after per partition", vec![group()], Some("ResetRequest"), "200")},
            "/v1/groups/{group}/resets/execute": {"post": op("Execute a reset plan (journaled; refused with live members unless forced)", vec![group()], Some("ExecuteReset"), "200")},
            "/v1/groups/{group}/resets/undo-plan": {"post": op("Plan undoing the group's last reset", vec![group()], None, "200")},
            "/v1/replays/plan": {"post": op("Plan a replay: how many records, which ranges", vec![], Some("ReplayRequest"), "200")},
            "/v1/replays/execute": {"post": op("Execute a replay plan", vec![], Some("ExecuteReplay"), "200")}
        },
        "components": {"schemas": schemas()}
    })
}
