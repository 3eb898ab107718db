"""An idempotent confluent-kafka producer (librdkafka) against depot's Kafka listener, then a
confluent-kafka consumer without a group reading everything back.

Usage: idempotent_producer.py BOOTSTRAP TOPIC COUNT KEYS
Produces COUNT records keyed customer-<i % KEYS> with values v-<i> (enable.idempotence, linger
5 ms, Kafka's murmur2 partitioner), counts the delivery reports, reads every partition from the
beginning to its end, and prints one JSON object for tests/kafka_clients.rs to assert on.
"""

import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def main():
    bootstrap, topic, count, keys = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    reports = {}  # value -> [(partition, offset), ...] from delivery reports
    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
            return
        reports.setdefault(msg.value().decode(), []).append((msg.partition(), msg.offset()))

    p = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "linger.ms": 5,
        "partitioner": "murmur2_random",
        "message.timeout.ms": 60000,
    })
    started = time.monotonic()
    for i in range(count):
        while True:
            try:
                p.produce(topic, key=f"customer-{i % keys}".encode(), value=f"v-{i}".encode(), on_delivery=delivered)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60)
    produce_s = time.monotonic() - started

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    md = c.list_topics(topic, timeout=10)
    parts = sorted(md.topics[topic].partitions)
    ends = {}
    for part in parts:
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, part), timeout=10)
        ends[part] = hi
    # assign() without subscribe(): no group protocol, the group id is never used.
    c.assign([TopicPartition(topic, part, 0) for part in parts])
    read = []  # [key, value, partition, offset]
    done = {part for part in parts if ends[part] == 0}
    deadline = time.monotonic() + 60
    while len(done) < len(parts) and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        read.append([m.key().decode(), m.value().decode(), m.partition(), m.offset()])
        if m.offset() + 1 >= ends[m.partition()]:
            done.add(m.partition())
    c.close()

    print(json.dumps({
        "produced": count,
        "unflushed": left,
        "errors": errors[:10],
        "error_count": len(errors),
        "reports": sum(len(v) for v in reports.values()),
        "reported_twice": [v for v, r in reports.items() if len(r) > 1][:10],
        "reports_by_value": {v: r[0] for v, r in reports.items()},
        "ends": {str(k): v for k, v in ends.items()},
        "read": read,
        "produce_seconds": produce_s,
    }))


if __name__ == "__main__":
    main()
