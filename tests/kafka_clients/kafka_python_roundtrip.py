"""kafka-python (pure Python) against depot's Kafka listener: produces records with binary keys,
values and headers, then reads them back without a group (assign + seek_to_beginning).

Usage: kafka_python_roundtrip.py BOOTSTRAP TOPIC
Prints one JSON object: what was sent and what was read, bytes as hex, for tests/kafka_clients.rs.
"""

import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def sent_records():
    out = []
    for i in range(50):
        key = None if i % 10 == 9 else bytes([0, 0xFF, i]) + f"key-{i}".encode()
        value = b"" if i % 7 == 6 else bytes(range(256))[i:] + f"value-{i}".encode()
        headers = [("trace", f"t-{i}".encode()), ("raw", bytes([0, 0xFE, i]))] if i % 3 else []
        out.append((key, value, headers))
    return out


def hx(b):
    return None if b is None else b.hex()


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    records = sent_records()
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, retries=3)
    acks = []
    for key, value, headers in records:
        md = p.send(topic, key=key, value=value, headers=headers, partition=0).get(timeout=30)
        acks.append([md.partition, md.offset])
    p.flush()
    p.close()

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=1000)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    read = []
    deadline = time.monotonic() + 60
    while len(read) < len(records) and time.monotonic() < deadline:
        for batch in c.poll(timeout_ms=500).values():
            for m in batch:
                read.append({"offset": m.offset, "key": hx(m.key), "value": hx(m.value),
                             "headers": [[n, hx(v)] for n, v in m.headers]})
    c.close()
    print(json.dumps({
        "acks": acks,
        "sent": [{"key": hx(k), "value": hx(v), "headers": [[n, hx(hv)] for n, hv in h]} for k, v, h in records],
        "read": read,
    }))


if __name__ == "__main__":
    main()
