"""Reading seed files into ConversationRecords: our `brightrun` format, and the dispatch to the
console-era `training_pairs` format (`consolefiles`) and the training pipeline's
brightrun-lora-v4 shapes (`lorav4files`: the aggregated file, its JSONL, individual files, and
a zip of individual files).

Pure parsing, no database: text in, records out. Every problem becomes one SeedFileError that
names the file and the place (`line 3, column 7`, `training_pairs[2].turn_number`) so the
person holding the file can fix it.

Files come from people and other tools, so the parser bounds what it accepts before anything
reaches the store: the file's size, how deeply its JSON nests, the turns of one conversation,
and values no database column can hold (NUL characters, lone surrogates, infinite numbers).
"""

from __future__ import annotations

import codecs
import io
import json
import math
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from brightrun_gen.domain import lorav4files
from brightrun_gen.domain.consolefiles import parse_console
from brightrun_gen.domain.models import KEY_MAX, NAME_MAX, BrightRunFile, ConversationRecord
from brightrun_gen.domain.seedjson import json_type, loc_path, short, typed_field
from brightrun_gen.errors import SeedFileError

# Our seed files are tens of kilobytes; an export of thousands of conversations a few MB.
MAX_FILE_BYTES = 25 * 1024 * 1024
# Real files nest about six levels deep; the limit keeps every later recursive walk
# (validation, flattening the metadata) far from Python's recursion limit.
MAX_NESTING = 32
# The store's conversation_metadata.key column: metadata is stored as dotted paths.
METADATA_KEY_MAX = 300
# The store's model columns (the importer takes metadata.generation.model as the author).
MODEL_NAME_MAX = 80


def parse_seed_file(path: Path) -> list[ConversationRecord]:
    """Read one seed file (our format or a console-era file) into conversation records."""
    path = Path(path)
    try:
        _check_file(path)
        data = path.read_bytes()
    except OSError as error:
        raise SeedFileError(path.name, "", f"cannot be read: {error.strerror or error}") from None
    if zipfile.is_zipfile(io.BytesIO(data)):
        return _parse_zip(data, path.name)
    return parse_seed_text(_decode_utf8(data, path.name), path.name)


def _parse_zip(data: bytes, name: str) -> list[ConversationRecord]:
    """Every .json file of a zip (lora-v4-individual exports are zips of one file per conversation)."""
    records: list[ConversationRecord] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [i for i in archive.infolist() if i.filename.endswith(".json") and not i.is_dir()]
        if not members:
            raise SeedFileError(name, "", "a zip without .json files")
        for info in sorted(members, key=lambda i: i.filename):
            member = f"{name}:{info.filename}"
            if info.file_size > MAX_FILE_BYTES:  # read only what the header promises to be small
                raise SeedFileError(member, "", f"is {_megabytes(info.file_size)}; a seed file may be at most "
                                                f"{_megabytes(MAX_FILE_BYTES)}")
            records += parse_seed_text(_decode_utf8(archive.read(info), member), member)
    return records


def parse_seed_text(text: str, name: str) -> list[ConversationRecord]:
    """Parse the text of a seed file; `name` is how error messages refer to the file."""
    if len(text) > MAX_FILE_BYTES:
        raise SeedFileError(name, "", f"is {_megabytes(len(text))}; a seed file may be at most "
                                      f"{_megabytes(MAX_FILE_BYTES)}: split it into smaller files")
    text = text.removeprefix("\ufeff")
    if name.endswith(".jsonl") or text.lstrip().startswith('{"_meta"'):
        return _parse_jsonl(text, name)
    document = _load_json(text, name)
    _check_values(document, name)
    if not isinstance(document, dict):
        raise SeedFileError(
            name,
            "top level",
            f"expected a JSON object (with training_pairs, or a brightrun file), "
            f"got {json_type(document)}",
        )
    if document.get("format") == "brightrun":
        return _parse_brightrun(document, name)
    if lorav4files.is_v4(document):
        return _checked(lorav4files.parse_document(document, name), name)
    if "format" in document and "training_pairs" not in document:
        raise SeedFileError(
            name,
            "format",
            f"unknown format {short(document['format'])}: "
            "expected 'brightrun' or a console file with training_pairs",
        )
    return _checked(parse_console(document, name), name)


