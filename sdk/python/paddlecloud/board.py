"""Paddle Board from training code: `draw_board(...)` and a VisualDL-style `LogWriter`.

    from paddlecloud import draw_board
    draw_board(cost, evaluator)          # graph "cost, evaluator", curves "cost" and "evaluator"
    draw_board(my_metric)                # graph "my_metric"
    draw_board(loss=l, acc=a, title="train", step=i)

    from paddlecloud.board import LogWriter
    with LogWriter() as writer:          # VisualDL's signature
        writer.add_scalar("train/loss", loss, step)

Inside a job (PADDLE_CLOUD_JOB_DIR is set) points go to TensorBoard event files under
$PADDLE_CLOUD_JOB_DIR/board/, one file per process, which the server reads for the job's board and
TensorBoard opens as they are. Outside a job, with a server configured (PADDLE_CLOUD_URL and
PADDLE_CLOUD_TOKEN, or `paddlecloud login`), draw_board records to a standalone run through the API
(named by board_run("name"), else after the notebook or script and the time); without a server, to
./board/. The file format, the names, the runs and the limits are docs/board.md.

A call only appends to an in-memory buffer; a background thread writes the buffer in batches at least
every second, on flush() and at exit. Standard library only, so it imports in any pod or notebook.
"""
import array
import ast
import atexit
import collections
import http.client
import itertools
import linecache
import math
import numbers
import operator
import os
import socket
import struct
import sys
import threading
import time
import unicodedata

__all__ = ["LogWriter", "board_run", "draw_board", "flush", "crc32c", "encode_tag", "decode_tag", "read_scalars"]

MAX_NAME_BYTES = 256
FLUSH_INTERVAL_S = 1.0
MAX_BUFFERED_POINTS = 100_000           # beyond this the caller writes the buffer itself
DEFAULT_FILE_LIMIT = 1 << 30            # PADDLE_CLOUD_BOARD_LIMIT, bytes per file
FILE_VERSION = b"brain.Event:2"
_FLT_MAX = 3.4028234663852886e38
_MS_THRESHOLD = 1e11                    # a LogWriter walltime above this is in milliseconds (VisualDL)

# ---------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table driven, and TFRecord framing
# ---------------------------------------------------------------------------------------------


def _byte_table():
    byte = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        byte.append(c)
    return tuple(byte)


_CRC_BYTE = _byte_table()
_crc_word_tables = None     # built on first use (about 60 ms), usually by the writer thread


def _word_tables(byte=_CRC_BYTE):
    """Two 16-bit tables that take four bytes per step, as the loop is pure Python."""
    global _crc_word_tables
    if _crc_word_tables is not None:
        return _crc_word_tables
    shifted = [(c >> 8) ^ byte[c & 0xFF] for c in byte]                   # a byte, then a zero byte
    last_two = [shifted[v & 0xFF] ^ byte[v >> 8] for v in range(65536)]    # two bytes
    first_two = [last_two[c & 0xFFFF] ^ (c >> 16) for c in last_two]      # two bytes, then two zeros
    # Arrays of 32-bit words (256 KiB each) rather than lists of int objects (2.5 MiB each): a
    # lookup that misses the CPU caches costs more than the int an array lookup creates.
    _crc_word_tables = (array.array("I", first_two), array.array("I", last_two))
    return _crc_word_tables


_unpack_words = {}          # n -> struct.Struct("<nI").unpack_from


def _word_unpacker(words):
    unpack = _unpack_words[words] = struct.Struct("<%dI" % words).unpack_from
    return unpack


def crc32c(data, crc=0):
    """CRC-32C of `data` (bytes), continuing from `crc`. crc32c(b"123456789") == 0xE3069283."""
    crc ^= 0xFFFFFFFF
    words = len(data) >> 2
    if words:
        first, last = _crc_word_tables or _word_tables()
        for word in (_unpack_words.get(words) or _word_unpacker(words))(data):
            x = crc ^ word
            crc = first[x & 0xFFFF] ^ last[x >> 16]
    table = _CRC_BYTE
    for byte in data[4 * words:]:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


_pack_u32 = struct.Struct("<I").pack
_record_headers = {}        # data length -> the record's length and its masked CRC


def _record_header(size):
    header = _record_headers.get(size)
    if header is None:
        length = struct.pack("<Q", size)
        header = _record_headers[size] = length + _pack_u32(_masked_crc(length))
    return header


def _tfrecord(data):
    return _record_header(len(data)) + data + _pack_u32(_masked_crc(data))

# ---------------------------------------------------------------------------------------------
# Protobuf wire format of exactly the messages written: Event, Summary, Summary.Value
# ---------------------------------------------------------------------------------------------


