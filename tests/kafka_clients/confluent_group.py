"""A confluent-kafka (librdkafka) process for depot's group tests, printing one JSON object a line.

  confluent_group.py consume BOOTSTRAP GROUP TOPIC CLIENT_ID STOP_FILE
      A group member: subscribes, logs every assignment ({"ev": "assign", "gen", "parts"}) and
      every record it consumes ({"ev": "rec", "gen", "p", "o", "v"}) with the group generation it
      consumed it in, commits synchronously every 20 records, when idle and on every revoke, and leaves the
      group (closing the consumer) once STOP_FILE exists.
  confluent_group.py produce BOOTSTRAP TOPIC COUNT PER_SECOND
      Produces COUNT keyed records ("k<i>" / "v<i>") at about PER_SECOND, printing
      {"produced": n} after every 100 acknowledged, and {"done": COUNT} at the end.
"""

import json
import os
import struct
import sys
import time

from confluent_kafka import Consumer, Producer


def out(**kw):
    print(json.dumps(kw), flush=True)


def generation(c):
    # librdkafka's serialized group metadata: b"CGMDv2:", the generation (int32, host order), ...
    md = c.consumer_group_metadata()
    return struct.unpack("=i", md[7:11])[0]


def consume(bootstrap, group, topic, client_id, stop_file):
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": client_id,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "partition.assignment.strategy": "range",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
    })
    pending = [0]

    def on_assign(consumer, parts):
        out(ev="assign", gen=generation(consumer), parts=sorted(p.partition for p in parts))

    def on_revoke(consumer, parts):
        if pending[0]:
            try:
                consumer.commit(asynchronous=False)
            except Exception as e:  # a commit refused by the group: logged, the test sees it
                out(ev="commit-error", err=str(e))
            pending[0] = 0
        out(ev="revoke", parts=sorted(p.partition for p in parts))

    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    while not os.path.exists(stop_file):
        m = c.poll(0.2)
        if m is None:
            if pending[0]:
                # Idle: commit what was consumed, so the group's lag reaches 0.
                c.commit(asynchronous=False)
                pending[0] = 0
            continue
        if m.error():
            out(ev="error", err=str(m.error()))
            continue
        out(ev="rec", gen=generation(c), p=m.partition(), o=m.offset(), v=m.value().decode())
        pending[0] += 1
        if pending[0] >= 20:
            c.commit(asynchronous=False)
            pending[0] = 0
    if pending[0]:
        c.commit(asynchronous=False)
        pending[0] = 0
    c.close()
    out(ev="closed")


def produce(bootstrap, topic, count, per_second):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    acked = [0]

    def delivered(err, msg):
        if err is None:
            acked[0] += 1
            if acked[0] % 100 == 0:
                out(produced=acked[0])
        else:
            out(ev="error", err=str(err))

    start = time.monotonic()
    for i in range(count):
        p.produce(topic, key=f"k{i}", value=f"v{i}", on_delivery=delivered)
        p.poll(0)
        ahead = (i + 1) / per_second - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    p.flush(30)
    out(done=acked[0])


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "consume":
        consume(*args)
    else:
        produce(args[0], args[1], int(args[2]), float(args[3]))
