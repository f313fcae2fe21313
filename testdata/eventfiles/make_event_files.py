#!/usr/bin/python3
"""Writes the event files of testdata/eventfiles with tools independent of PaddleCloud's reader.

Messages are serialized by Google's protobuf library (Debian: python3-protobuf, protobuf-compiler)
from subsets of the published schemas, with their field numbers as published:
  tensorboard/compat/proto/{event,summary,tensor,tensor_shape,types}.proto (TensorBoard)
  visualdl/proto/record.proto (VisualDL 2.x)
Records are framed as the writers frame them: TensorBoard's TFRecord (length, masked CRC-32C of the
length, data, masked CRC-32C of the data; CRC from crcmod's predefined "crc-32c"), and VisualDL's
RecordWriter.write (uint64 little-endian length, data: VisualDL 2.x writes no checksums).

Run: /usr/bin/python3 testdata/eventfiles/make_event_files.py   (writes next to this script)
"""
import importlib
import math
import os
import struct
import subprocess
import sys
import tempfile

import crcmod.predefined

PROTOS = {
    "tb.proto": """
syntax = "proto3";
package tensorboard;
enum DataType { DT_INVALID = 0; DT_FLOAT = 1; DT_DOUBLE = 2; DT_INT32 = 3; DT_STRING = 7; DT_INT64 = 9; }
message TensorShapeProto {
  message Dim { int64 size = 1; string name = 2; }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}
message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
  repeated int64 int64_val = 10 [packed = true];
}
enum DataClass { DATA_CLASS_UNKNOWN = 0; DATA_CLASS_SCALAR = 1; DATA_CLASS_TENSOR = 2; }
message SummaryMetadata {
  message PluginData { string plugin_name = 1; bytes content = 2; }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  DataClass data_class = 4;
}
message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}
message SourceMetadata { string writer = 1; }
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
  }
  SourceMetadata source_metadata = 10;
}
""",
    "vdl.proto": """
syntax = "proto3";
package visualdl;
message Record {
  message Image { bytes encoded_image_string = 4; }
  message MetaData { string display_name = 1; }
  message Value {
    int64 id = 1;
    string tag = 2;
    int64 timestamp = 3;
    oneof one_value {
      float value = 4;
      Image image = 5;
      MetaData meta_data = 10;
    }
  }
  repeated Value values = 1;
}
""",
}

crc32c = crcmod.predefined.mkCrcFun("crc-32c")


def masked_crc(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data):
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc(length)) + data + struct.pack("<I", masked_crc(data))


def length_prefixed(data):
    return struct.pack("<Q", len(data)) + data


def compile_protos():
    out = tempfile.mkdtemp()
    for name, text in PROTOS.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text)
    subprocess.run(["protoc", "-I", out, "--python_out", out, *PROTOS], check=True)
    sys.path.insert(0, out)
    return importlib.import_module("tb_pb2"), importlib.import_module("vdl_pb2")


def tensorboard_events(tb):
    events = []
    first = tb.Event(wall_time=1700000000.0, file_version="brain.Event:2")
    first.source_metadata.writer = "tensorboard.summary.writer.event_file_writer"
    events.append(first)

    def scalar_event(wall_time, step, tag, **value):
        event = tb.Event(wall_time=wall_time, step=step)
        v = event.summary.value.add(tag=tag, **value)
        v.metadata.plugin_data.plugin_name = "scalars"
        return event

    events.append(scalar_event(1700000001.5, 0, "train/loss", simple_value=2.5))
    events.append(scalar_event(1700000002.5, 1, "train/loss", simple_value=1.25))
    # TF2 style: a rank-0 DT_FLOAT tensor, once with float_val and once with tensor_content.
    events.append(scalar_event(1700000002.75, 1, "eval/accuracy",
                               tensor=tb.TensorProto(dtype=tb.DT_FLOAT, tensor_shape=tb.TensorShapeProto(),
                                                     float_val=[0.875])))
    events.append(scalar_event(1700000003.5, 2, "eval/accuracy",
                               tensor=tb.TensorProto(dtype=tb.DT_FLOAT, tensor_content=struct.pack("<f", 0.5))))
    events.append(scalar_event(1700000004.0, 2, "train/loss", simple_value=math.nan))
    # Not scalars: a 2x3 tensor, a string tensor and a graph.
    shape = tb.TensorShapeProto(dim=[tb.TensorShapeProto.Dim(size=2), tb.TensorShapeProto.Dim(size=3)])
    events.append(scalar_event(1700000004.5, 3, "weights",
                               tensor=tb.TensorProto(dtype=tb.DT_FLOAT, tensor_shape=shape, float_val=[1, 2, 3, 4, 5, 6])))
    events.append(scalar_event(1700000004.75, 3, "notes",
                               tensor=tb.TensorProto(dtype=tb.DT_STRING, string_val=[b"hello"])))
    events.append(tb.Event(wall_time=1700000005.0, graph_def=b"\x0a\x03abc"))
    # Several values in one summary, one an int64 tensor.
    many = tb.Event(wall_time=1700000006.0, step=4)
    many.summary.value.add(tag="lr", simple_value=0.001)
    many.summary.value.add(tag="epoch", tensor=tb.TensorProto(dtype=tb.DT_INT64, int64_val=[7]))
    events.append(many)
    return events


def visualdl_records(vdl):
    records = [vdl.Record(values=[vdl.Record.Value(id=0, tag="meta_data_tag", timestamp=1700000000000,
                                                   meta_data=vdl.Record.MetaData(display_name="run"))])]
    for step, loss in enumerate([3.0, 2.0, 1.5]):
        records.append(vdl.Record(values=[vdl.Record.Value(id=step, tag="train/loss",
                                                           timestamp=1700000001000 + step * 250, value=loss)]))
    records.append(vdl.Record(values=[vdl.Record.Value(id=3, tag="sample", timestamp=1700000002000,
                                                       image=vdl.Record.Image(encoded_image_string=b"PNG"))]))
    records.append(vdl.Record(values=[vdl.Record.Value(id=3, tag="train/acc", timestamp=1700000002500,
                                                       value=-math.inf)]))
    return records


def main():
    tb, vdl = compile_protos()
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "events.out.tfevents.1700000000.testhost.4242.0"), "wb") as f:
        for event in tensorboard_events(tb):
            f.write(tfrecord(event.SerializeToString()))
    with open(os.path.join(here, "vdlrecords.1700000000.log"), "wb") as f:
        for record in visualdl_records(vdl):
            f.write(length_prefixed(record.SerializeToString()))


if __name__ == "__main__":
    main()