_SMALL_VARINTS = tuple(bytes((n,)) for n in range(0x80))
_pack_u16 = struct.Struct("<H").pack
_pack_u16_u8 = struct.Struct("<HB").pack


def _varint(value):
    if 0 <= value < 0x80:
        return _SMALL_VARINTS[value]
    if 0 <= value < 0x4000:
        return _pack_u16((value & 0x7F) | 0x80 | (value >> 7) << 8)
    if 0 <= value < 0x200000:
        return _pack_u16_u8((value & 0x7F) | 0x80 | ((value >> 7) & 0x7F | 0x80) << 8, value >> 14)
    value &= 0xFFFFFFFFFFFFFFFF         # int64 as protobuf does: negative numbers take ten bytes
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(key, payload):
    return key + _varint(len(payload)) + payload


def _float32_range(value):
    # Summary.Value.simple_value is a float: magnitudes beyond its range become infinities.
    if isinstance(value, tuple):
        return tuple(map(_float32_range, value))
    if math.isfinite(value) and abs(value) > _FLT_MAX:
        return math.copysign(math.inf, value)
    return value


class _Template:
    """The records of one list of tags: Event{summary: 5 {value: 1 {tag: 1, simple_value: 2}...},
    wall_time: 1, step: 2}, one per call. The summary comes first (protobuf fields may come in any
    order), so the bytes up to the first value are the same in every record: they are encoded and
    checksummed once, and a record costs one struct.pack and four or five steps of the CRC."""

    __slots__ = ("tags", "_constants", "_head", "_pack1", "_pack2", "_pack3", "_head_registers", "_head_size")

    def __init__(self, tags):
        self.tags = tags
        # Each Summary.Value is constant bytes and then the 4 bytes of its simple_value.
        values = [b"\x0a" + _varint(len(tag)) + tag + b"\x15" for tag in tags]
        entries = [b"\x0a" + _varint(len(v) + 4) + v for v in values]
        summary_size = sum(len(e) + 4 for e in entries)
        self._constants = [b"\x2a" + _varint(summary_size) + entries[0]] + entries[1:]
        self._head = self._constants[0]
        # summary, wall_time, step as a varint of 1, 2 or 3 bytes (steps below 2**21)
        summary = "<" + "".join("%dsf" % len(c) for c in self._constants) + "BdB"
        self._pack1, self._pack2, self._pack3 = (struct.Struct(summary + step).pack for step in ("B", "H", "HB"))
        self._head_size = len(self._head)
        # The CRC register after all but the last j bytes of the head (j < 4): the rest of a record
        # is checksummed from there in whole 4-byte words.
        self._head_registers = [crc32c(self._head[:self._head_size - j]) ^ 0xFFFFFFFF for j in range(4)]

    def record(self, wall_time, step, value):
        """The TFRecord of one event; `value` is a float for one tag, a tuple of floats for several."""
        try:
            if type(value) is float:
                if 0 <= step < 0x80:
                    data = self._pack1(self._head, value, 0x09, wall_time, 0x10, step)
                elif 0 <= step < 0x4000:
                    data = self._pack2(self._head, value, 0x09, wall_time, 0x10, (step & 0x7F) | 0x80 | (step >> 7) << 8)
                elif 0 <= step < 0x200000:
                    data = self._pack3(self._head, value, 0x09, wall_time, 0x10,
                                       (step & 0x7F) | 0x80 | ((step >> 7) & 0x7F | 0x80) << 8, step >> 14)
                else:
                    data = self._pack1(self._head, value, 0x09, wall_time, 0x10, 0)[:-1] + _varint(step)
            else:
                data = self._pack1(*[x for pair in zip(self._constants, value) for x in pair], 0x09, wall_time, 0x10,
                                   0)[:-1] + _varint(step)
        except OverflowError:
            return self.record(wall_time, step, _float32_range(value))
        size = len(data)
        back = (self._head_size - size) & 3
        crc = self._head_registers[back]
        first, last = _crc_word_tables
        for word in (_unpack_words.get((size - self._head_size + back) >> 2)
                     or _word_unpacker((size - self._head_size + back) >> 2))(data, self._head_size - back):
            x = crc ^ word
            crc = first[x & 0xFFFF] ^ last[x >> 16]
        crc ^= 0xFFFFFFFF
        return ((_record_headers.get(size) or _record_header(size)) + data
                + _pack_u32((((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF))


# Buffered points name their template by its number: a tuple of numbers only is left alone by the
# garbage collector, so a long buffer does not make every collection longer.
_templates = []         # template number -> _Template
_template_numbers = {}  # tuple of tags (UTF-8) -> template number


def _template_number(tags):
    number = _template_numbers.get(tags)
    if number is None:
        _templates.append(_Template(tags))
        number = _template_numbers[tags] = len(_templates) - 1
    return number


def _file_version_event(wall_time):
    return b"\x09" + struct.pack("<d", wall_time) + _length_delimited(b"\x1a", FILE_VERSION)

def _wire_fields(message):
    """(field number, value) of a protobuf message: an int for a varint, bytes for the rest."""
    pos = 0
    while pos < len(message):
        key, pos = _read_varint(message, pos)
        wire_type = key & 7
        if wire_type == 0:
            value, pos = _read_varint(message, pos)
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            value, pos = message[pos:pos + size], pos + size
        elif wire_type == 2:
            size, pos = _read_varint(message, pos)
            value, pos = message[pos:pos + size], pos + size
        else:
            raise ValueError("unsupported wire type %d" % wire_type)
        if pos > len(message):
            raise ValueError("truncated field")
        yield key >> 3, value


def _read_varint(data, pos):
    result = shift = 0
    while pos < len(data) and shift < 70:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos
    raise ValueError("truncated varint")


def read_scalars(path):
    """The simple_value points of a TensorBoard event file, such as those draw_board writes:
    [(tag, step, wall_time, value)] in file order. Reading stops at a torn or corrupt record."""
    with open(path, "rb") as f:
        data = f.read()
    out, pos = [], 0
    while pos + 12 <= len(data):
        length_bytes = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", length_bytes)
        end = pos + 12 + length + 4
        if struct.unpack("<I", data[pos + 8:pos + 12])[0] != _masked_crc(length_bytes) or end > len(data):
            break
        record = data[pos + 12:end - 4]
        if struct.unpack("<I", data[end - 4:end])[0] != _masked_crc(record):
            break
        pos = end
        try:
            out.extend(_event_scalars(record))
        except (ValueError, TypeError, struct.error):
            continue        # a well-framed record that is not an Event of scalars
    return out


def _event_scalars(record):
    wall_time, step, values = 0.0, 0, []
    for number, value in _wire_fields(record):
        if number == 1:
            (wall_time,) = struct.unpack("<d", value)
        elif number == 2:
            step = value - (1 << 64) if value >> 63 else value
        elif number == 5:
            for _, entry in _wire_fields(value):
                entry = dict(_wire_fields(entry))
                if 2 in entry:
                    values.append((entry.get(1, b"").decode("utf-8"), struct.unpack("<f", entry[2])[0]))
    return [(tag, step, wall_time, v) for tag, v in values]

# ---------------------------------------------------------------------------------------------
# Names, tags and values
# ---------------------------------------------------------------------------------------------


def _escape(name):
    return name.replace("%", "%25").replace("/", "%2F")


def _unescape(text):
    out, i = [], 0
    while i < len(text):
        code = text[i + 1:i + 3].upper() if text[i] == "%" else ""
        if code in ("25", "2F"):
            out.append("%" if code == "25" else "/")
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def encode_tag(graph, curve):
    """The event file tag of a curve of a graph: "<graph>/<curve>", "%" and "/" percent-encoded in both."""
    return _escape(graph) + "/" + _escape(curve)


def decode_tag(tag):
    """(graph, curve) of a tag: split at the first "/", "%25" and "%2F" decoded in each part. A tag
    without "/" is a graph of one curve of the same name (how tags of other writers are read)."""
    graph, sep, curve = tag.partition("/")
    if not sep:
        return _unescape(tag), _unescape(tag)
    return _unescape(graph), _unescape(curve)


def _check_name(name, what):
    if not isinstance(name, str):
        raise TypeError("%s name must be a string, got %s" % (what, type(name).__name__))
    if not name:
        raise ValueError("%s name is empty" % what)
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("%s name %r is not valid Unicode text" % (what, name)) from None
    if size > MAX_NAME_BYTES:
        raise ValueError("%s name %r is %d bytes long; at most %d are allowed (title= names a graph)"
                         % (what, name, size, MAX_NAME_BYTES))
    for ch in name:
        if unicodedata.category(ch) == "Cc":
            raise ValueError("%s name %r contains the control character %r" % (what, name, ch))


def _to_float(value, curve):
    """The value as a float. Python numbers, numpy scalars, 1-element arrays, anything with .item()
    or .numpy() (a Paddle or torch tensor); NaN and infinities are kept."""
    if type(value) is float or type(value) is int:
        return float(value)
    for _ in range(3):
        if isinstance(value, numbers.Real):
            return float(value)
        try:
            if hasattr(value, "item"):
                value = value.item()
                continue
            if hasattr(value, "numpy"):
                value = value.numpy()
                continue
        except (TypeError, ValueError) as e:
            raise TypeError("draw_board: the value of %r is not a number: %s" % (curve, e)) from None
        break
    raise TypeError("draw_board: the value of %r is %s, not a number (an int, a float, a numpy scalar, a "
                    "1-element array or tensor)" % (curve, type(value).__name__))


def _to_step(step, what):
    try:
        return operator.index(step)
    except TypeError:
        raise TypeError("%s: step must be an integer, got %r" % (what, step)) from None

# ---------------------------------------------------------------------------------------------
# Event files: buffered, written in batches by one background thread per process
# ---------------------------------------------------------------------------------------------


def _file_limit():
    text = os.environ.get("PADDLE_CLOUD_BOARD_LIMIT", "").strip()
    if not text:
        return DEFAULT_FILE_LIMIT
    try:
        limit = int(text)
        if limit > 0:
            return limit
    except ValueError:
        pass
    sys.stderr.write("paddlecloud.board: PADDLE_CLOUD_BOARD_LIMIT=%r is not a positive number of bytes; "
                     "using %d\n" % (text, DEFAULT_FILE_LIMIT))
    return DEFAULT_FILE_LIMIT


def _writer_name():
    """<pod name or hostname>: a pod's hostname is its name; "/" and control characters never reach a file name."""
    name = os.environ.get("POD_NAME", "").strip() or socket.gethostname() or "localhost"
    return "".join(c if c.isprintable() and c not in "/\\" else "_" for c in name)


def default_board_dir():
    """$PADDLE_CLOUD_JOB_DIR/board inside a job, else ./board."""
    job_dir = os.environ.get("PADDLE_CLOUD_JOB_DIR", "").strip()
    return os.path.join(job_dir, "board") if job_dir else os.path.abspath("board")


class _EventFile:
    """One event file of this process: events.out.tfevents.<unix seconds>.<pod>.<pid>.<n>, created on
    the first write with O_EXCL (n counts up past a name that exists). Calls append (template number,
    wall_time, step, value) to `queue`, a deque (appending needs no lock), until flush() encodes them
    and writes them with one write call."""

    def __init__(self, directory):
        self.directory = directory
        self.path = None
        self._limit = _file_limit()
        self._init_state()
        _registry.add(self)

    def _init_state(self):
        self._io_lock = threading.Lock()    # the file: one flush at a time, so batches stay in order
        self.queue = collections.deque()
        self._fd = None
        self._size = 0
        self._capped = False
        self._stopped = False

    def after_fork_in_child(self):
        # The parent writes what it buffered; the child gets its own file on its first write.
        if self._fd is not None:
            os.close(self._fd)
        self.path = None
        self._init_state()

    def append(self, template, wall_time, step, value):
        queue = self.queue
        queue.append((template, wall_time, step, value))
        if not _flusher_started:
            _start_flusher()
        if len(queue) > MAX_BUFFERED_POINTS:
            self.flush()

    def overfull(self):
        """A caller found more than MAX_BUFFERED_POINTS records waiting: it writes them itself."""
        self.flush()

    def flush(self, timed=False):
        with self._io_lock:
            queue = self.queue
            batch = [queue.popleft() for _ in range(len(queue))]    # what later calls append waits
            if batch and not self._stopped:
                self._write(batch)

    def close(self):
        self.flush()
        with self._io_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._stopped = True     # nothing more is written once closed
        _registry.discard(self)

    def _write(self, batch):
        records = []
        if self._fd is None:
            try:
                self._open()
            except OSError as e:
                return self._fail("cannot create an event file in %s: %s" % (self.directory, e))
            records.append(_tfrecord(_file_version_event(time.time())))
        if not self._capped:
            room = self._limit - self._size - sum(map(len, records))
            append = records.append
            templates = _templates
            for template, wall_time, step, value in batch:
                record = templates[template].record(wall_time, step, value)
                room -= len(record)
                if room < 0:
                    self._capped = True
                    sys.stderr.write("paddlecloud.board: %s reached PADDLE_CLOUD_BOARD_LIMIT (%d bytes); "
                                     "later points of this file are dropped\n" % (self.path, self._limit))
                    break
                append(record)
        view = memoryview(b"".join(records))
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
                self._size += written
        except OSError as e:
            self._fail("cannot write %s: %s" % (self.path, e))

    def _open(self):
        os.makedirs(self.directory, exist_ok=True)
        stem = "events.out.tfevents.%d.%s.%d" % (int(time.time()), _writer_name(), os.getpid())
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        for n in range(1000):
            path = os.path.join(self.directory, "%s.%d" % (stem, n))
            try:
                self._fd = os.open(path, flags, 0o644)
            except FileExistsError:
                continue
            self.path = path
            return
        raise OSError("no free event file name %s.N" % stem)

    def _fail(self, message):
        # Training goes on without its board rather than stopping on a full disk.
        self._stopped = True
        sys.stderr.write("paddlecloud.board: %s; later points of this file are dropped\n" % message)


_registry = set()   # open event files and runs: the writer thread and exit flush them, closing removes them
_flusher_lock = threading.Lock()
_flusher_wake = threading.Event()
_flusher_started = False


def _flush_all(timed=False):
    """Writes (or sends) what every event file and run has buffered; `timed`: the writer thread's
    flush each second, after which a run sends at most one request."""
    for sink in list(_registry):
        sink.flush(timed)


def _flusher_loop():
    while True:
        _flusher_wake.wait(FLUSH_INTERVAL_S)
        _flusher_wake.clear()
        try:
            _flush_all(timed=True)
        except Exception as e:      # the writer thread outlives any one failure: the next second tries again
            sys.stderr.write("paddlecloud.board: writing the buffered points failed: %r\n" % e)


def _start_flusher():
    global _flusher_started
    if _flusher_started:
        return
    with _flusher_lock:
        if not _flusher_started:
            threading.Thread(target=_flusher_loop, name="paddlecloud-board", daemon=True).start()
            _flusher_started = True


def flush():
    """Writes every point buffered so far by draw_board and the LogWriters of this process (and sends
    those of a standalone run to the server)."""
    _flush_all()


def _after_fork_in_child():
    global _flusher_started, _flusher_lock, _board
    _flusher_started = False
    _flusher_lock = threading.Lock()
    for event_file in list(_registry):
        event_file.after_fork_in_child()
    _board = None


def _close_all():
    """At exit: every event file and run writes or sends what it holds (a run says what it could not)."""
    for sink in list(_registry):
        sink.close()


atexit.register(_close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

# ---------------------------------------------------------------------------------------------
# Standalone runs: outside a job, with a server configured, draw_board records through the API
# ---------------------------------------------------------------------------------------------

MAX_POINTS_PER_REQUEST = 10_000     # the API's limit
MAX_PENDING_POINTS = 1_000_000      # waiting for the server; later points are dropped beyond it
REQUEST_TIMEOUT_S = 10.0
MAX_RUN_NAME_BYTES = 128


class _RunUploader:
    """draw_board's points for a standalone run, with the queue of an _EventFile. Each flush moves the
    queue into `_pending` (at most MAX_PENDING_POINTS; later points are dropped with one line on
    stderr). The writer thread's flush, once a second, sends one request of at most
    MAX_POINTS_PER_REQUEST points; flush(), close() and exit send everything. A request that fails
    for the network or the server (5xx, 408, 429) leaves its points pending for the next flush; one
    the server refuses (another 4xx) drops them. The run is created on the first request, its name
    followed by -2, -3... while it clashes with another run of the account."""

    def __init__(self, client, name, run=None):
        self.client = client
        self.name = name
        self.run = run              # the API's run object once created
        self._init_state()
        _registry.add(self)

    def _init_state(self):
        self._send_lock = threading.Lock()      # one request at a time
        self._pending_lock = threading.Lock()   # `_pending`: never held during a request
        self.queue = collections.deque()
        self._pending = collections.deque()     # point objects of the API, oldest first
        self._names = {}                        # template number -> [(graph, curve)]
        self._dropped = 0
        self._failing = False                   # the last request failed: reported once
        self._stopped = False

    def after_fork_in_child(self):
        self._init_state()      # the parent sends what it buffered

    def overfull(self):
        with self._pending_lock:    # a slow server never holds up the caller
            self._take_queue()

    def flush(self, timed=False):
        with self._send_lock:
            while self._send_one() and not timed:
                pass

    def close(self):
        self.flush()
        with self._send_lock, self._pending_lock:
            if self._pending:
                sys.stderr.write("paddlecloud.board: %d points of the run %r were not sent to %s\n"
                                 % (len(self._pending), self.name, self.client.server))
            self._stopped = True
        _registry.discard(self)

    def _take_queue(self):
        queue, pending, names_of = self.queue, self._pending, self._names
        if self._stopped:
            queue.clear()
            return
        for _ in range(len(queue)):
            template, wall_time, step, value = queue.popleft()
            names = names_of.get(template)
            if names is None:
                names = names_of[template] = [decode_tag(t.decode("utf-8")) for t in _templates[template].tags]
            for (graph, curve), number in zip(names, (value,) if type(value) is float else value):
                if len(pending) >= MAX_PENDING_POINTS:
                    if not self._dropped:
                        sys.stderr.write("paddlecloud.board: %d points of the run %r wait for %s; later points "
                                         "are dropped\n" % (MAX_PENDING_POINTS, self.name, self.client.server))
                    self._dropped += 1
                    continue
                pending.append({"graph": graph, "curve": curve, "step": step, "wall_time": wall_time,
                                "value": number if math.isfinite(number) else _JSON_NUMBERS[str(number)]})

    def _send_one(self):
        """Sends the oldest pending points (at most MAX_POINTS_PER_REQUEST); False when there were none
        or the server could not take them now. Called with `_send_lock` held."""
        from .client import ApiError
        with self._pending_lock:
            self._take_queue()
            count = min(len(self._pending), MAX_POINTS_PER_REQUEST)
            points = list(itertools.islice(self._pending, count))   # only this thread removes points
        if not count:
            return False
        try:
            if self.run is None:
                self.run = _create_run(self.client, self.name, retry_names=True)
                self.name = self.run["name"]
            self.client.request("POST", "/api/v1/board/runs/%d/points" % self.run["id"], {"points": points})
        except (ApiError, OSError, http.client.HTTPException) as e:    # the connection can fail mid-answer
            if not isinstance(e, ApiError) or e.status in (0, 408, 429) or e.status >= 500:
                if not self._failing:
                    sys.stderr.write("paddlecloud.board: the points of the run %r wait: %s\n" % (self.name, e))
                self._failing = True
                return False
            if self.run is None:
                sys.stderr.write("paddlecloud.board: cannot create the run %r: %s; its points are dropped\n"
                                 % (self.name, e))
                with self._pending_lock:
                    self._stopped = True
                    self._pending.clear()
                return False
            sys.stderr.write("paddlecloud.board: the server refused %d points of the run %r: %s\n"
                             % (count, self.name, e))
        self._failing = False
        with self._pending_lock:
            for _ in range(count):
                self._pending.popleft()
        return True


_JSON_NUMBERS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}   # how the API writes them


def _check_run_name(name):
    if not isinstance(name, str):
        raise TypeError("a run name must be a string, got %s" % type(name).__name__)
    size = len(name.encode("utf-8", "surrogatepass"))
    if not 1 <= size <= MAX_RUN_NAME_BYTES or "/" in name or any(unicodedata.category(c) == "Cc" for c in name):
        raise ValueError("run name %r must be 1 to %d bytes of text without '/' or control characters"
                         % (name, MAX_RUN_NAME_BYTES))


def _default_run_name():
    """<notebook or script>-<local time>: the notebook's name where Jupyter tells it, else the script's."""
    source = os.environ.get("JPY_SESSION_NAME") or (sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c") else "")
    stem = os.path.splitext(os.path.basename(source))[0] or "python"
    stem = "".join(c if c.isprintable() and c != "/" else "_" for c in stem)[:100]
    return "%s-%s" % (stem, time.strftime("%Y%m%d-%H%M%S"))


def _create_run(client, name, retry_names=False):
    """POST /board/runs; with retry_names, a name that clashes gets -2, -3... appended."""
    from .client import ApiError
    for n in range(1, 100):
        try:
            return client.request("POST", "/api/v1/board/runs", {"name": name if n == 1 else "%s-%d" % (name, n)})
        except ApiError as e:
            if not (retry_names and e.status == 409):
                raise
    raise ValueError("no free run name %s-N" % name)


def _configured_client():
    """A Client when a server and a token are configured (environment or `paddlecloud login`), else None."""
    from .client import Client
    try:
        client = Client(timeout=REQUEST_TIMEOUT_S)
    except (OSError, ValueError) as e:
        sys.stderr.write("paddlecloud.board: the SDK's settings cannot be read (%s); points go to ./board/\n" % e)
        return None
    return client if client.token else None


def _default_sink():
    """Inside a job its board folder; outside, a standalone run when a server is configured, else ./board."""
    if not os.environ.get("PADDLE_CLOUD_JOB_DIR", "").strip():
        client = _configured_client()
        if client is not None:
            return _RunUploader(client, _default_run_name())
    return _EventFile(default_board_dir())


def board_run(name=None, client=None):
    """Records this process's draw_board points in a new standalone run of the Paddle Board, named
    `name` (default: the notebook's or script's name and the time), through the API of the configured
    server (PADDLE_CLOUD_URL and PADDLE_CLOUD_TOKEN, or `paddlecloud login`; or `client`). Creates the
    run now and returns it as the API describes it ({"id", "source", "name", "created_at"}); the points
    drawn after it go to it, sent in batches by the writer thread. Raises ValueError for a bad name or
    when no server is configured, ApiError when the server refuses (409 for a name the account uses).
    """
    name = _default_run_name() if name is None else name
    _check_run_name(name)
    client = client or _configured_client()
    if client is None:
        raise ValueError("board_run needs a PaddleCloud server: set PADDLE_CLOUD_URL and PADDLE_CLOUD_TOKEN, "
                         "or run `paddlecloud login`")
    run = _create_run(client, name)
    global _board
    with _board_lock:
        previous, _board = _board, _Board(_RunUploader(client, run["name"], run))
    if previous is not None:
        previous.sink.close()
    return run

# ---------------------------------------------------------------------------------------------
# Call-site names: the source text of each positional argument of a draw_board(...) call
# ---------------------------------------------------------------------------------------------

_parsed_sources = {}     # filename -> (source text, [ast.Call]) or None
_call_site_names = {}    # (code, instruction offset) -> [name] or None


def _calls_in(filename):
    if filename not in _parsed_sources:
        source = "".join(linecache.getlines(filename))
        try:
            tree = ast.parse(source) if source else None
        except (SyntaxError, ValueError):
            tree = None
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)] if tree else []
        _parsed_sources[filename] = (source, calls) if calls else None
    return _parsed_sources[filename]


def _instruction_span(code, offset):
    positions = getattr(code, "co_positions", None)     # Python 3.11+
    if positions is None:
        return None
    for index, span in enumerate(positions()):
        if index == offset // 2:
            return span
    return None


def _func_name(call):
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _find_call(frame, positional):
    parsed = _calls_in(frame.f_code.co_filename)
    if parsed is None:
        return None, None
    source, calls = parsed
    span = _instruction_span(frame.f_code, frame.f_lasti)
    if span and None not in span:
        exact = [c for c in calls if (c.lineno, c.end_lineno, c.col_offset, c.end_col_offset) == span]
        if len(exact) == 1:
            return source, exact[0]
    line = frame.f_lineno
    near = [c for c in calls if c.lineno <= line <= c.end_lineno and _func_name(c) == "draw_board"
            and len(c.args) == positional]
    return (source, near[0]) if len(near) == 1 else (None, None)


def _argument_text(source, node):
    text = ast.get_source_segment(source, node) or ""
    if "\n" not in text:
        return text
    return ast.unparse(node) if hasattr(ast, "unparse") else " ".join(text.split())   # 3.9+, else 3.8


def _source_names(frame, positional):
    key = (frame.f_code, frame.f_lasti)
    if key not in _call_site_names:
        names = None
        source, call = _find_call(frame, positional)
        if call is not None and len(call.args) == positional \
                and not any(isinstance(a, ast.Starred) for a in call.args):
            names = [_argument_text(source, a) for a in call.args]
        _call_site_names[key] = names
    return _call_site_names[key]


def _positional_names(frame, values):
    names = _source_names(frame, len(values)) if values else []
    if names is not None:
        return names
    fallback = []
    for i, value in enumerate(values):
        name = getattr(value, "name", None)
        fallback.append(name if isinstance(name, str) and name else "value%d" % i)
    return fallback

# ---------------------------------------------------------------------------------------------
# draw_board and LogWriter
# ---------------------------------------------------------------------------------------------


class _Board:
    """What draw_board writes to in this process: one event file or standalone run, and a step
    counter per graph."""

    def __init__(self, sink):
        self.sink = sink        # an _EventFile or a _RunUploader
        self.counters = {}      # graph -> [itertools.count]: next() is atomic, an explicit step replaces it


_board = None
_board_lock = threading.Lock()


def _default_board():
    global _board
    board = _board
    if board is None:
        with _board_lock:
            if _board is None:
                _board = _Board(_default_sink())
            board = _board
    return board


def _close_default_board():
    """Writes and closes draw_board's file; the next call opens a new one (tests, notebooks)."""
    global _board
    with _board_lock:
        board, _board = _board, None
    if board is not None:
        board.sink.close()


def draw_board(*values, title=None, step=None, **named):
    """Appends one point per curve to a graph of the Paddle Board.

    draw_board(cost, evaluator) draws the graph "cost, evaluator" with the curves "cost" and
    "evaluator": a positional argument is named by its text at the call site (`draw_board(loss * 2)`
    draws "loss * 2"); where the source cannot be read, by its `.name` (Paddle variables), else
    "value<i>". Keyword arguments name their curve: draw_board(loss=l, acc=a). `title` names the graph
    (default: the curve names joined by ", "); `step` defaults to a counter per graph starting at 0.

    Values: Python numbers, numpy scalars or 1-element arrays, anything with .item() or .numpy(). NaN
    and infinities are kept. Anything else raises TypeError naming the curve; a name over 256 bytes
    or with a control character raises ValueError naming it.

    Inside a job the points go to $PADDLE_CLOUD_JOB_DIR/board/. Outside a job, with a server configured
    (PADDLE_CLOUD_URL and PADDLE_CLOUD_TOKEN, or `paddlecloud login`), to a standalone run created on
    the first flush (see board_run), else to ./board/. The call only buffers the points.
    """
    # The hot path: a call site seen before costs two dict lookups; names are resolved once per site.
    frame = _getframe(1)
    code = frame.f_code
    sites = _call_sites.get(id(code))
    site = sites[1].get(frame.f_lasti) if sites is not None else None
    if (site is None or site.board is not _board or len(values) != site.positional or title != site.title
            or (tuple(named) != site.keywords if named else site.keywords)):
        site = _new_site(frame, values, title, named)
    if site.single:
        value = values[0]
        if type(value) is not float:
            value = _to_float(value, site.names[0])
    else:
        value = tuple([_to_float(v, n) for v, n in zip(values + tuple(named.values()), site.names)])
    if step is None:
        step = next(site.counter[0])
    else:
        step = _to_step(step, "draw_board")
        site.counter[0] = itertools.count(step + 1)
    queue = site.queue
    queue.append((site.template, _time(), step, value))
    if len(queue) > MAX_BUFFERED_POINTS:
        site.board.sink.overfull()


_getframe = sys._getframe
_time = time.time
_call_sites = {}    # id(code) -> (code, {instruction offset: _Site}); holding the code keeps its id its own


class _Site:
    """A draw_board call site, as called: its graph, curves and where its points go."""

    __slots__ = ("board", "positional", "title", "keywords", "names", "single", "template", "counter", "queue")

    def __init__(self, board, values, title, named, graph, names, tags):
        self.board = board
        self.positional, self.title, self.keywords = len(values), title, tuple(named)
        self.names = names
        self.single = len(values) == 1 and not named
        self.template = _template_number(tuple(tags))
        self.counter = board.counters.setdefault(graph, [itertools.count()])
        self.queue = board.sink.queue


def _new_site(frame, values, title, named):
    if not values and not named:
        raise ValueError("draw_board needs at least one value: draw_board(cost) or draw_board(loss=cost)")
    board = _board or _default_board()
    site = _Site(board, values, title, named, *_call_site(frame, values, title, named))
    if not values or _source_names(frame, len(values)) is not None:    # fallback names depend on the values
        code = frame.f_code
        sites = _call_sites.get(id(code))
        if sites is None:
            sites = _call_sites[id(code)] = (code, {})
        sites[1][frame.f_lasti] = site
    if not _flusher_started:
        _start_flusher()
    return site


def _call_site(frame, values, title, named):
    """(graph name, curve names, tags as UTF-8) of a call, the names checked."""
    names = _positional_names(frame, values) + list(named)
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise ValueError("draw_board: two curves are named %r; name them with keywords" % duplicate)
    for name in names:
        _check_name(name, "curve")
    graph = ", ".join(names) if title is None else title
    _check_name(graph, "graph")
    return graph, names, [encode_tag(graph, n).encode("utf-8") for n in names]


class LogWriter:
    """VisualDL's writer, writing TensorBoard event files the Paddle Board reads.

    LogWriter(logdir=None): logdir defaults to the job's board folder ($PADDLE_CLOUD_JOB_DIR/board),
    else ./board. add_scalar(tag, value, step, walltime=None) keeps the tag as written: the board
    splits it at the first "/" into graph and curve ("train/loss": graph "train", curve "loss"; "loss":
    graph and curve "loss"), as TensorBoard groups tags. walltime is in seconds since the epoch, or
    in milliseconds as VisualDL takes it (values above 1e11). Points are buffered like draw_board's.
    """

    def __init__(self, logdir=None):
        self.logdir = os.path.abspath(logdir) if logdir else default_board_dir()
        self._file = _EventFile(self.logdir)
        self._templates = {}    # tag -> template number, for tags already checked
        self._closed = False

    @property
    def file_name(self):
        """The event file's path, once the first point was written (None before)."""
        return self._file.path

    def add_scalar(self, tag, value, step, walltime=None):
        if self._closed:
            raise ValueError("add_scalar on a closed LogWriter")
        template = self._templates.get(tag)
        if template is None:
            _check_name(tag, "tag")
            template = self._templates[tag] = _template_number((tag.encode("utf-8"),))
        number = value if type(value) is float else _to_float(value, tag)
        step = step if type(step) is int else _to_step(step, "add_scalar")
        if walltime is None:
            walltime = _time()
        elif walltime > _MS_THRESHOLD:
            walltime = walltime / 1000.0
        self._file.append(template, float(walltime), step, number)

    def flush(self):
        self._file.flush()

    def close(self):
        if not self._closed:
            self._closed = True
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
