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
TensorBoard opens as they are. Outside a job they go to ./board/ for now; standalone runs recorded
through the API come with the server side of the board. The file format, the names and the limits are
docs/board.md ("Board files").

A call only appends to an in-memory buffer; a background thread writes the buffer in batches at least
every second, on flush() and at exit. Standard library only, so it imports in any pod or notebook.
"""
import ast
import atexit
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

__all__ = ["LogWriter", "draw_board", "flush", "crc32c", "encode_tag", "decode_tag", "read_scalars"]

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
    _crc_word_tables = (first_two, last_two)
    return _crc_word_tables


def crc32c(data, crc=0):
    """CRC-32C of `data` (bytes), continuing from `crc`. crc32c(b"123456789") == 0xE3069283."""
    crc ^= 0xFFFFFFFF
    words = len(data) // 4
    if words:
        first, last = _word_tables()
        for word in struct.unpack_from("<%dI" % words, data):
            x = crc ^ word
            crc = first[x & 0xFFFF] ^ last[x >> 16]
    table = _CRC_BYTE
    for byte in data[4 * words:]:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _tfrecord(data):
    length = struct.pack("<Q", len(data))
    return b"".join((length, struct.pack("<I", _masked_crc(length)), data,
                     struct.pack("<I", _masked_crc(data))))

# ---------------------------------------------------------------------------------------------
# Protobuf wire format of exactly the messages written: Event, Summary, Summary.Value
# ---------------------------------------------------------------------------------------------


def _varint(value):
    if 0 <= value < 0x80:
        return bytes((value,))
    value &= 0xFFFFFFFFFFFFFFFF         # int64 as protobuf does: negative numbers take ten bytes
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(key, payload):
    return key + _varint(len(payload)) + payload


def _float32(value):
    # Summary.Value.simple_value is a float: magnitudes beyond its range become infinities.
    if math.isfinite(value) and abs(value) > _FLT_MAX:
        value = math.copysign(math.inf, value)
    return struct.pack("<f", value)


def _scalar_event(wall_time, step, points):
    """Event{wall_time: 1, step: 2, summary: 5 {value: 1 {tag: 1, simple_value: 2}...}}."""
    summary = b"".join(_length_delimited(b"\x0a", _length_delimited(b"\x0a", tag) + b"\x15" + _float32(value))
                       for tag, value in points)
    return (b"\x09" + struct.pack("<d", wall_time) + b"\x10" + _varint(step)
            + _length_delimited(b"\x2a", summary))


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
    the first write with O_EXCL (n counts up past a name that exists). Points wait in `_buffer` as
    (wall_time, step, [(tag bytes, value), ...]) until flush() writes them with one write call."""

    def __init__(self, directory):
        self.directory = directory
        self.path = None
        self._limit = _file_limit()
        self._init_state()
        _registry.add(self)

    def _init_state(self):
        self._lock = threading.Lock()       # the buffer
        self._io_lock = threading.Lock()    # the file; taken before _lock, so batches stay in order
        self._buffer = []
        self._buffered_points = 0
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

    def append(self, wall_time, step, points):
        with self._lock:
            self._buffer.append((wall_time, step, points))
            self._buffered_points += len(points)
            overfull = self._buffered_points > MAX_BUFFERED_POINTS
        _start_flusher()
        if overfull:
            self.flush()

    def flush(self):
        with self._io_lock:
            with self._lock:
                batch, self._buffer, self._buffered_points = self._buffer, [], 0
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
        data = bytearray()
        if self._fd is None:
            try:
                self._open()
            except OSError as e:
                return self._fail("cannot create an event file in %s: %s" % (self.directory, e))
            data += _tfrecord(_file_version_event(time.time()))
        for wall_time, step, points in batch:
            if self._capped:
                break
            record = _tfrecord(_scalar_event(wall_time, step, points))
            if self._size + len(data) + len(record) > self._limit:
                self._capped = True
                sys.stderr.write("paddlecloud.board: %s reached PADDLE_CLOUD_BOARD_LIMIT (%d bytes); "
                                 "later points of this file are dropped\n" % (self.path, self._limit))
                break
            data += record
        view = memoryview(data)
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


_registry = set()   # open event files: the writer thread and exit flush them, closing removes them
_flusher_lock = threading.Lock()
_flusher_wake = threading.Event()
_flusher_started = False


def _flush_all():
    for event_file in list(_registry):
        event_file.flush()


def _flusher_loop():
    while True:
        _flusher_wake.wait(FLUSH_INTERVAL_S)
        _flusher_wake.clear()
        _flush_all()


def _start_flusher():
    global _flusher_started
    if _flusher_started:
        return
    with _flusher_lock:
        if not _flusher_started:
            threading.Thread(target=_flusher_loop, name="paddlecloud-board", daemon=True).start()
            _flusher_started = True


def flush():
    """Writes every point buffered so far by draw_board and the LogWriters of this process."""
    _flush_all()


def _after_fork_in_child():
    global _flusher_started, _flusher_lock, _board
    _flusher_started = False
    _flusher_lock = threading.Lock()
    for event_file in list(_registry):
        event_file.after_fork_in_child()
    _board = None


atexit.register(_flush_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

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
    """What draw_board writes to in this process: one event file and a step counter per graph."""

    def __init__(self, directory):
        self.file = _EventFile(directory)
        self.next_step = {}
        self.lock = threading.Lock()


_board = None
_board_lock = threading.Lock()


def _default_board():
    global _board
    board = _board
    if board is None:
        with _board_lock:
            if _board is None:
                _board = _Board(default_board_dir())
            board = _board
    return board


def _close_default_board():
    """Writes and closes draw_board's file; the next call opens a new one (tests, notebooks)."""
    global _board
    with _board_lock:
        board, _board = _board, None
    if board is not None:
        board.file.close()


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

    Inside a job the points go to $PADDLE_CLOUD_JOB_DIR/board/, outside a job to ./board/ (standalone
    runs through the API come with the server side of the board). The call only buffers the points.
    """
    if not values and not named:
        raise ValueError("draw_board needs at least one value: draw_board(cost) or draw_board(loss=cost)")
    frame = sys._getframe(1)
    key = (frame.f_code, frame.f_lasti, len(values), title, tuple(named))
    site = _call_sites.get(key)
    if site is None:
        site = _call_site(frame, values, title, named)
        if _source_names(frame, len(values)) is not None:    # fallback names depend on the values
            _call_sites[key] = site
    graph, names, tags = site
    numbers_ = [_to_float(v, n) for v, n in zip(values + tuple(named.values()), names)]
    wall_time = time.time()
    board = _board or _default_board()
    with board.lock:
        point_step = board.next_step.get(graph, 0) if step is None else _to_step(step, "draw_board")
        board.next_step[graph] = point_step + 1
    board.file.append(wall_time, point_step, list(zip(tags, numbers_)))


_call_sites = {}    # (code, instruction, positional count, title, keyword names) -> _call_site(...)


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
        self._closed = False

    @property
    def file_name(self):
        """The event file's path, once the first point was written (None before)."""
        return self._file.path

    def add_scalar(self, tag, value, step, walltime=None):
        if self._closed:
            raise ValueError("add_scalar on a closed LogWriter")
        _check_name(tag, "tag")
        number = _to_float(value, tag)
        step = _to_step(step, "add_scalar")
        if walltime is None:
            walltime = time.time()
        elif walltime > _MS_THRESHOLD:
            walltime = walltime / 1000.0
        self._file.append(float(walltime), step, [(tag.encode("utf-8"), number)])

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
