"""paddlecloud.draw_board and LogWriter: names from the call site, values, and the event files they
write, re-read here by an independent decoder of the TFRecord framing and the Event protobuf."""
import contextlib
import io
import math
import os
import struct
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import LogWriter, board, draw_board  # noqa: E402

try:
    import numpy as np
except ImportError:     # the SDK needs no numpy; these tests use it where it is installed
    np = None

# ---------------------------------------------------------------------------------------------
# An independent reader: CRC-32C bit by bit, TFRecord framing, protobuf wire format
# ---------------------------------------------------------------------------------------------


def bitwise_crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(data):
    """(complete records, bytes of a torn tail); fails on a bad checksum."""
    records, pos = [], 0
    while pos + 12 <= len(data):
        length_bytes = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        assert length_crc == masked(bitwise_crc32c(length_bytes)), "length CRC at %d" % pos
        end = pos + 12 + length + 4
        if end > len(data):
            break
        payload = data[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack("<I", data[end - 4:end])
        assert data_crc == masked(bitwise_crc32c(payload)), "data CRC at %d" % pos
        records.append(payload)
        pos = end
    return records, len(data) - pos


def varint(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def fields(message):
    """[(field number, value)]: ints for varints, bytes for the rest."""
    out, pos = [], 0
    while pos < len(message):
        key, pos = varint(message, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = varint(message, pos)
        elif wire_type == 1:
            value, pos = message[pos:pos + 8], pos + 8
        elif wire_type == 5:
            value, pos = message[pos:pos + 4], pos + 4
        elif wire_type == 2:
            length, pos = varint(message, pos)
            value, pos = message[pos:pos + length], pos + length
        else:
            raise AssertionError("wire type %d" % wire_type)
        out.append((number, value))
    return out


def decode_event(record):
    """{"wall_time", "step", "file_version" or "values": [(tag, float)]}."""
    event = {"step": 0, "values": []}
    for number, value in fields(record):
        if number == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2:
            event["step"] = value - (1 << 64) if value >> 63 else value
        elif number == 3:
            event["file_version"] = value.decode()
        elif number == 5:
            for summary_field, summary_value in fields(value):
                assert summary_field == 1
                entry = dict(fields(summary_value))
                event["values"].append((entry[1].decode(), struct.unpack("<f", entry[2])[0]))
    return event


def read_events(path):
    with open(path, "rb") as f:
        records, torn = read_records(f.read())
    assert torn == 0, "%d bytes of a torn tail" % torn
    return [decode_event(r) for r in records]


def points(events):
    """[(tag, step, value)] of the scalar events."""
    return [(tag, e["step"], value) for e in events for tag, value in e["values"]]

# ---------------------------------------------------------------------------------------------


class BoardTestCase(unittest.TestCase):
    """Each test gets a job dir of its own and a fresh draw_board file."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        env = mock.patch.dict(os.environ, {"PADDLE_CLOUD_JOB_DIR": self.tmp.name,   # and no server configured
                                           "PADDLECLOUD_CLI_CONFIG": os.path.join(self.tmp.name, "no-config")})
        env.start()
        self.addCleanup(env.stop)
        os.environ.pop("PADDLE_CLOUD_TOKEN", None)
        os.environ.pop("PADDLE_CLOUD_BOARD_LIMIT", None)
        board._close_default_board()
        self.addCleanup(board._close_default_board)

    def board_files(self):
        folder = os.path.join(self.tmp.name, "board")
        return sorted(os.path.join(folder, n) for n in os.listdir(folder)) if os.path.isdir(folder) else []

    def drawn(self):
        board.flush()
        files = self.board_files()
        self.assertEqual(len(files), 1, files)
        return read_events(files[0])

    def drawn_points(self):
        return points(self.drawn())


class CallSiteNamesTest(BoardTestCase):
    def test_positional_arguments_are_named_as_written(self):
        cost, evaluator = 2.5, 0.75
        draw_board(cost, evaluator)
        self.assertEqual(self.drawn_points(), [("cost, evaluator/cost", 0, 2.5),
                                               ("cost, evaluator/evaluator", 0, 0.75)])

    def test_expressions_keep_their_text(self):
        loss = 1.5
        draw_board(loss * 2)
        draw_board(loss+1)
        draw_board(abs(-loss))
        self.assertEqual([tag for tag, _, _ in self.drawn_points()],
                         ["loss * 2/loss * 2", "loss+1/loss+1", "abs(-loss)/abs(-loss)"])

    def test_multi_line_calls(self):
        train_cost, test_cost = 3.0, 4.0
        draw_board(
            train_cost,
            test_cost,
        )
        draw_board(train_cost
                   + test_cost)
        self.assertEqual([tag for tag, _, _ in self.drawn_points()],
                         ["train_cost, test_cost/train_cost", "train_cost, test_cost/test_cost",
                          "train_cost + test_cost/train_cost + test_cost"])

    def test_two_calls_on_one_line_are_told_apart(self):
        a, b = 1.0, 2.0
        draw_board(a); draw_board(b)  # noqa: E702
        self.assertEqual([tag for tag, _, _ in self.drawn_points()], ["a/a", "b/b"])

    def test_without_instruction_positions_the_call_on_the_line_is_found(self):
        # Python before 3.11 has no co_positions: the draw_board call on the current line is used.
        board._call_site_names.clear()
        board._call_sites.clear()
        with mock.patch.object(board, "_instruction_span", return_value=None):
            cost, evaluator = 1.0, 2.0
            draw_board(cost, evaluator)
            draw_board(
                cost * 3)
            draw_board(cost); draw_board(evaluator)  # noqa: E702  (ambiguous: named by fallback)
        self.assertEqual([tag for tag, _, _ in self.drawn_points()],
                         ["cost, evaluator/cost", "cost, evaluator/evaluator", "cost * 3/cost * 3",
                          "value0/value0", "value0/value0"])

    def test_keywords_title_and_module_attribute_calls(self):
        import paddlecloud
        paddlecloud.draw_board(loss=0.5, acc=0.25, title="train", step=7)
        self.assertEqual(self.drawn_points(), [("train/loss", 7, 0.5), ("train/acc", 7, 0.25)])

    def test_without_source_objects_with_a_name_use_it(self):
        class Variable:
            def __init__(self, name, value):
                self.name, self.value = name, value

            def item(self):
                return self.value

        code = compile("draw_board(v, 3.0)\ndraw_board(*[v])", "<no source>", "exec")
        exec(code, {"draw_board": draw_board, "v": Variable("mean_0.tmp_0", 1.0)})
        self.assertEqual([tag for tag, _, _ in self.drawn_points()],
                         ["mean_0.tmp_0, value1/mean_0.tmp_0", "mean_0.tmp_0, value1/value1",
                          "mean_0.tmp_0/mean_0.tmp_0"])

    def test_starred_arguments_fall_back(self):
        values = [1.0, 2.0]
        draw_board(*values)
        self.assertEqual([tag for tag, _, _ in self.drawn_points()],
                         ["value0, value1/value0", "value0, value1/value1"])

    def test_slash_and_percent_in_names_are_escaped(self):
        draw_board(**{"a/b%": 1.0}, title="x/y")
        (tag, _, _), = self.drawn_points()
        self.assertEqual(tag, "x%2Fy/a%2Fb%25")
        self.assertEqual(board.decode_tag(tag), ("x/y", "a/b%"))
        self.assertEqual(board.decode_tag("train/loss"), ("train", "loss"))
        self.assertEqual(board.decode_tag("loss"), ("loss", "loss"))
        self.assertEqual(board.decode_tag("100%2541/a"), ("100%41", "a"))


class ValuesTest(BoardTestCase):
    def test_steps_count_per_graph_and_follow_an_explicit_step(self):
        cost, acc = 1.0, 2.0
        for _ in range(3):
            draw_board(cost)
        draw_board(acc)
        draw_board(cost, step=10)
        draw_board(cost)
        draw_board(cost, step=-1)
        self.assertEqual([(tag, step) for tag, step, _ in self.drawn_points()],
                         [("cost/cost", 0), ("cost/cost", 1), ("cost/cost", 2), ("acc/acc", 0),
                          ("cost/cost", 10), ("cost/cost", 11), ("cost/cost", -1)])

    def test_steps_of_every_varint_length_and_single_values_out_of_float_range(self):
        steps = [0, 127, 128, 16383, 16384, 2097151, 2097152, 1 << 40, -1, -(1 << 62)]
        for step in steps:
            big = 1e39 if step % 2 else -1e39
            draw_board(big, step=step)
        self.assertEqual([(s, v) for _, s, v in self.drawn_points()],
                         [(s, math.inf if s % 2 else -math.inf) for s in steps])

    def test_calls_from_several_threads_keep_every_point_and_step(self):
        def draw():
            for _ in range(5000):
                draw_board(shared=0.5)

        threads = [threading.Thread(target=draw) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        steps = [step for _, step, _ in self.drawn_points()]
        self.assertEqual(sorted(steps), list(range(20000)))

    def test_wall_time_is_recorded_with_each_point(self):
        before = time.time()
        draw_board(x=1.0)
        after = time.time()
        events = self.drawn()
        self.assertEqual(events[0]["file_version"], "brain.Event:2")
        self.assertLessEqual(before, events[1]["wall_time"])
        self.assertLessEqual(events[1]["wall_time"], after)

    def test_nan_and_infinities_are_kept(self):
        draw_board(a=float("nan"), b=float("inf"), c=-float("inf"), d=1e39, e=True)
        values = [v for _, _, v in self.drawn_points()]
        self.assertTrue(math.isnan(values[0]))
        self.assertEqual(values[1:], [math.inf, -math.inf, math.inf, 1.0])

    def test_objects_with_item_or_numpy(self):
        class Tensor:
            def numpy(self):
                return Scalar()

        class Scalar:
            def item(self):
                return 0.5

        draw_board(t=Tensor(), s=Scalar())
        self.assertEqual([v for _, _, v in self.drawn_points()], [0.5, 0.5])

    @unittest.skipIf(np is None, "numpy is not installed")
    def test_numpy_scalars_and_one_element_arrays(self):
        draw_board(f=np.float32(0.25), i=np.int64(3), a=np.array([1.5]), m=np.array([[2.0]]))
        self.assertEqual([v for _, _, v in self.drawn_points()], [0.25, 3.0, 1.5, 2.0])
        with self.assertRaisesRegex(TypeError, "'vec'"):
            draw_board(vec=np.array([1.0, 2.0]))

    def test_non_numbers_raise_type_error_naming_the_curve(self):
        label = "high"
        with self.assertRaisesRegex(TypeError, "'label'.*str"):
            draw_board(label)
        with self.assertRaisesRegex(TypeError, "'z'"):
            draw_board(z=1j)
        with self.assertRaisesRegex(TypeError, "'n'"):
            draw_board(n=None)
        with self.assertRaisesRegex(TypeError, "step"):
            draw_board(x=1.0, step=1.5)
        board.flush()
        self.assertEqual(self.board_files(), [])   # nothing was drawn

    def test_bad_names_raise_value_error_naming_them(self):
        long_name = "x" * 257
        with self.assertRaisesRegex(ValueError, "curve name 'x{257}' is 257 bytes"):
            draw_board(**{long_name: 1.0})
        with self.assertRaisesRegex(ValueError, "graph name .* is 300 bytes"):
            draw_board(x=1.0, title="y" * 300)
        with self.assertRaisesRegex(ValueError, r"curve name 'a\\nb' contains the control character"):
            draw_board(**{"a\nb": 1.0})
        with self.assertRaisesRegex(ValueError, "graph name is empty"):
            draw_board(x=1.0, title="")
        with self.assertRaisesRegex(ValueError, "two curves are named 'x'"):
            x = 1.0
            draw_board(x, x)
        with self.assertRaisesRegex(ValueError, "at least one value"):
            draw_board()
        draw_board(**{"é" * 128: 1.0})   # 256 bytes of UTF-8 is allowed
        self.assertEqual(len(self.drawn_points()), 1)


class EventFileTest(BoardTestCase):
    def test_crc32c_check_values(self):
        self.assertEqual(board.crc32c(b"123456789"), 0xE3069283)
        self.assertEqual(board.crc32c(b""), 0)
        self.assertEqual(board.crc32c(bytes(32)), 0x8A9136AA)   # RFC 3720 B.4
        self.assertEqual(board.crc32c(b"\xff" * 32), 0x62A8AB43)
        data = bytes(range(256)) * 3
        self.assertEqual(board.crc32c(data), bitwise_crc32c(data))
        self.assertEqual(board.crc32c(data[100:], board.crc32c(data[:100])), bitwise_crc32c(data))

    def test_file_name_framing_and_first_record(self):
        with mock.patch.dict(os.environ, {"POD_NAME": "fit-7-trainer-0"}):
            cost = 1.25
            draw_board(cost)
            board.flush()
        (path,) = self.board_files()
        name = os.path.basename(path)
        prefix, pod, pid, n = name.rsplit(".", 3)
        self.assertRegex(prefix, r"^events\.out\.tfevents\.\d{10}$")
        self.assertEqual((pod, pid, n), ("fit-7-trainer-0", str(os.getpid()), "0"))
        events = read_events(path)
        self.assertEqual(events[0]["file_version"], "brain.Event:2")
        self.assertEqual(events[0]["values"], [])
        self.assertEqual(points(events[1:]), [("cost/cost", 0, 1.25)])

    def test_read_scalars_agrees_with_the_independent_decoder(self):
        draw_board(a=1.5, b=float("nan"), step=-3)
        draw_board(a=2.5, b=0.5)
        board.flush()
        (path,) = self.board_files()
        events = read_events(path)
        expected = [(tag, e["step"], e["wall_time"], v) for e in events for tag, v in e["values"]]
        actual = board.read_scalars(path)
        self.assertEqual(len(actual), 4)
        self.assertTrue(math.isnan(actual[1][3]))
        self.assertEqual([p[:3] for p in actual], [p[:3] for p in expected])
        self.assertEqual(actual[2:], expected[2:])
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:-5])              # a torn tail: the points before it still read
        self.assertEqual(len(board.read_scalars(path)), 2)

    def test_torn_tail_leaves_earlier_records_readable(self):
        for i in range(5):
            draw_board(metric=float(i))
        board.flush()
        (path,) = self.board_files()
        with open(path, "rb") as f:
            data = f.read()
        whole, _ = read_records(data)
        for cut in range(1, len(data) - len(data) // 2):   # every cut into the last records
            records, torn = read_records(data[:len(data) - cut])
            self.assertLess(len(records), len(whole))
            self.assertEqual(records, whole[:len(records)])
            self.assertGreaterEqual(len(records), 1)
        os.truncate(path, len(data) - 7)     # the last record loses its tail
        with open(path, "rb") as f:
            records, torn = read_records(f.read())
        self.assertEqual([decode_event(r)["values"] for r in records[1:]],
                         [[("metric/metric", float(i))] for i in range(4)])
        self.assertGreater(torn, 0)

    def test_many_calls_take_few_writes(self):
        real_write = os.write
        writes = []

        def counting_write(fd, data):
            writes.append(len(data))
            return real_write(fd, data)

        loss = 0.5
        started = time.monotonic()
        with mock.patch.object(board.os, "write", counting_write):
            for i in range(20000):
                draw_board(loss)
            board.flush()
        elapsed = time.monotonic() - started
        self.assertEqual(len(points(self.drawn())), 20000)
        # One write per timed flush (each second) and one for this flush(), however loaded the machine.
        self.assertLessEqual(len(writes), 2 + math.ceil(elapsed / board.FLUSH_INTERVAL_S), elapsed)
        self.assertTrue(any(t.name == "paddlecloud-board" and t.daemon for t in threading.enumerate()))

    def test_background_thread_writes_within_a_second_or_so(self):
        draw_board(x=1.0)
        deadline = time.monotonic() + 5
        files = []
        while time.monotonic() < deadline:
            files = self.board_files()
            if files and len(points(read_events(files[0]))) == 1:
                break
            time.sleep(0.05)    # polling the file, not synchronising with the thread
        self.assertEqual(len(points(read_events(files[0]))), 1)

    def test_a_full_buffer_is_written_by_the_caller(self):
        with mock.patch.object(board, "MAX_BUFFERED_POINTS", 100), \
                mock.patch.object(board, "_flush_all"):     # no timed flush: only the caller writes
            for i in range(101):
                draw_board(x=float(i))
            files = self.board_files()
            self.assertEqual(len(files), 1)
            self.assertEqual(len(points(read_events(files[0]))), 101)

    def test_size_cap_drops_later_points_with_one_warning(self):
        os.environ["PADDLE_CLOUD_BOARD_LIMIT"] = "1000"
        board._close_default_board()
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            for i in range(100):
                draw_board(y=float(i))
                if i % 10 == 0:
                    board.flush()
            board.flush()
        (path,) = self.board_files()
        self.assertLessEqual(os.path.getsize(path), 1000)
        kept = points(read_events(path))
        self.assertGreater(len(kept), 10)
        self.assertEqual([v for _, _, v in kept], [float(i) for i in range(len(kept))])
        self.assertEqual(stderr.getvalue().count("PADDLE_CLOUD_BOARD_LIMIT"), 1, stderr.getvalue())
        self.assertIn(path, stderr.getvalue())

    @unittest.skipUnless(hasattr(os, "fork"), "needs fork")
    def test_a_forked_child_writes_a_file_of_its_own(self):
        draw_board(parent=1.0)                  # buffered in the parent at the fork
        pid = os.fork()
        if pid == 0:
            try:
                draw_board(child=2.0)
                board.flush()
            finally:
                os._exit(0)
        self.assertEqual(os.waitpid(pid, 0)[1], 0)
        board.flush()
        by_file = sorted(points(read_events(path)) for path in self.board_files())
        self.assertEqual(by_file, [[("child/child", 0, 2.0)], [("parent/parent", 0, 1.0)]])

    def test_outside_a_job_points_go_to_the_working_directory(self):
        del os.environ["PADDLE_CLOUD_JOB_DIR"]
        cwd = os.getcwd()
        os.chdir(self.tmp.name)
        self.addCleanup(os.chdir, cwd)
        board._close_default_board()
        draw_board(z=1.0)
        self.assertEqual(len(self.drawn_points()), 1)


class LogWriterTest(BoardTestCase):
    def test_round_trip(self):
        logdir = os.path.join(self.tmp.name, "vdl")
        with LogWriter(logdir=logdir) as writer:
            writer.add_scalar("train/loss", 2.0, 0)
            writer.add_scalar("train/loss", float("nan"), 1, walltime=1700000000.5)
            writer.add_scalar("acc", 0.5, step=2, walltime=1700000001250)    # VisualDL's milliseconds
            writer.flush()
            self.assertTrue(writer.file_name.startswith(os.path.join(logdir, "events.out.tfevents.")))
        events = read_events(writer.file_name)
        self.assertEqual(events[0]["file_version"], "brain.Event:2")
        tags_steps = [(tag, step) for tag, step, _ in points(events)]
        self.assertEqual(tags_steps, [("train/loss", 0), ("train/loss", 1), ("acc", 2)])
        self.assertTrue(math.isnan(points(events)[1][2]))
        self.assertEqual([e["wall_time"] for e in events[2:]], [1700000000.5, 1700000001.25])
        with self.assertRaises(ValueError):
            writer.add_scalar("late", 1.0, 3)

    def test_default_logdir_is_the_job_board_folder_and_bad_input_is_refused(self):
        writer = LogWriter()
        self.addCleanup(writer.close)
        self.assertEqual(writer.logdir, os.path.join(self.tmp.name, "board"))
        with self.assertRaisesRegex(TypeError, "'loss'"):
            writer.add_scalar("loss", "x", 0)
        with self.assertRaisesRegex(ValueError, "tag name"):
            writer.add_scalar("a\tb", 1.0, 0)
        writer.add_scalar("loss", 1.0, 0)
        writer.close()
        self.assertEqual(points(read_events(writer.file_name)), [("loss", 0, 1.0)])


if __name__ == "__main__":
    unittest.main()
