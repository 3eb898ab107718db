"""An idempotent confluent-kafka producer (librdkafka) against depot's Kafka listener, then a
confluent-kafka consumer without a group reading everything back.

Usage: idempotent_producer.py BOOTSTRAP TOPIC COUNT KEYS [DROP]
Produces COUNT records keyed customer-<i % KEYS> with values v-<i> (enable.idempotence, linger
5 ms, Kafka's murmur2 partitioner), counts the delivery reports, reads every partition from the
beginning to its end, and prints one JSON object for tests/kafka_clients.rs to assert on.

With DROP (a comma-separated list of n), the producer talks to depot through a proxy that lets
the n-th Produce request reach depot, waits for depot's answer, and then cuts the connection
instead of passing the answer on: librdkafka must send those batches again, and depot must not
append them twice.
"""

import json
import socket
import struct
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


PRODUCE, METADATA = 0, 3


def read_frame(sock):
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    (size,) = struct.unpack(">i", head)
    body = b""
    while len(body) < size:
        chunk = sock.recv(min(size - len(body), 1 << 20))
        if not chunk:
            return None
        body += chunk
    return head + body


class Proxy:
    """A Kafka proxy on 127.0.0.1 that advertises itself in Metadata and drops chosen answers."""

    def __init__(self, upstream, drop):
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.drop = set(drop)
        self.produces = 0
        self.dropped = 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        # Metadata names the broker by the address the client reached: depot's. The same
        # host with the proxy's port is as long, so the answer is patched in place.
        self.theirs = host.encode() + struct.pack(">i", int(port))
        self.ours = host.encode() + struct.pack(">i", self.port)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.upstream)
            kinds = {}
            threading.Thread(target=self.requests, args=(client, server, kinds), daemon=True).start()
            threading.Thread(target=self.answers, args=(client, server, kinds), daemon=True).start()

    def requests(self, client, server, kinds):
        try:
            while (frame := read_frame(client)) is not None:
                key, _version, corr = struct.unpack(">hhi", frame[4:12])
                drop = False
                if key == PRODUCE:
                    with self.lock:
                        self.produces += 1
                        drop = self.produces in self.drop
                kinds[corr] = (key, drop)
                server.sendall(frame)
        except OSError:
            pass
        for s in (client, server):
            s.close()

    def answers(self, client, server, kinds):
        try:
            while (frame := read_frame(server)) is not None:
                (corr,) = struct.unpack(">i", frame[4:8])
                key, drop = kinds.pop(corr, (None, False))
                if drop:
                    # depot appended the batch and answered; the client never hears of it.
                    with self.lock:
                        self.dropped += 1
                    break
                if key == METADATA:
                    frame = frame.replace(self.theirs, self.ours)
                client.sendall(frame)
        except OSError:
            pass
        for s in (client, server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def main():
    bootstrap, topic, count, keys = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    drop = [int(n) for n in sys.argv[5].split(",")] if len(sys.argv) > 5 else []
    proxy = Proxy(bootstrap, drop) if drop else None
    via = f"127.0.0.1:{proxy.port}" if proxy else bootstrap
    reports = {}  # value -> [(partition, offset), ...] from delivery reports
    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
            return
        reports.setdefault(msg.value().decode(), []).append((msg.partition(), msg.offset()))

    p = Producer({
        "bootstrap.servers": via,
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
        "produce_requests": proxy.produces if proxy else None,
        "dropped_answers": proxy.dropped if proxy else 0,
    }))


if __name__ == "__main__":
    main()
