"""confluent-kafka's AdminClient against depot's Kafka listener, for tests/kafka_clients.rs.

    python3 admin.py BOOTSTRAP create   creates topics (good and refused ones), produces ten
                                        records to made/0, deletes the records below offset 4
    python3 admin.py BOOTSTRAP delete   deletes the topic "made" (and a topic that is not there)

Prints one JSON object: what each call returned, or the Kafka error's name.
"""

import json
import sys

from confluent_kafka import KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec


def outcome(future):
    try:
        value = future.result()
        return "ok" if value is None else value
    except KafkaException as e:
        return e.args[0].name()


def main():
    bootstrap, step = sys.argv[1], sys.argv[2]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    out = {}
    if step == "create":
        topics = [
            NewTopic("made", num_partitions=3, replication_factor=1),
            NewTopic("fallback"),  # partitions and replication left to the broker
            NewTopic("bad/name", num_partitions=1),
            NewTopic("replicated", num_partitions=1, replication_factor=3),
        ]
        for name, f in admin.create_topics(topics, operation_timeout=10).items():
            out["create " + name] = outcome(f)
        again = admin.create_topics([NewTopic("made", num_partitions=1)], operation_timeout=10)
        out["create made again"] = outcome(again["made"])
        md = admin.list_topics(timeout=10)
        out["partitions"] = {n: len(t.partitions) for n, t in md.topics.items()}
        p = Producer({"bootstrap.servers": bootstrap})
        for i in range(10):
            p.produce("made", value=f"v{i}".encode(), partition=0)
        out["unflushed"] = p.flush(10)
        deleted = admin.delete_records([TopicPartition("made", 0, 4)])
        r = outcome(next(iter(deleted.values())))
        out["delete_records low_watermark"] = r if isinstance(r, str) else r.low_watermark
        past = admin.delete_records([TopicPartition("made", 0, 100)])
        out["delete_records past the end"] = outcome(next(iter(past.values())))
        tp = TopicPartition("made", 0)
        for spec in ("earliest", "latest"):
            got = admin.list_offsets({tp: getattr(OffsetSpec, spec)()})
            r = outcome(got[tp])
            out["list_offsets " + spec] = r if isinstance(r, str) else r.offset
    else:
        for name, f in admin.delete_topics(["made", "never-was"], operation_timeout=10).items():
            out["delete " + name] = outcome(f)
    print(json.dumps(out))


main()
