"""kafka-python for depot's group tests: consume as a group with an assignor, and produce.

  kafka_python_group.py BOOTSTRAP TOPIC GROUP ASSIGNOR(range|roundrobin) MEMBERS COUNT PARTITIONS
      Runs MEMBERS consumers of GROUP in this process (a thread each) with that assignor; once
      every partition is assigned to one of them, produces COUNT records ("v<i>") with
      kafka-python's producer; consumes until every record was consumed, committing as it goes;
      prints {"assignments": {client: [partitions]}, "consumed": [[partition, offset, value,
      client], ...]}.
"""

import json
import sys
import threading
import time

from kafka import KafkaConsumer, KafkaProducer
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor


def main(bootstrap, topic, group, assignor, members, count, partitions):
    strategy = RoundRobinPartitionAssignor if assignor == "roundrobin" else RangePartitionAssignor
    consumers = [
        KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, client_id=f"kp-{i}",
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      partition_assignment_strategy=[strategy])
        for i in range(members)
    ]
    consumed, lock, done = [], threading.Lock(), threading.Event()
    assignments = {}

    def run(i, c):
        while not done.is_set():
            batch = c.poll(timeout_ms=200)
            got = [(tp.partition, r.offset, r.value.decode(), f"kp-{i}") for tp, rs in batch.items() for r in rs]
            if got:
                c.commit()
            with lock:
                consumed.extend(got)
                assignments[f"kp-{i}"] = sorted(tp.partition for tp in c.assignment())
                if len(consumed) >= count:
                    done.set()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(consumers)]
    for t in threads:
        t.start()
    # Every member holds its share of one generation's assignment before anything is produced.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            owned = [p for ps in assignments.values() for p in ps]
            if len(assignments) == members and all(assignments.values()) and sorted(owned) == list(range(partitions)):
                break
        time.sleep(0.05)
    # Not idempotent: InitProducerId is not on this branch (kafka-python 3 asks for it by default).
    producer = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    for i in range(count):
        producer.send(topic, value=f"v{i}".encode())
    producer.flush()
    producer.close()
    done.wait(60)
    for t in threads:
        t.join()
    for c in consumers:
        c.close()
    print(json.dumps({"assignments": assignments, "consumed": consumed}), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]), int(a[6]))
