#!/usr/bin/env python3
"""What TensorBoard reads from tradesim's committed event file (in Tests/Fixtures/tensorboard/).

The event file `events.out.tfevents.1700000000.fixture` is TensorBoardWriter's output for the events of
TensorBoardTests.fixtureEvents (the Swift test rewrites it and checks the bytes are the same). This script reads it with
TensorBoard's EventAccumulator and its raw record loader, which check every length and data CRC and stop at the first
bad record (so a bad CRC shows as missing records), and checks that each record is the canonical protobuf encoding of
its Event (parse, re-serialize, same bytes). It writes
`tensorboard_read.json`: the file version, the record count, that check, and every scalar as (tag, step, value,
wall_time); TensorBoardTests checks them against the events it wrote. It also reads the folder `resumed/` (a killed
run's event file and its resumed process's, which starts its session at the checkpoint's step: see
TensorBoardTests.writeResumedRun) as TensorBoard loads a run's folder, and writes the scalars it keeps to
`resumed_read.json`.

CI never runs this; re-run it by hand after the event file changed (made with tensorboard 2.21.0, protobuf 7.36.2):
    python3 -m venv .venv-fixtures && .venv-fixtures/bin/pip install tensorboard
    .venv-fixtures/bin/python scripts/make_tensorboard_fixture.py
"""
import json
import pathlib

import tensorboard
from tensorboard.backend.event_processing import event_accumulator, event_file_loader
from tensorboard.compat.proto import event_pb2

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "Tests/Fixtures/tensorboard"
EVENT_FILE = FIXTURES / "events.out.tfevents.1700000000.fixture"

records = list(event_file_loader.RawEventFileLoader(str(EVENT_FILE)).Load())
canonical = all(event_pb2.Event.FromString(r).SerializeToString() == r for r in records)

accumulator = event_accumulator.EventAccumulator(str(EVENT_FILE), size_guidance={event_accumulator.SCALARS: 0})
accumulator.Reload()
scalars = [
    {"tag": tag, "step": e.step, "value": e.value, "wall_time": e.wall_time}
    for tag in sorted(accumulator.Tags()[event_accumulator.SCALARS])
    for e in accumulator.Scalars(tag)
]
reading = {
    "tensorboard": tensorboard.__version__,
    "file_version": accumulator.file_version,
    "records": len(records),
    "canonical_encoding": canonical,
    "scalars": scalars,
}
(FIXTURES / "tensorboard_read.json").write_text(json.dumps(reading, indent=1) + "\n")
print(f"{len(records)} records, {len(scalars)} scalars, canonical encoding: {canonical}")

resumed = event_accumulator.EventAccumulator(str(FIXTURES / "resumed"), size_guidance={event_accumulator.SCALARS: 0})
resumed.Reload()
kept = [
    {"tag": tag, "step": e.step, "value": e.value, "wall_time": e.wall_time}
    for tag in sorted(resumed.Tags()[event_accumulator.SCALARS])
    for e in resumed.Scalars(tag)
]
(FIXTURES / "resumed_read.json").write_text(json.dumps(kept, indent=1) + "\n")
print(f"resumed: {len(kept)} scalars kept")
