"""Which text encoding a CSV file is in, and a file DuckDB can read its rows from.

CRMs write exports in the encoding their user (or their defaults) chose: UTF-8 with or without
a byte-order mark, UTF-16 with one (Excel's "Unicode text"), or Windows-1252 (Salesforce's Data
Export default, which its settings call ISO-8859-1). DuckDB's CSV reader reads UTF-8, UTF-16
little-endian and Latin-1 only, so a file it cannot read as it is gets a UTF-8 copy first.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from funnel.errors import ConfigError

#: Bytes read at a time while scanning or copying a file.
CHUNK = 1 << 24
#: Where Windows-1252 and Latin-1 differ: Windows-1252 has letters and signs here (€ ‘ ’ “ ” –),
#: Latin-1 control characters that DuckDB refuses.
C1_BYTES = bytes(range(0x80, 0xA0))
#: The single-byte encodings: a file in one of them is read by Windows-1252's rules, which
#: agree with Latin-1 on every printable character.
SINGLE_BYTE = ("windows-1252", "latin-1")
#: The encoding of a file that is not UTF-8 and names no other by a byte-order mark.
FALLBACK = "windows-1252"
#: Python's codec error handler for the five bytes Windows-1252 leaves undefined (0x81, 0x8D,
#: 0x8F, 0x90, 0x9D): they read as the Latin-1 character of the same number, as browsers do.
UNDEFINED_AS_LATIN1 = "funnel-undefined-as-latin-1"


def _undefined_as_latin1(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(UNDEFINED_AS_LATIN1, _undefined_as_latin1)


@dataclass(frozen=True)
class FileEncoding:
    """How one file's bytes are text."""

    #: utf-8, utf-16, windows-1252 or latin-1.
    name: str
    #: config (the source's `encoding`), detected, or the preset whose default it is.
    origin: str
    #: The file starts with a byte-order mark.
    bom: bool = False
    #: UTF-16 stored big-endian (DuckDB reads only little-endian).
    big_endian: bool = False
    #: The file holds bytes 0x80-0x9F, which DuckDB's Latin-1 reader refuses.
    has_c1: bool = False

    @property
    def label(self) -> str:
        """What the run log says, e.g. 'windows-1252 (detected)', 'utf-8 BOM (config)'."""
        return f"{self.name}{' BOM' if self.bom else ''} ({self.origin})"

    @property
    def python_codec(self) -> str:
        """The codec Python's csv reader opens the file with (a UTF-8 BOM stripped)."""
        if self.name == "utf-8":
            return "utf-8-sig"
        if self.name in SINGLE_BYTE:
            return "cp1252"
        return "utf-16"

    @property
    def python_errors(self) -> str:
        return UNDEFINED_AS_LATIN1 if self.name in SINGLE_BYTE else "strict"

    @property
    def duckdb(self) -> str | None:
        """The encoding DuckDB reads the file in as it is; None when it needs a UTF-8 copy."""
        if self.name == "utf-8":
            return "utf-8"
        if self.name == "utf-16":
            return None if self.big_endian else "utf-16"
        return None if self.has_c1 else "latin-1"


@dataclass(frozen=True)
class _Scan:
    utf8: bool
    #: Offset of the first byte that is not UTF-8 (when `utf8` is false).
    bad_offset: int | None
    has_c1: bool


def _scan(path: Path) -> _Scan:
    """Is the file UTF-8, and (only when it is not) does it hold bytes 0x80-0x9F? A UTF-8 file
    is read once; another one is read again from the start for those bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                return _Scan(False, offset + e.start, _has_c1(path))
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _Scan(False, offset, _has_c1(path))
    return _Scan(True, None, False)


def _has_c1(path: Path) -> bool:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if len(chunk.translate(None, C1_BYTES)) != len(chunk):
                return True
    return False


def _line_of(path: Path, offset: int) -> int:
    """The 1-based line of the byte at `offset`."""
    with path.open("rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def detect(
    path: Path, configured: str | None, fallback: tuple[str, str] | None = None
) -> FileEncoding:
    """The file's encoding: `configured` when given (checked where the bytes can tell), else
    by its byte-order mark, else UTF-8 when its bytes are valid UTF-8, else `fallback` (the
    preset's export encoding and its name), else Windows-1252.

    A file that is not valid UTF-8 while the config says utf-8 is a ConfigError naming the file,
    the line and the byte: DuckDB would otherwise reject its rows one by one.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
    utf8_bom = head.startswith(codecs.BOM_UTF8)
    utf16_bom = head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    big_endian = head[:2] == codecs.BOM_UTF16_BE
    if configured == "utf-16" or (configured is None and utf16_bom):
        return FileEncoding("utf-16", "config" if configured else "detected", utf16_bom, big_endian)
    scan = _scan(path)
    if configured in SINGLE_BYTE:
        return FileEncoding(configured, "config", has_c1=scan.has_c1)
    if configured == "utf-8":
        if not scan.utf8:
            assert scan.bad_offset is not None
            with path.open("rb") as fh:
                fh.seek(scan.bad_offset)
                byte = fh.read(1)
            raise ConfigError(
                f"{path}: not readable as utf-8 (the source's `encoding`): line "
                f"{_line_of(path, scan.bad_offset)} holds byte 0x{byte.hex()}, which is not "
                "UTF-8; set the file's real encoding (e.g. windows-1252), or remove `encoding` "
                "to detect it"
            )
        return FileEncoding("utf-8", "config", utf8_bom)
    if utf8_bom or scan.utf8:
        return FileEncoding("utf-8", "detected", utf8_bom)
    name, origin = fallback or (FALLBACK, "detected")
    return FileEncoding(name, origin, has_c1=scan.has_c1)


@contextlib.contextmanager
def readable(path: Path, encoding: FileEncoding) -> Iterator[Path]:
    """A path DuckDB can read the file's rows from in `encoding.duckdb` or UTF-8: the file
    itself, or a UTF-8 copy in the temporary folder (removed on exit). Lines stay lines: the
    copy has the same line breaks, so line numbers hold."""
    if encoding.duckdb is not None:
        yield path
        return
    fd, name = tempfile.mkstemp(prefix="funnel-utf8-", suffix=".csv")
    copy = Path(name)
    try:
        decoder = codecs.getincrementaldecoder(encoding.python_codec)(encoding.python_errors)
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            while chunk := src.read(CHUNK):
                out.write(decoder.decode(chunk).encode("utf-8"))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
        yield copy
    finally:
        copy.unlink(missing_ok=True)


def duckdb_encoding(encoding: FileEncoding) -> str:
    """What DuckDB is told the file (or its copy from `readable`) is in."""
    return encoding.duckdb or "utf-8"


def describe(encodings: list[FileEncoding]) -> str | None:
    """A source's encodings for the run log: one label, or each label with its file count."""
    labels = [e.label for e in encodings]
    if not labels:
        return None
    counts = {label: labels.count(label) for label in dict.fromkeys(labels)}
    if len(counts) == 1:
        return labels[0]
    return ", ".join(f"{label} x{n}" for label, n in counts.items())
