"""Each file's encoding, detected from its bytes (or taken from the config), and its rows read
through DuckDB with every character intact."""

from __future__ import annotations

import codecs
import textwrap
from pathlib import Path

import pytest

from funnel.config import load_config
from funnel.encodings import FileEncoding, detect, readable
from funnel.errors import ConfigError
from funnel.extract import extract_files

TEXT = "id,name\n1,José Müller\n2,Zoë “Ann” – 5 €\n3,Ørsted\n"
ROWS = [("1", "José Müller"), ("2", "Zoë “Ann” – 5 €"), ("3", "Ørsted")]


def write(tmp_path: Path, data: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "label", "duckdb"),
    [
        (TEXT.encode("utf-8"), "utf-8 (detected)", "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8 BOM (detected)", "utf-8"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16 BOM (detected)", "utf-16"),
        # DuckDB reads no big-endian UTF-16: a UTF-8 copy
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16 BOM (detected)", None),
        # € “ ” – are bytes 0x80-0x9F, which Latin-1 does not have: a UTF-8 copy
        (TEXT.encode("cp1252"), "windows-1252 (detected)", None),
    ],
)
def test_detected_per_file_and_read_intact(
    tmp_path: Path, data: bytes, label: str, duckdb: str | None
) -> None:
    path = write(tmp_path, data)
    found = detect(path, None)
    assert (found.label, found.duckdb) == (label, duckdb)
    (tmp_path / "funnel.toml").write_text(
        '[[sources]]\nname = "s"\nentity = "leads"\npath = "f.csv"\n'
        '[sources.columns]\nlead_id = "id"\n'
    )
    config = load_config(tmp_path / "funnel.toml")
    extract = extract_files(config, config.sources[0])
    assert extract.rows.select("id", "name").rows() == ROWS
    assert extract.rows.get_column("_line").to_list() == [2, 3, 4]
    assert extract.encoding == label


def test_single_byte_text_without_windows_only_bytes_is_read_as_it_is(tmp_path: Path) -> None:
    """Latin-1 and Windows-1252 agree on every byte but 0x80-0x9F: without those DuckDB reads
    the file itself (no copy), and the 5 bytes Windows-1252 leaves undefined read as Latin-1."""
    path = write(tmp_path, "id,name\n1,José Ørsted\n".encode("latin-1"))
    assert detect(path, None) == FileEncoding("windows-1252", "detected")
    assert detect(path, None).duckdb == "latin-1"
    undefined = write(tmp_path, b"id,name\n1,a\x81b\x9dc\n", "u.csv")
    found = detect(undefined, None)
    with readable(undefined, found) as copy:
        assert copy != undefined
        assert copy.read_text(encoding="utf-8") == "id,name\n1,a\x81b\x9dc\n"
    assert not copy.exists()  # the copy goes once read


def test_the_preset_names_its_export_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, TEXT.encode("cp1252"))
    found = detect(path, None, ("windows-1252", "Salesforce Data Export default"))
    assert found.label == "windows-1252 (Salesforce Data Export default)"
    # bytes that are UTF-8 stay UTF-8, whatever the preset's default
    utf8 = write(tmp_path, TEXT.encode("utf-8"), "u.csv")
    assert detect(utf8, None, ("windows-1252", "Salesforce Data Export default")).name == "utf-8"


def test_the_config_wins_and_a_wrong_utf8_names_file_line_and_byte(tmp_path: Path) -> None:
    path = write(tmp_path, TEXT.encode("cp1252"))
    assert detect(path, "windows-1252").label == "windows-1252 (config)"
    assert detect(path, "latin-1").label == "latin-1 (config)"
    with pytest.raises(ConfigError) as err:
        detect(path, "utf-8")
    assert str(err.value) == (
        f"{path}: not readable as utf-8 (the source's `encoding`): line 2 holds byte 0xe9,"
        " which is not UTF-8; set the file's real encoding (e.g. windows-1252), or remove"
        " `encoding` to detect it"
    )


def test_config_accepts_windows_1252_and_leaves_encoding_to_detection(tmp_path: Path) -> None:
    cfg = tmp_path / "funnel.toml"
    body = '[[sources]]\nname = "s"\nentity = "leads"\npath = "f.csv"\n'
    cfg.write_text(body)
    assert load_config(cfg).sources[0].encoding is None
    cfg.write_text(body + 'encoding = "CP1252"\n')
    assert load_config(cfg).sources[0].encoding == "windows-1252"
    cfg.write_text(body + 'encoding = "ebcdic"\n')
    with pytest.raises(ConfigError, match=r"sources\[s\]\.encoding: encoding 'ebcdic'"):
        load_config(cfg)


def test_a_multibyte_character_split_across_read_chunks_is_still_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import funnel.encodings as enc

    monkeypatch.setattr(enc, "CHUNK", 7)  # "id,name\n" splits the é of José in two
    path = write(tmp_path, textwrap.dedent(TEXT).encode("utf-8"))
    assert detect(path, None).name == "utf-8"
