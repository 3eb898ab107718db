"""confluent-kafka (current librdkafka) against depot's Kafka listener: for each codec — gzip,
snappy, lz4, zstd — a producer compresses batches of keyed records whose headers repeat a name,
into one partition per codec; a consumer without a group reads each partition back.

Usage: confluent_compressed.py BOOTSTRAP TOPIC
Prints one JSON object, per codec what was sent, acknowledged and read (bytes as hex), for
tests/kafka_clients.rs.
"""

import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

CODECS = ["gzip", "snappy", "lz4", "zstd"]
COUNT = 300


def hx(b):
    return None if b is None else b.hex()


def records(codec):
    out = []
    for i in range(COUNT):
        key = bytes([0, 0xFF, i % 256]) + f"{codec}-{i}".encode()
        # Compressible values, so every codec has work to do.
        value = (f"{codec} value {i} " * 8).encode()
        headers = [("h", b"first"), ("h", bytes([0, i % 256])), ("other", None)]
        out.append((key, value, headers))
    return out


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    result = {}
    for partition, codec in enumerate(CODECS):
        sent = records(codec)
        acks = []
        errors = []

        def report(err, msg):
            if err is not None:
                errors.append(str(err))
            else:
                acks.append(msg.offset())

        p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 20,
                      "acks": "all"})
        for key, value, headers in sent:
            p.produce(topic, key=key, value=value, headers=headers, partition=partition, on_delivery=report)
        left = p.flush(30)

        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-assign-only",
                      "enable.auto.commit": False})
        c.assign([TopicPartition(topic, partition, 0)])
        read = []
        deadline = time.monotonic() + 60
        while len(read) < COUNT and time.monotonic() < deadline:
            for m in c.consume(num_messages=1000, timeout=0.5):
                if m.error():
                    errors.append(str(m.error()))
                    continue
                read.append({"offset": m.offset(), "key": hx(m.key()), "value": hx(m.value()),
                             "headers": [[n, hx(v)] for n, v in (m.headers() or [])]})
        c.close()
        result[codec] = {
            "partition": partition,
            "unflushed": left,
            "errors": errors,
            "acks": sorted(acks),
            "sent": [{"key": hx(k), "value": hx(v), "headers": [[n, hx(hv)] for n, hv in h]} for k, v, h in sent],
            "read": read,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