def _checked(records: list[ConversationRecord], name: str) -> list[ConversationRecord]:
    for record in records:
        _check_metadata(record.metadata, f"conversation {short(record.key)}", name)
    return records


def _parse_jsonl(text: str, name: str) -> list[ConversationRecord]:
    """A brightrun-lora-v4 JSONL file: each non-blank line one JSON value, checked on its own."""
    lines = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = _load_json(line, name)
            _check_values(value, name)
        except SeedFileError as error:  # the place within the line, after the line's number
            where = error.where.removeprefix("line 1, ")
            raise SeedFileError(name, f"line {number}" + (f", {where}" if where else ""), error.reason) from None
        lines.append((number, value))
    return _checked(lorav4files.parse_jsonl(lines, name), name)


# --- text and JSON ---------------------------------------------------------------------------

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_OTHER_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _check_file(path: Path) -> None:
    """A regular file no bigger than MAX_FILE_BYTES, checked before a byte is read."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise SeedFileError(path.name, "", "is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise SeedFileError(path.name, "", f"is {_megabytes(info.st_size)}; a seed file may be at most "
                                           f"{_megabytes(MAX_FILE_BYTES)}: split it into smaller files")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _decode_utf8(data: bytes, name: str) -> str:
    for bom, encoding in _OTHER_ENCODINGS:
        if data.startswith(bom):
            raise SeedFileError(name, "byte 0", f"{encoding} text (it starts with a {encoding} byte order mark); "
                                                "save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        # JSON text never holds a NUL byte, in or out of strings; UTF-16 text is full of them.
        line = data.count(b"\n", 0, nul) + 1
        raise SeedFileError(name, f"byte {nul}", f"a NUL byte (line {line}): not JSON text, perhaps UTF-16 "
                                                 "without a byte order mark; save the file as UTF-8")
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = start + error.start
        line = data.count(b"\n", 0, offset) + 1
        raise SeedFileError(
            name,
            f"byte {offset}",
            f"not UTF-8 text (0x{data[offset]:02x} on line {line}); save the file as UTF-8",
        ) from None


class _NonStandardNumber(Exception):
    pass


def _reject_constant(constant: str) -> Any:
    raise _NonStandardNumber(constant)


def _load_json(text: str, name: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise SeedFileError(name, f"line {error.lineno}, column {error.colno}", error.msg) from None
    except _NonStandardNumber as error:
        # The databases store metadata as JSON, which has no NaN or Infinity.
        raise SeedFileError(name, "", f"{error} is not valid JSON: use null or a number") from None
    except RecursionError:
        raise SeedFileError(name, "", f"nested too deeply: at most {MAX_NESTING} levels of arrays and objects") from None
    except ValueError as error:  # an integer with more digits than Python converts
        raise SeedFileError(name, "", f"a value cannot be read: {error}") from None


def _check_values(document: Any, name: str) -> None:
    """Every value fits the store: bounded nesting, storable text, finite numbers.

    Iterative, so a hostile file cannot exhaust the stack here either.
    """
    stack: list[tuple[Any, tuple, int]] = [(document, (), 1)]
    while stack:
        value, loc, depth = stack.pop()
        if isinstance(value, (dict, list)) and depth > MAX_NESTING:
            raise SeedFileError(name, loc_path(loc), f"nested too deeply: at most {MAX_NESTING} levels "
                                                      "of arrays and objects")
        # Children are pushed in reverse so the first problem in file order is the one reported.
        if isinstance(value, dict):
            for key in value:
                _check_text(key, loc, name, f"key {short(key)}")
            stack.extend((item, loc + (key,), depth + 1) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((value[i], loc + (i,), depth + 1) for i in reversed(range(len(value))))
        elif isinstance(value, str):
            _check_text(value, loc, name, "text")
        elif isinstance(value, float) and not math.isfinite(value):
            raise SeedFileError(name, loc_path(loc), "number too large to store: use a smaller number or a string")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _check_text(text: str, loc: tuple, name: str, what: str) -> None:
    if "\x00" in text:
        raise SeedFileError(name, loc_path(loc), f"the {what} holds a NUL character (\\u0000), "
                                                  "which the database cannot store; remove it")
    if _SURROGATE.search(text):
        raise SeedFileError(name, loc_path(loc), f"the {what} holds an unpaired surrogate (\\ud800-\\udfff), "
                                                  "which is not valid Unicode; remove it")


# --- our format ------------------------------------------------------------------------------


def _parse_brightrun(document: dict, name: str) -> list[ConversationRecord]:
    try:
        records = list(BrightRunFile.model_validate(document).conversations)
    except ValidationError as error:
        raise _validation_error(error, name) from None
    first_with_key: dict[str, int] = {}
    for index, record in enumerate(records):
        earlier = first_with_key.setdefault(record.key, index)
        if earlier != index:
            raise SeedFileError(name, f"conversations[{index}].key",
                                f"duplicate: {short(record.key)} is already conversations[{earlier}]")
        _check_metadata(record.metadata, f"conversations[{index}].metadata", name)
    return records


def _check_metadata(metadata: dict, where: str, name: str) -> None:
    """What the importer reads from metadata has the right shape, and every key fits its column."""
    persona = metadata.get("persona")
    if persona is not None:
        if not isinstance(persona, dict):
            raise SeedFileError(name, f"{where}.persona", f"expected an object, got {json_type(persona)}")
        limits = {"key": KEY_MAX, "name": NAME_MAX, "archetype": NAME_MAX, "background": None}
        for field, limit in limits.items():
            _bounded_text(persona, field, limit, f"{where}.persona", name)
    generation = metadata.get("generation")
    if generation is not None:
        if not isinstance(generation, dict):
            raise SeedFileError(name, f"{where}.generation", f"expected an object, got {json_type(generation)}")
        _bounded_text(generation, "model", MODEL_NAME_MAX, f"{where}.generation", name)
    _check_metadata_keys(metadata, where, name)


def _bounded_text(obj: dict, key: str, limit: int | None, where: str, name: str) -> None:
    value = typed_field(obj, key, str, where, name)
    if value is not None and limit is not None and len(value) > limit:
        raise SeedFileError(name, f"{where}.{key}", f"{len(value)} characters; at most {limit} are allowed")


def _check_metadata_keys(metadata: dict, where: str, name: str) -> None:
    """The dotted paths the store flattens metadata into fit its key column, once each.

    Mirrors store.conversations.flatten: objects always nest, lists only when they hold
    objects or lists (a list of plain values is stored whole). Two annotations can meet on
    one path when a key holds a dot: {"a.b": 1, "a": {"b": 2}}.
    """
    seen: set[str] = set()
    stack: list[tuple[Any, str]] = [(metadata, "")]
    while stack:
        value, prefix = stack.pop()
        if isinstance(value, dict) and value:
            stack.extend((item, f"{prefix}.{key}" if prefix else str(key)) for key, item in value.items())
        elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
            stack.extend((item, f"{prefix}.{i}" if prefix else str(i)) for i, item in enumerate(value))
        else:
            path = prefix or "value"
            if len(path) > METADATA_KEY_MAX:
                raise SeedFileError(name, where, f"the annotation path {short(path)} is {len(path)} characters "
                                                 f"long; at most {METADATA_KEY_MAX} can be stored")
            if path in seen:
                raise SeedFileError(name, where, f"two annotations have the path {short(path)}; "
                                                 "rename the key that holds a dot")
            seen.add(path)


def _validation_error(error: ValidationError, name: str) -> SeedFileError:
    """The first problem pydantic found, at its field path, plus how many more there are."""
    problem = error.errors()[0]
    reason = problem["msg"]
    if problem["type"] != "missing" and isinstance(problem.get("input"), (str, int, float)):
        reason += f" (got {short(problem['input'])})"
    more = error.error_count() - 1
    if more:
        reason += f"; {more} more problem{'s' if more > 1 else ''} after this one"
    return SeedFileError(name, loc_path(problem["loc"]), reason)
